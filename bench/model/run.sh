#!/usr/bin/env bash
# Model benchmarks. Usage: bench/model/run.sh [BIN_DIR] [WORK_DIR]
#   1. completejourney: `audience train` time (the ≤ 60 s budget);
#   2. a generated 1M-customer dataset: scoring one ad-hoc offer for every customer, with
#      the model trained on a 20k-customer dataset of the same generator seed (same catalog),
#      and 20 offers in one ScoreOffers call (the planner's, BM_ScoreOffers);
#   3. `audience train` on the 1M-customer dataset itself (a customer sample) and on a
#      100k-customer one: time and peak memory;
#   4. `audience top-offers`: 25 named offers (offers25.json) for the 1M customers;
#   5. with CF_BENCH_SAMPLE_QUALITY=1, sample against full training on a 50k-customer
#      dataset with truth (bench/sample_quality; about 20 minutes on 2 cores).
# Numbers go to docs/benchmarks-model.md by hand, with the machine they came from.
set -euo pipefail
BIN=${1:-build/bin}
WORK=${2:-out/bench-model}
BENCH=$(dirname "$BIN")/bench
CUSTOMERS=${CF_BENCH_CUSTOMERS:-1000000}
mkdir -p "$WORK"
CJ=../shared/data/completejourney

echo "== completejourney: ingest + train (H = 56)"
rm -rf "$WORK/cj"
"$BIN/audience" ingest --quiet --events $CJ/transactions_sample.csv --products $CJ/products.csv \
  --map customer=household_id,product=product_id,time=transaction_timestamp,quantity=quantity,revenue=sales_value,store=store_id \
  --out "$WORK/cj" >/dev/null
/usr/bin/time -f "train: %e s wall, %U s user, %M KB max RSS" \
  "$BIN/audience" train --quiet --data "$WORK/cj" --horizon 56 --out "$WORK/cj-model"

echo "== generated: $CUSTOMERS customers (scoring) and 20000 customers (training), 1000 products, 120 days"
if [ ! -d "$WORK/big-ds" ]; then
  "$BIN/audience" generate --quiet --customers "$CUSTOMERS" --products 1000 --days 120 --seed 1 --out "$WORK/big"
  "$BIN/audience" ingest --quiet --events "$WORK/big/purchases.csv" --products "$WORK/big/products.csv" \
    --customers "$WORK/big/customers.csv" --out "$WORK/big-ds"
  rm -rf "$WORK/big"
fi
rm -rf "$WORK/small" "$WORK/small-ds"
"$BIN/audience" generate --quiet --customers 20000 --products 1000 --days 120 --seed 1 --out "$WORK/small"
"$BIN/audience" ingest --quiet --events "$WORK/small/purchases.csv" --products "$WORK/small/products.csv" \
  --out "$WORK/small-ds" >/dev/null
/usr/bin/time -f "train (20k customers): %e s wall, %U s user" \
  "$BIN/audience" train --quiet --data "$WORK/small-ds" --horizon 30 --out "$WORK/gen-model"
"$BIN/audience" inspect "$WORK/big-ds" | head -4

echo "== score one ad-hoc offer for every customer (CLI: load, features, trees, CSV)"
/usr/bin/time -f "score: %e s wall, %U s user, %M KB max RSS" \
  "$BIN/audience" score --quiet --data "$WORK/big-ds" --model "$WORK/gen-model" \
  --offer 'department = "GROCERY" and price < 5' --out "$WORK/scores.csv"

echo "== in-process scoring benchmarks (features + trees, no I/O): one offer, then 20 offers in one call"
CF_BENCH_DATA="$WORK/big-ds" CF_BENCH_MODEL="$WORK/gen-model" \
  "$BENCH/model_bench" --benchmark_counters_tabular=true

echo "== train on the 1M-customer dataset itself (rows from a customer sample) and on 100k customers"
/usr/bin/time -f "train (1M customers): %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$BIN/audience" train --quiet --data "$WORK/big-ds" --horizon 30 --out "$WORK/big-model"
if [ ! -d "$WORK/mid-ds" ]; then
  "$BIN/audience" generate --quiet --customers 100000 --products 1000 --days 120 --seed 1 --out "$WORK/mid"
  "$BIN/audience" ingest --quiet --events "$WORK/mid/purchases.csv" --products "$WORK/mid/products.csv" \
    --out "$WORK/mid-ds" >/dev/null
  rm -rf "$WORK/mid"
fi
/usr/bin/time -f "train (100k customers): %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$BIN/audience" train --quiet --data "$WORK/mid-ds" --horizon 30 --out "$WORK/mid-model"

echo "== top-offers: 25 named offers, the best 4 of every customer"
/usr/bin/time -f "top-offers: %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$BIN/audience" top-offers --quiet --data "$WORK/big-ds" --model "$WORK/gen-model" \
  --offers "$(dirname "$0")/offers25.json" --top 4 --out "$WORK/top-offers.csv" --log-level debug

if [ "${CF_BENCH_SAMPLE_QUALITY:-0}" = 1 ]; then
  echo "== training on a customer sample against every customer, 50k customers with truth"
  if [ ! -d "$WORK/q50k-ds" ]; then
    "$BIN/audience" generate --quiet --customers 50000 --products 1000 --days 120 --seed 2 --out "$WORK/q50k"
    "$BIN/audience" ingest --quiet --events "$WORK/q50k/purchases.csv" --products "$WORK/q50k/products.csv" \
      --out "$WORK/q50k-ds" >/dev/null
  fi
  "$BENCH/sample_quality" "$WORK/q50k-ds" "$WORK/q50k" 0 20000 10000
fi
