#!/usr/bin/env bash
# The long crash test: `kill -9`s the daemon at 50 random moments (or $1) while torrents
# download from local libtorrent seeders, then checks nothing was lost or re-downloaded.
# Replay a failure with TROVE_CRASH_SEED=<seed printed by the failing run>.
set -euo pipefail
cd "$(dirname "$0")/.."
TROVE_CRASH_ROUNDS="${1:-50}" cargo test --release --test reliability crash_anywhere_loses_nothing -- --nocapture
