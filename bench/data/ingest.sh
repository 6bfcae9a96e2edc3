#!/usr/bin/env bash
# Ingest benchmark: throughput on a generated ~10M-event CSV, as MB/s and as a ratio to
# `wc -l` over the same file in the same run, and peak memory against the dataset's size;
# then the same file gzipped, which is streamed: its peak memory must stay within the plain
# file's bound (<= 2x the dataset).
# Usage: bench/data/ingest.sh BIN_DIR [WORK_DIR] [CUSTOMERS]
set -euo pipefail
bin=${1:-build/bin}
work=${2:-out/bench-ingest}
customers=${3:-200000}   # about 48 purchases each at the generator's defaults: ~10M events
mkdir -p "$work"

if [ ! -f "$work/raw/purchases.csv" ]; then
  "$bin/audience" generate --customers "$customers" --products 1000 --days 365 --seed 1 --out "$work/raw" --quiet
fi
csv="$work/raw/purchases.csv"
bytes=$(stat -c %s "$csv")
rows=$(($(wc -l < "$csv") - 1))

best() {  # best wall time in seconds of three runs of "$@"
  local b=""
  for _ in 1 2 3; do
    local s e t
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
  done
  echo "$b"
}

wc_s=$(best wc -l "$csv")
rm -rf "$work/ds"
/usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin/audience" ingest --events "$csv" --out "$work/ds" --quiet >/dev/null
read -r ingest_s peak_kb < "$work/time.txt"
ds_bytes=$(du -sb "$work/ds" | cut -f1)
rm -rf "$work/ds_full"
/usr/bin/time -f '%e %M' -o "$work/time_full.txt" "$bin/audience" ingest --events "$csv" \
  --products "$work/raw/products.csv" --customers "$work/raw/customers.csv" --out "$work/ds_full" --quiet >/dev/null
read -r full_s full_kb < "$work/time_full.txt"
full_bytes=$(du -sb "$work/ds_full" | cut -f1)

gz="$work/raw/purchases.csv.gz"
if [ ! -f "$gz" ]; then gzip -c "$csv" > "$gz"; fi
gz_bytes=$(stat -c %s "$gz")
rm -rf "$work/ds_gz"
/usr/bin/time -f '%e %M' -o "$work/time_gz.txt" "$bin/audience" ingest --events "$gz" --out "$work/ds_gz" --quiet >/dev/null
read -r gz_s gz_kb < "$work/time_gz.txt"
gz_ds_bytes=$(du -sb "$work/ds_gz" | cut -f1)
if ! cmp -s "$work/ds/events.time.i64" "$work/ds_gz/events.time.i64"; then echo "gzip ingest differs from plain" >&2; exit 1; fi

mbps() { echo "scale=1; $bytes / 1000000 / $1" | bc -l; }
echo "file: $csv, $rows events, $((bytes / 1000000)) MB"
printf '| run | seconds | MB/s | ratio to wc -l | peak RSS MB | dataset MB | peak / dataset |\n|---|---|---|---|---|---|---|\n'
printf '| wc -l | %.3f | %s | 1 | | | |\n' "$wc_s" "$(mbps "$wc_s")"
printf '| ingest events only | %.2f | %s | %.4f | %d | %d | %.2f |\n' "$ingest_s" "$(mbps "$ingest_s")" \
  "$(echo "$wc_s / $ingest_s" | bc -l)" $((peak_kb / 1024)) $((ds_bytes / 1048576)) \
  "$(echo "$peak_kb * 1024 / $ds_bytes" | bc -l)"
printf '| ingest events + products + customers | %.2f | %s | %.4f | %d | %d | %.2f |\n' "$full_s" "$(mbps "$full_s")" \
  "$(echo "$wc_s / $full_s" | bc -l)" $((full_kb / 1024)) $((full_bytes / 1048576)) \
  "$(echo "$full_kb * 1024 / $full_bytes" | bc -l)"
printf '| ingest events only, gzip (%d MB compressed) | %.2f | %s | %.4f | %d | %d | %.2f |\n' $((gz_bytes / 1000000)) \
  "$gz_s" "$(mbps "$gz_s")" "$(echo "$wc_s / $gz_s" | bc -l)" $((gz_kb / 1024)) $((gz_ds_bytes / 1048576)) \
  "$(echo "$gz_kb * 1024 / $gz_ds_bytes" | bc -l)"
