#!/usr/bin/env bash
# Report benchmark: `audience report` for 1M customers, 20 campaigns and ~10M later purchases
# (aim: <= 60 s on 2 cores). The purchases are `audience generate`'s for 1M customers over 75
# days; the dataset is ingested from the same files; the plan directory and the sends file
# come from make_inputs.py.
# Usage: bench/analytics/report.sh BIN_DIR [WORK_DIR] [CUSTOMERS] [DAYS]
set -euo pipefail
bin=${1:-build/bin}
work=${2:-out/bench-report}
customers=${3:-1000000}
days=${4:-75}   # ~0.13 purchases per customer and day: ~10M purchases for 1M customers
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"

if [ ! -f "$work/raw/purchases.csv" ]; then
  "$bin/audience" generate --customers "$customers" --products 1000 --days "$days" --seed 3 \
    --truth-customers 0 --out "$work/raw" --quiet
fi
if [ ! -f "$work/ds/dataset.json" ]; then
  "$bin/audience" ingest --events "$work/raw/purchases.csv" --products "$work/raw/products.csv" \
    --customers "$work/raw/customers.csv" --out "$work/ds" --quiet >/dev/null
fi
if [ ! -f "$work/inputs/sends.jsonl" ]; then
  python3 "$here/make_inputs.py" "$work/raw" "$work/inputs"
fi
echo "purchases: $(($(wc -l < "$work/raw/purchases.csv") - 1)) rows; sends: $(wc -l < "$work/inputs/sends.jsonl") records"
echo "load before: $(uptime)"
rm -f "$work/report.html" "$work/report.json"
/usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB peak' "$bin/audience" report --quiet --data "$work/ds" \
  --plan-dir "$work/inputs/plan" --sends "$work/inputs/sends.jsonl" --purchases "$work/raw/purchases.csv" \
  --out "$work/report.html" --json "$work/report.json" >/dev/null
echo "load after: $(uptime)"
