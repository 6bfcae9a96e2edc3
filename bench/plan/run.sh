#!/usr/bin/env bash
# Allocation benchmarks. Usage: bench/plan/run.sh [BIN_DIR]
#   1. the fast solver on 20 campaigns x 1M customers (about 16M candidates), 2 threads;
#   2. exact against fast on a mid-size plan (10 campaigns x 2000 customers, 16k candidates).
# The generator and the rules are described at the top of bench/plan/plan_bench.cc. Numbers go
# to docs/benchmarks.md by hand, with the machine's load (uptime) at the time.
set -euo pipefail
BIN=${1:-build/bin}
BENCH=$(dirname "$BIN")/bench
CUSTOMERS=${CF_BENCH_CUSTOMERS:-1000000}
uptime
echo "== fast: 20 campaigns x $CUSTOMERS customers, 2 threads"
/usr/bin/time -f "plan_bench: %e s wall, %M KB max RSS (generation and the violation check included)" \
  "$BENCH/plan_bench" "$CUSTOMERS" 20 fast 2
echo "== exact vs fast: 10 campaigns x 2000 customers"
"$BENCH/plan_bench" 2000 10 both 2
