#!/usr/bin/env bash
# Runs the engage benchmarks and prints a Markdown table.
# Usage: bench/engage/run.sh [BIN_DIR] [engage_bench flags...]   (BIN_DIR default: build/bin)
set -euo pipefail
bin=${1:-build/bin}
shift || true
build=$(dirname "$bin")
ninja -C "$build" -j2 engage engage_bench >&2
CF_BIN_DIR="$bin" exec "$build/bench/engage_bench" "$@"
