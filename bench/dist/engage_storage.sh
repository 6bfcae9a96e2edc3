#!/usr/bin/env bash
# engage's storage per profile and per cohort member, on SQLite (docs/scaling.md): imports
# USERS profiles (external_id + 3 attributes), then puts all of them in one cohort and half of
# them in a second, through a real `engage serve`, and prints the store's size after each step
# (engage.db + WAL, the server stopped so the WAL is checkpointed).
# Usage: bench/dist/engage_storage.sh [BIN_DIR] [USERS]   (defaults: build/bin 1000000)
set -euo pipefail
bin=${1:-build/bin}
users=${2:-1000000}
dir=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
engage="$bin/engage"
size() { du -cb "$dir"/data/engage.db* | tail -1 | cut -f1; }
start() {
  "$engage" serve --data "$dir/data" --listen 127.0.0.1:0 --log-level warn >"$dir/serve.out" 2>"$dir/serve.err" &
  server=$!
  for _ in $(seq 200); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$dir/serve.out")
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=; }

"$engage" api-key create --data "$dir/data" --name bench --quiet >/dev/null
partner_key=$("$engage" partner add --data "$dir/data" --partner tinyclues --quiet | tail -1)
secret=$("$engage" partner key generate --data "$dir/data" --partner tinyclues --quiet | tail -1)
empty=$(size)
awk -v n="$users" 'BEGIN { print "external_id,tier,city,signup"; for (i = 0; i < n; i++) printf "u%d,gold,c%d,2026-0%d-1%d\n", i, i % 500, 1 + i % 9, i % 10 }' >"$dir/users.csv"
"$engage" users import --data "$dir/data" --csv "$dir/users.csv" --batch-rows 10000 --quiet >/dev/null
profiles=$(size)
start
cohort() {  # cohort id, first user, step
  curl -sf "$url/partners/tinyclues/cohorts" -H 'Content-Type: application/json' \
    -d "{\"partner_api_key\":\"$partner_key\",\"client_secret\":\"$secret\",\"cohort_id\":\"$1\",\"name\":\"$1\",\"created_at\":\"2026-12-01T00:00:00Z\"}" >/dev/null
  awk -v n="$users" -v s="$3" -v c="$1" -v k="$partner_key" -v sec="$secret" 'BEGIN {
    per = 1000  # Braze takes at most 1,000 identifiers per request
    for (b = 0; b * per * s < n; b++) {
      printf "{\"partner_api_key\":\"%s\",\"client_secret\":\"%s\",\"cohort_id\":\"%s\",\"cohort_changes\":[{\"user_ids\":[", k, sec, c
      first = 1
      for (i = b * per * s; i < (b + 1) * per * s && i < n; i += s) { printf "%s\"u%d\"", first ? "" : ",", i; first = 0 }
      print "]}]}"
    }
  }' | while read -r body; do
    curl -sf "$url/partners/tinyclues/cohorts/users" -H 'Content-Type: application/json' -d "$body" >/dev/null
  done
}
cohort all 0 1
stop
one=$(size)
start
cohort half 0 2
stop
two=$(size)
awk -v n="$users" -v e="$empty" -v p="$profiles" -v a="$one" -v b="$two" 'BEGIN {
  printf "| store | bytes | per |\n|---|---|---|\n"
  printf "| empty | %d | |\n", e
  printf "| + %d profiles | %d | %.0f bytes per profile |\n", n, p, (p - e) / n
  printf "| + cohort of all %d | %d | %.2f bytes per member |\n", n, a, (a - p) / n
  printf "| + cohort of every other one | %d | %.2f bytes per member |\n", b, (b - a) / (n / 2)
}'
