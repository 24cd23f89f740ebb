#!/usr/bin/env bash
# Wall time and peak memory of `spinbat charge` computing P_max (power law p = 1, alpha = 0,
# g = 1, omega = 4, B = 1) for the N given as arguments (default 12 16 20 22), REPS runs
# each (default 3), median reported. The output window is tiny (--t-max 0.05 --points 2) so
# the time is that of the certified P_max search itself.
# Usage: scripts/bench/charge_table.sh [N ...]      (REPS=5 scripts/bench/charge_table.sh 20)
#   EXTRA="--coupling nn" scripts/bench/charge_table.sh 24 28   # other chains (flags of charge)
#   SPINBAT=/path/to/spinbat ...                                 # a fixed build instead of target/
set -euo pipefail
cd "$(dirname "$0")/../.."
spinbat=${SPINBAT:-./target/release/spinbat}
[ -n "${SPINBAT:-}" ] || cargo build --release -q
read -r -a extra <<< "${EXTRA:-}"
reps=${REPS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(12 16 20 22)
echo "| N | solver | threads | median wall [s] | runs [s] | peak RSS [MiB] | P_max [B^2] | T* [1/B] |"
echo "|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  times=(); rss=0
  for _ in $(seq "$reps"); do
    /usr/bin/time -f "%e %M" -o /tmp/spinbat-bench-time "$spinbat" charge --n "$n" \
      --t-max 0.05 --points 2 --json /tmp/spinbat-bench.json "${extra[@]}" > /dev/null
    read -r t m < /tmp/spinbat-bench-time
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  read -r solver threads pmax tstar < <(python3 -c "
import json; r = json.load(open('/tmp/spinbat-bench.json'))
print(r['solver'], r['provenance']['threads'], '%.10f' % r['max_power']['power'], '%.10f' % r['max_power']['time'])")
  echo "| $n | $solver | $threads | $median | ${times[*]} | $((rss / 1024)) | $pmax | $tstar |"
done
