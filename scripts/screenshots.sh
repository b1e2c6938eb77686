#!/usr/bin/env bash
# Regenerates screenshots/*.png from a real run of trove (see scripts/screenshots.py).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need+=(python3-libtorrent)
for c in tmux aha chromium; do command -v $c >/dev/null || need+=($c); done
fc-list 2>/dev/null | grep -qi "DejaVu Sans Mono" || need+=(fonts-dejavu-core)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
cargo build --release
/usr/bin/python3 scripts/screenshots.py
