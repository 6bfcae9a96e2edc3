#!/usr/bin/env bash
# Runs engage_bench against two or more engage builds in alternated rounds (A B, then B A; with
# three builds A B C, B C A, C A B, ...), so that the load of a shared machine and the state of
# its disk fall on all alike. Prints one line per run: round, build, the load average (uptime)
# before the run, cohort import ids/s, the server's CPU seconds, minor page faults and context
# switches over the import, and /users/track profiles/s.
# Usage: bench/engage/pairs.sh BENCH ROUNDS BIN_DIR_A BIN_DIR_B [BIN_DIR...] [-- engage_bench flags...]
#   e.g. bench/engage/pairs.sh build/bench/engage_bench 10 OLD/build/bin build/bin -- --track-requests 800
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
bench=$1 rounds=$2
shift 2
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  builds+=("$1")
  shift
done
[ $# -gt 0 ] && shift  # the --
run() {  # round, bin dir, engage_bench flags...
  local round=$1 bin=$2 dir out load import cost track
  shift 2
  dir=$(mktemp -d)
  sync
  load=$(uptime | sed 's/.*load average: //')
  out=$(CF_BIN_DIR="$bin" "$bench" --dir "$dir" "$@" 2>/dev/null)
  rm -rf "$dir"
  import=$(grep '^| cohort import, ' <<<"$out" | sed 's/.*| \([0-9]*\) ids\/s.*/\1/')
  cost=$(grep '^| cohort import: server CPU' <<<"$out" | sed 's/.*| \([0-9.]*\) s, \([0-9]*\), \([0-9]*\) |$/\1\t\2\t\3/')
  track=$(grep '^| /users/track, ' <<<"$out" | sed 's/.*| \([0-9]*\) profiles\/s.*/\1/')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$bin" "$load" "$import" "$cost" "$track"
}
printf 'round\tbuild\tload (1, 5, 15 min)\timport ids/s\timport server CPU s\timport minor faults\t'
printf 'import context switches\ttrack profiles/s\n'
n=${#builds[@]}
for ((r = 1; r <= rounds; ++r)); do
  start=$(((r - 1) % n))  # each round starts one build further on
  for ((i = 0; i < n; ++i)); do
    run "$r" "${builds[$(((start + i) % n))]}" "$@"
  done
done
