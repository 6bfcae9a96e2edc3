#!/usr/bin/env bash
# Runs a command and prints, on stderr, the peak anonymous memory (RssAnon: the heap and other
# private pages, which must fit in RAM) of its `audience` processes: the largest single process
# (a rank), each process's own peak (in start order), and all of them at once. Peak RSS (`/usr/bin/time`'s %M) also counts the dataset's
# memory-mapped pages, which are page cache: shared by the ranks of one machine and evictable.
# Usage: bench/dist/anon_peak.sh CMD [ARGS...]   (sampled every 50 ms; Linux /proc)
set -uo pipefail
setsid "$@" &
session=$!
declare -A peak=()
order=()
one=0
all=0
while kill -0 "$session" 2>/dev/null; do
  sum=0
  for pid in $(pgrep -s "$session" -x audience); do
    kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    kb=${kb:-0}
    sum=$((sum + kb))
    [ -n "${peak[$pid]+x}" ] || { peak[$pid]=0; order+=("$pid"); }
    [ "$kb" -gt "${peak[$pid]}" ] && peak[$pid]=$kb
    [ "$kb" -gt "$one" ] && one=$kb
  done
  [ "$sum" -gt "$all" ] && all=$sum
  sleep 0.05
done
wait "$session"
rc=$?
each=""
for pid in "${order[@]}"; do each+=" $((peak[$pid] / 1024))"; done
echo "peak anonymous memory: $((one / 1024)) MB per process (each:$each MB), $((all / 1024)) MB all processes" >&2
exit $rc
