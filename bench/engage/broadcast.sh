#!/usr/bin/env bash
# A broadcast send to a 1M-user segment with the store adapter: sends/s of
# POST /campaigns/trigger/send, then of the same send retried with its send_id (every user already
# decided: only the lookups), and the sends feed (GET /campaigns/sends) in records/s.
# Usage: bench/engage/broadcast.sh [BIN_DIR] [USERS]   (defaults: build/bin 1000000)
# Not part of ctest: building the profiles takes a minute or two.
set -euo pipefail
bin=${1:-build/bin}
users=${2:-1000000}
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
engage="$bin/engage"
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

awk -v n="$users" 'BEGIN { print "external_id,tier"; for (i = 0; i < n; i++) printf "u%d,gold\n", i }' >"$dir/users.csv"
key=$("$engage" api-key create --data "$dir/data" --name bench --quiet | tail -1)
t0=$(now)
"$engage" users import --data "$dir/data" --csv "$dir/users.csv" --batch-rows 10000 --quiet >/dev/null
t1=$(now)
echo "profiles: $users imported in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2

"$engage" serve --data "$dir/data" --listen 127.0.0.1:0 --log-level warn >"$dir/serve.out" 2>"$dir/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$dir/serve.out")
auth="Authorization: Bearer $key"
segment=$(curl -sf "$url/segments/create" -H "$auth" \
  -d '{"name":"gold","filter":{"custom_attribute":{"name":"tier","comparison":"equals","value":"gold"}}}' |
  sed 's/.*"segment_id":"\([^"]*\)".*/\1/')
campaign=$("$engage" campaign create --data "$dir/data" --name "Broadcast" --segment-id "$segment" --channel email \
  --control-share 0.05 --quiet | tail -1)
"$engage" frequency-cap set --data "$dir/data" --channel email --max 3 --days 7 --quiet >/dev/null

body="{\"campaign_id\":\"$campaign\",\"send_id\":\"bench\",\"broadcast\":true}"
t0=$(now)
first=$(curl -sf --max-time 3600 "$url/campaigns/trigger/send" -H "$auth" -d "$body")
t1=$(now)
again=$(curl -sf --max-time 3600 "$url/campaigns/trigger/send" -H "$auth" -d "$body")
t2=$(now)
lines=$(curl -sf --max-time 3600 "$url/campaigns/sends?campaign_id=$campaign" -H "$auth" | wc -l)
t3=$(now)
echo "answer: $first" >&2
[ "$first" = "$again" ] || echo "the retry answered differently: $again" >&2
echo "| what | records | records/s |"
echo "|---|---|---|"
echo "| broadcast (decide + record, control group 5%, email cap 3/7 days) | $users | $(rate "$users" "$t0" "$t1") |"
echo "| the same send_id again (every user already decided) | $users | $(rate "$users" "$t1" "$t2") |"
echo "| GET /campaigns/sends (JSON Lines) | $lines | $(rate "$lines" "$t2" "$t3") |"
