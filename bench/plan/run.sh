#!/usr/bin/env bash
# Plan benchmarks. Usage: bench/plan/run.sh [BIN_DIR] [WORK_DIR]
#   SelectCustomers, the opt-in check and RankedAudience (curve, volume sizes) over
#   CF_BENCH_CUSTOMERS customers (default 1M) of an ingested dataset.
set -euo pipefail
BIN=${1:-build/bin}
WORK=${2:-out/bench-plan}
BENCH=$(dirname "$BIN")/bench
"$BENCH/plan_bench" "${CF_BENCH_CUSTOMERS:-1000000}" "$WORK"
