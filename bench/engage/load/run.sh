#!/usr/bin/env bash
# engage under load: a real `engage serve` on a fresh temporary store, seeded with profiles,
# then Debian's wrk (loopback only, keep-alive, 2 threads) against /users/track, cohort import
# and /users/export/ids at a few connection counts, each for a bounded time. Prints a Markdown
# table of throughput and p50/p99 latency (wrk --latency; closed loop, so the latencies are
# those of clients that wait for each answer, not of an open arrival rate).
# Usage: bench/engage/load/run.sh [BIN_DIR]   (BIN_DIR default: build/bin)
#   DURATION=10s CONNECTIONS="4 16 64" PROFILES=50000 ENDPOINTS="track cohort export"
set -euo pipefail
bin=${1:-build/bin}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-4 16 64}
endpoints=${ENDPOINTS:-track cohort export}
here=$(cd "$(dirname "$0")" && pwd)
build=$(dirname "$bin")
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk (scripts/install-deps)" >&2; exit 1; }
[ -f "$build/build.ninja" ] && ninja -C "$build" -j2 engage >&2

dir=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

engage() { "$bin/engage" "$@" --data "$dir/store" --quiet; }
export CF_API_KEY CF_PARTNER_KEY CF_CLIENT_SECRET CF_PROFILES=${PROFILES:-50000} CF_RUN_NAME
CF_API_KEY=$(engage api-key create --name load | tail -1)
CF_PARTNER_KEY=$(engage partner add --partner tinyclues | tail -1)
CF_CLIENT_SECRET=$(engage partner key generate --partner tinyclues | tail -1)
# The load measures the server, not its limits: every endpoint of the workspace unthrottled.
engage rate-limit set --endpoint '*' --limit 1000000000 --window-seconds 60 >/dev/null

"$bin/engage" serve --data "$dir/store" --listen 127.0.0.1:0 --log-level error >"$dir/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q '^listening on' "$dir/serve.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$dir/serve.out" | head -1)
[ -n "$url" ] || { echo "engage serve did not start:" >&2; cat "$dir/serve.out" >&2; exit 1; }

# Seeding: profiles u0 .. u(PROFILES-1), 75 per /users/track request on one keep-alive connection.
python3 - "$url" <<'PY'
import http.client, json, os, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
conn = http.client.HTTPConnection(u.hostname, u.port)
n = int(os.environ["CF_PROFILES"])
headers = {"Authorization": "Bearer " + os.environ["CF_API_KEY"], "Content-Type": "application/json"}
for start in range(0, n, 75):
    body = {"attributes": [{"external_id": f"u{i}", "seeded": True} for i in range(start, min(n, start + 75))]}
    conn.request("POST", "/users/track", json.dumps(body), headers)
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        sys.exit(f"seeding: /users/track answered {r.status}")
PY
last=$((CF_PROFILES - 1))
found=$(curl -s -X POST "$url/users/export/ids" -H "Authorization: Bearer $CF_API_KEY" \
  -H 'Content-Type: application/json' -d "{\"external_ids\":[\"u0\",\"u$last\"]}" | grep -o '"external_id"' | wc -l)
[ "$found" -eq 2 ] || { echo "seeding did not create u0 .. u$last" >&2; exit 1; }

echo "engage under load: $CF_PROFILES profiles, wrk -t2 for $duration per run, $(nproc) cores, load before: $(uptime | sed 's/.*load average: //')"
echo
echo "| endpoint | connections | requests/s | p50 ms | p99 ms | max ms | non-2xx | socket errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for e in $endpoints; do
  for c in $connections; do
    CF_RUN_NAME=$e
    out=$(wrk -t2 -c"$c" -d"$duration" --latency -s "$here/$e.lua" "$url")
    echo "$out" >>"$dir/wrk.log"
    read -r _ _ rps p50 p99 max non2xx errors < <(grep '^RESULT ' <<<"$out")
    echo "| $e | $c | $rps | $p50 | $p99 | $max | $non2xx | $errors |"
  done
done
