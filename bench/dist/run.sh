#!/usr/bin/env bash
# audience under mpirun against one process, and what 100M customers would need
# (docs/scaling.md). Usage: bench/dist/run.sh [BIN_DIR] [WORK_DIR]
#   For each size in CF_BENCH_SIZES (default "1000000 5000000"): a generated dataset
#   (1000 products, 120 days, seed 1) and the model of bench/model (trained on 20k customers of
#   the same seed), then `score`, `top-offers` (25 offers) and `plan` (the 20 campaigns of
#   bench/plan/whole_plan.sh, fast solver) as one process and as `mpirun -np 2 --threads 1`: wall time, peak
#   memory per rank, peak anonymous memory per rank (anon_peak.sh: what must fit in RAM, the
#   mapped dataset aside) and the bytes each rank received (the ranks' debug log).
set -euo pipefail
BIN=${1:-build/bin}
WORK=${2:-out/bench-dist}
SIZES=${CF_BENCH_SIZES:-"1000000 5000000"}
HERE=$(cd "$(dirname "$0")" && pwd)
MPIRUN=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np 2)
mkdir -p "$WORK"
TIME="%e s wall, %U s user, %M KB max RSS"
ANON="$HERE/anon_peak.sh"

if [ ! -d "$WORK/model" ]; then
  "$BIN/audience" generate --quiet --customers 20000 --products 1000 --days 120 --seed 1 --out "$WORK/small"
  "$BIN/audience" ingest --quiet --events "$WORK/small/purchases.csv" --products "$WORK/small/products.csv" \
    --out "$WORK/small-ds" >/dev/null
  "$BIN/audience" train --quiet --data "$WORK/small-ds" --horizon 30 --out "$WORK/model"
  rm -rf "$WORK/small"
fi
for n in $SIZES; do
  ds="$WORK/ds-$n"
  if [ ! -d "$ds" ]; then
    "$BIN/audience" generate --quiet --customers "$n" --products 1000 --days 120 --seed 1 --out "$WORK/raw-$n"
    "$BIN/audience" ingest --quiet --events "$WORK/raw-$n/purchases.csv" --products "$WORK/raw-$n/products.csv" \
      --customers "$WORK/raw-$n/customers.csv" --out "$ds" >/dev/null
    rm -rf "$WORK/raw-$n"
  fi
  echo "== $n customers: $(du -sh "$ds" | cut -f1) dataset"
  common=(--data "$ds" --model "$WORK/model")
  offer=(--offer 'department = "GROCERY" and price < 5')
  rm -f "$WORK/s1.csv" "$WORK/s2.csv" "$WORK/t1.csv" "$WORK/t2.csv"
  "$ANON" /usr/bin/time -f "score, 1 process: $TIME" "$BIN/audience" score --quiet "${common[@]}" "${offer[@]}" --out "$WORK/s1.csv"
  "$ANON" /usr/bin/time -f "score, 2 ranks (per rank): $TIME" "${MPIRUN[@]}" "$BIN/audience" score --quiet --threads 1 \
    --log-level debug "${common[@]}" "${offer[@]}" --out "$WORK/s2.csv" 2>&1 | grep -E "received|wall|anonymous" || true
  cmp "$WORK/s1.csv" "$WORK/s2.csv" && echo "score: identical output"
  "$ANON" /usr/bin/time -f "top-offers, 1 process: $TIME" "$BIN/audience" top-offers --quiet "${common[@]}" \
    --offers "$HERE/../model/offers25.json" --top 4 --out "$WORK/t1.csv" >/dev/null
  "$ANON" /usr/bin/time -f "top-offers, 2 ranks (per rank): $TIME" "${MPIRUN[@]}" "$BIN/audience" top-offers --quiet \
    --threads 1 --log-level debug "${common[@]}" --offers "$HERE/../model/offers25.json" --top 4 \
    --out "$WORK/t2.csv" 2>&1 | grep -E "received|wall|anonymous" || true
  cmp "$WORK/t1.csv" "$WORK/t2.csv" && echo "top-offers: identical output"
  rm -f "$WORK/s1.csv" "$WORK/s2.csv" "$WORK/t1.csv" "$WORK/t2.csv"
  # The plan of bench/plan/whole_plan.sh (20 campaigns), then the same plan on 2 ranks.
  rm -rf "$WORK/plan-$n" "$WORK/plan2-$n"
  PREMIUM_PRICE=5 "$ANON" "$HERE/../plan/whole_plan.sh" "$BIN" "$ds" "$WORK/model" "$WORK/plan-$n" fast | grep -v '^ *[0-9:]* up' || true
  "$ANON" /usr/bin/time -f "plan, 2 ranks (per rank): $TIME" "${MPIRUN[@]}" "$BIN/audience" plan --quiet --threads 1 \
    --log-level debug --solver fast "${common[@]}" --plan "$WORK/plan-$n/plan.json" --out "$WORK/plan2-$n" 2>&1 |
    grep -E "received|wall|anonymous" || true
  diff -r "$WORK/plan-$n/plan" "$WORK/plan2-$n" >/dev/null && echo "plan: identical directory"
done
