#!/usr/bin/env bash
# issue 13's tracking measurement: `osprey landmarks --pipeline pose` on the
# same frames of Megamind.avi, alternating tracking and --no-tracking (so load
# changes hit both alike), one thread; prints each run and the ratio of means.
# usage: bench-landmarks-video.sh OSPREY [FRAMES] [ROUNDS]
set -eu
osprey=$1
frames=${2:-200}
rounds=${3:-2}
video=${OSPREY_CACHE:-$HOME/.cache/osprey}/media/Megamind.avi
[ -f "$video" ] || { echo "needs $video (make fetch)"; exit 1; }
fps() {  # the "N frames, X fps, detector on D frames" summary line
  "$osprey" landmarks "$video" --pipeline pose --threads 1 --max-frames "$frames" "$@" |
    sed -n 's/.*: \([0-9]*\) frames, \([0-9.]*\) fps, detector on \([0-9]*\) frames.*/\2 \3/p'
}
echo "mode          fps  detector-frames (of $frames)"
sum_t=0 sum_d=0
for ((r = 0; r < rounds; ++r)); do
  read -r t td < <(fps)
  printf 'tracking    %6s  %s\n' "$t" "$td"
  read -r d dd < <(fps --no-tracking)
  printf 'no-tracking %6s  %s\n' "$d" "$dd"
  sum_t=$(echo "$sum_t + $t" | bc -l) sum_d=$(echo "$sum_d + $d" | bc -l)
done
printf 'ratio %.2fx\n' "$(echo "$sum_t / $sum_d" | bc -l)"
