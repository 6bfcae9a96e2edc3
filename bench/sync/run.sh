#!/usr/bin/env bash
# audience export of 1M identifiers to engage on loopback, against engage's own import, same run.
# Usage: bench/sync/run.sh [BIN_DIR] [export_bench flags...]   (BIN_DIR default: build/bin)
set -euo pipefail
bin=${1:-build/bin}
shift || true
build=$(dirname "$bin")
ninja -C "$build" -j2 engage audience export_bench >&2
CF_BIN_DIR="$bin" exec "$build/bench/export_bench" "$@"
