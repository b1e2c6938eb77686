#!/usr/bin/env bash
# Runs trove's whole test suite: formatting, lints, then every test of every crate in the
# workspace. Installs the Debian packages the tests need when they are missing (real
# BitTorrent peers: python3-libtorrent, opentracker, aria2, transmission-cli; tmux for the
# end-to-end dashboard test).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need+=(python3-libtorrent)
command -v opentracker >/dev/null || need+=(opentracker)
command -v aria2c >/dev/null || need+=(aria2)
command -v transmission-cli >/dev/null || need+=(transmission-cli)
command -v tmux >/dev/null || need+=(tmux)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing test dependencies: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

# The habits the code keeps: formatted, and no lint warnings (unwrap outside tests, pub
# items nothing outside their crate can reach, clippy's defaults).
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings

# Release mode: the tests move real data between real peers, and one build serves both
# the tests and `cargo run --release`.
cargo test --release --workspace "$@"
