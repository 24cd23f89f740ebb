#!/usr/bin/env bash
# Two builds of spinbat, one sitting, interleaved run by run: `spinbat charge` (power law
# p = 1, alpha = 0, g = 1, omega = 4, B = 1) for each N, the certified P_max alone
# (--t-max 0.05 --points 2) and, with DEFAULT_N, the default command as it stands (201 times
# on [0, 2 pi/omega]). Medians of REPS runs (default 3) and peak RSS.
# Usage: scripts/bench/before_after.sh OLD_BINARY NEW_BINARY [N ...]   (DEFAULT_N="20")
# EXTRA="--coupling nearest-neighbour" adds model flags to every run (and to the labels).
set -euo pipefail
old=$1; new=$2; shift 2
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(20 22 24)
reps=${REPS:-3}
read -r -a default_n <<< "${DEFAULT_N-20}"
read -r -a extra <<< "${EXTRA-}"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
run() { # binary, args... -> "seconds rss_kib"
  /usr/bin/time -f "%e %M" -o /tmp/ba-time "$@" --json /tmp/ba.json > /dev/null
  cat /tmp/ba-time
}
echo "| command | N | before [s] | after [s] | after/before | RSS before/after [MiB] | P_max before / after |"
echo "|---|---|---|---|---|---|---|"
bench() { # label, n, args...
  local label=$1 n=$2; shift 2
  local tb=() ta=() rb=0 ra=0 pb pa
  for _ in $(seq "$reps"); do
    read -r t m < <(run "$old" charge --n "$n" "${extra[@]}" "$@"); tb+=("$t"); [ "$m" -gt "$rb" ] && rb=$m
    pb=$(python3 -c "import json; print('%.12g' % json.load(open('/tmp/ba.json'))['max_power']['power'])")
    read -r t m < <(run "$new" charge --n "$n" "${extra[@]}" "$@"); ta+=("$t"); [ "$m" -gt "$ra" ] && ra=$m
    pa=$(python3 -c "import json; print('%.12g' % json.load(open('/tmp/ba.json'))['max_power']['power'])")
  done
  local mb ma
  mb=$(printf '%s\n' "${tb[@]}" | median); ma=$(printf '%s\n' "${ta[@]}" | median)
  echo "| $label${EXTRA:+ $EXTRA} | $n | $mb (${tb[*]}) | $ma (${ta[*]}) | $(python3 -c "print('%.2f' % ($ma / $mb))") | $((rb / 1024)) / $((ra / 1024)) | $pb / $pa |"
}
for n in "${sizes[@]}"; do bench "P_max only (--t-max 0.05 --points 2)" "$n" --t-max 0.05 --points 2; done
for n in "${default_n[@]}"; do bench "default (201 times on [0, 2pi/omega])" "$n"; done
