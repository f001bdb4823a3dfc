#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time from a seed corpus, for `make test`.
# usage: run_bounded.sh FUZZER NAME SECONDS
# The model loader's seeds: two float zoo models and the integer models
# make_quantized_seeds.sh wrote to $OSPREY_QUANTIZED_SEEDS.
set -euo pipefail
fuzzer=$1 name=$2 seconds=$3
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
case $name in
  fuzz_model_loader)
    for m in face_detection_short_range selfie_segmentation; do
      [ -f "$cache/models/$m.tflite" ] && cp "$cache/models/$m.tflite" "$corpus/"
    done
    for f in "${OSPREY_QUANTIZED_SEEDS:-/nonexistent}"/*.tflite; do
      [ -f "$f" ] && cp "$f" "$corpus/"
    done ;;
  fuzz_image_decoder)
    for f in "$cache"/media/*.png "$cache"/media/*.jpg; do
      [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 2000000 ] && cp "$f" "$corpus/"
    done ;;
esac
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=400000 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
