#!/usr/bin/env bash
# Runs trove's whole test suite: formatting, lints, then every test of every crate in the
# workspace. Installs the Debian packages the tests need when they are missing (real
# BitTorrent peers: python3-libtorrent, opentracker, aria2, transmission-cli; tmux for the
# end-to-end dashboard test; qbittorrent-nox and python3-venv for the qBittorrent Web API
# conformance test; fuse3 and attr for the `trove mount` tests on a real FUSE mount).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need+=(python3-libtorrent)
command -v opentracker >/dev/null || need+=(opentracker)
command -v aria2c >/dev/null || need+=(aria2)
command -v transmission-cli >/dev/null || need+=(transmission-cli)
command -v tmux >/dev/null || need+=(tmux)
command -v curl >/dev/null || need+=(curl)
command -v qbittorrent-nox >/dev/null || need+=(qbittorrent-nox)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v getfattr >/dev/null || need+=(attr)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing test dependencies: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

# tests/qbit_compat.rs drives qBittorrent and trove with PyPI's qbittorrent-api, from a
# venv kept in target/ (pip runs only when the pinned version is missing).
QBIT_API_VERSION=2026.10.1
venv=target/qbit-venv
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('qbittorrent-api') != '$QBIT_API_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "qbittorrent-api==$QBIT_API_VERSION"
fi
export TROVE_QBIT_PYTHON="$PWD/$venv/bin/python"

# The habits the code keeps: formatted, and no lint warnings (unwrap outside tests, pub
# items nothing outside their crate can reach, clippy's defaults).
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings

# Release mode: the tests move real data between real peers, and one build serves both
# the tests and `cargo run --release`.
cargo test --release --workspace "$@"
