#!/usr/bin/env bash
# Plan benchmarks. Usage: bench/plan/run.sh [BIN_DIR] [WORK_DIR]
#   1. plan_bench: SelectCustomers, the opt-in check and RankedAudience (curve, volume sizes)
#      over CF_BENCH_CUSTOMERS customers (default 1M) of an ingested dataset;
#   2. solver_bench: the fast solver on 20 campaigns x 1M customers (about 16M candidates),
#      2 threads, then exact against fast on a mid-size plan (10 campaigns x 2000 customers).
# The solver's generator and rules are described at the top of bench/plan/solver_bench.cc.
# Numbers go to docs/benchmarks.md by hand, with the machine's load (uptime) at the time.
set -euo pipefail
BIN=${1:-build/bin}
WORK=${2:-out/bench-plan}
BENCH=$(dirname "$BIN")/bench
CUSTOMERS=${CF_BENCH_CUSTOMERS:-1000000}
uptime
echo "== audiences, opt-ins and curves over $CUSTOMERS customers"
"$BENCH/plan_bench" "$CUSTOMERS" "$WORK"
echo "== fast solver: 20 campaigns x $CUSTOMERS customers, 2 threads"
/usr/bin/time -f "solver_bench: %e s wall, %M KB max RSS (generation and the violation check included)" \
  "$BENCH/solver_bench" "$CUSTOMERS" 20 fast 2
echo "== exact vs fast: 10 campaigns x 2000 customers"
"$BENCH/solver_bench" 2000 10 both 2
