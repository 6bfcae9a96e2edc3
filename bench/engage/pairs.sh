#!/usr/bin/env bash
# Runs engage_bench against two engage builds in alternated pairs (A B, then B A, ...), so that
# the load of a shared machine and the state of its disk fall on both alike. Prints one line
# per run: round, build, the load average (uptime) before the run, cohort import ids/s, the
# server's CPU seconds, minor page faults and context switches over the import, and
# /users/track profiles/s.
# Usage: bench/engage/pairs.sh BENCH BIN_DIR_A BIN_DIR_B ROUNDS [engage_bench flags...]
#   e.g. bench/engage/pairs.sh build/bench/engage_bench OLD/bin build/bin 10 --track-requests 800
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
bench=$1 a=$2 b=$3 rounds=$4
shift 4
run() {  # round, bin dir, engage_bench flags...
  local round=$1 bin=$2 dir out
  shift 2
  dir=$(mktemp -d)
  sync
  local load
  load=$(uptime | sed 's/.*load average: //')
  out=$(CF_BIN_DIR="$bin" "$bench" --dir "$dir" "$@" 2>/dev/null)
  rm -rf "$dir"
  local import cost track
  import=$(grep '^| cohort import, ' <<<"$out" | sed 's/.*| \([0-9]*\) ids\/s.*/\1/')
  cost=$(grep '^| cohort import: server CPU' <<<"$out" | sed 's/.*| \([0-9.]*\) s, \([0-9]*\), \([0-9]*\) |$/\1\t\2\t\3/')
  track=$(grep '^| /users/track, ' <<<"$out" | sed 's/.*| \([0-9]*\) profiles\/s.*/\1/')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$bin" "$load" "$import" "$cost" "$track"
}
printf 'round\tbuild\tload (1, 5, 15 min)\timport ids/s\timport server CPU s\timport minor faults\timport context switches\ttrack profiles/s\n'
for ((r = 1; r <= rounds; ++r)); do
  if ((r % 2)); then first=$a second=$b; else first=$b second=$a; fi
  run "$r" "$first" "${@}"
  run "$r" "$second" "${@}"
done
