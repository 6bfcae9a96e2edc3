#!/usr/bin/env bash
# Runs the engage benchmarks and prints a Markdown table.
# Usage: bench/engage/run.sh [BUILD_DIR] [engage_bench flags...]   (BUILD_DIR default: build)
set -euo pipefail
build=${1:-build}
shift || true
ninja -C "$build" -j2 engage engage_bench >&2
CF_BIN_DIR="$build/bin" exec "$build/bench/engage_bench" "$@"
