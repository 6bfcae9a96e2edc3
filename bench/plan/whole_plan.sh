#!/usr/bin/env bash
# The whole `audience plan` on a large dataset: 20 campaigns on email and push over a week
# under the pressure rules of the example, scoring included.
# Usage: [PREMIUM_PRICE=10] bench/plan/whole_plan.sh BIN_DIR DATASET MODEL WORK_DIR [SOLVER]
# (a dataset and model of 1M customers: audience generate --customers 1000000, ingest, train).
set -euo pipefail
bin=$1 ds=$2 model=$3 work=$4 solver=${5:-auto}
audience="$bin/audience"
mkdir -p "$work"
plan="$work/plan.json"
rm -f "$plan"
"$audience" inspect --json "$ds" >"$work/inspect.json"
mapfile -t categories < <(jq -r '.product_attributes.category.top[].value' "$work/inspect.json")
mapfile -t departments < <(jq -r '.product_attributes.department.top[].value' "$work/inspect.json")
mapfile -t brands < <(jq -r '.product_attributes.brand.top[].value' "$work/inspect.json")
"$audience" campaign init --plan "$plan" --name "Bench week" --start 2026-12-07 --days 7 \
  --pressure "email:max=2/7d" --pressure "any:gap=1d" >/dev/null
channels=(email push)
priorities=(high medium medium low)
volumes=("--fixed 50000" "--capture-share 0.3" "--min-probability 0.05" "--fixed 100000")
n=0
add() {  # $1 name, $2 offer
  local c=${channels[$((n % 2))]} p=${priorities[$((n % 4))]} v=${volumes[$((n % 4))]}
  # shellcheck disable=SC2086
  "$audience" campaign add --plan "$plan" --name "$1" --offer "$2" --channel "$c" \
    --send-date "2026-12-$(printf '%02d' $((7 + n % 7)))" $v --priority "$p" >/dev/null
  n=$((n + 1))
}
for x in "${categories[@]}"; do add "category $x" "category = \"$x\""; done
for x in "${departments[@]}"; do add "department $x" "department = \"$x\""; done
for x in "${brands[@]}"; do add "brand $x" "brand = \"$x\""; done
for x in "${departments[@]}"; do add "premium $x" "department = \"$x\" and price > ${PREMIUM_PRICE:-10}"; done
uptime
/usr/bin/time -f "audience plan: %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$audience" plan --quiet --data "$ds" --model "$model" --plan "$plan" --out "$work/plan" --solver "$solver"
