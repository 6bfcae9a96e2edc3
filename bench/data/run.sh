#!/usr/bin/env bash
# Data-layer benchmarks. Usage: bench/data/run.sh BIN_DIR
set -euo pipefail
bash "$(dirname "$0")/ingest.sh" "${1:-build/bin}" out/bench-ingest
