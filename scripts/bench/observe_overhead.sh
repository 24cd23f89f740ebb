#!/usr/bin/env bash
# What `--observe ergotropy` adds to `spinbat charge` (power law p = 1, alpha = 0, g = 1,
# omega = 4, B = 1): for each N, the command without and with the flag, interleaved, and the
# same with OLD_BINARY (if given) for the before/after. Medians of REPS runs (default 3),
# the observables' own seconds from the JSON record, peak RSS.
# Usage: scripts/bench/observe_overhead.sh NEW_BINARY [OLD_BINARY] -- N [N ...]
#        EXTRA="--points 21" adds flags to every run.
set -euo pipefail
new=$1; shift
old=""
if [ "${1-}" != "--" ]; then old=$1; shift; fi
shift
reps=${REPS:-3}
read -r -a extra <<< "${EXTRA-}"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
run() { # binary, args... -> "seconds rss_kib observables_s"
  /usr/bin/time -f "%e %M" -o /tmp/oo-time "$@" --json /tmp/oo.json > /dev/null
  local obs
  obs=$(python3 -c "import json; o=json.load(open('/tmp/oo.json')).get('observables'); print(o['run_time_s'] if o else 0)")
  echo "$(cat /tmp/oo-time) $obs"
}
echo "| binary | N | flags | without [s] | with [s] | added | observables [s] | RSS without/with [MiB] | runs with |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "$@"; do
  for bin in $new $old; do
    wo=(); wi=(); ob=(); r0=0; r1=0
    for _ in $(seq "$reps"); do
      read -r t m _ < <(run "$bin" charge --n "$n" "${extra[@]}"); wo+=("$t"); [ "$m" -gt "$r0" ] && r0=$m
      read -r t m o < <(run "$bin" charge --n "$n" "${extra[@]}" --observe ergotropy); wi+=("$t"); ob+=("$o"); [ "$m" -gt "$r1" ] && r1=$m
    done
    a=$(printf '%s\n' "${wo[@]}" | median); b=$(printf '%s\n' "${wi[@]}" | median); c=$(printf '%s\n' "${ob[@]}" | median)
    echo "| $(basename "$bin") | $n | ${EXTRA-default} | $a | $b | $(python3 -c "print('+%.0f %%' % (100 * ($b / $a - 1)))") | $c | $((r0 / 1024)) / $((r1 / 1024)) | ${wi[*]} |"
  done
done
