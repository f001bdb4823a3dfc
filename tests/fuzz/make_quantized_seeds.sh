#!/usr/bin/env bash
# Makes the integer seed models of the fuzzers and malformed-model tests with
# `osprey quantize`: uint8 and int8 models, per-channel and per-tensor, from
# the zoo's small float models. A ctest fixture (quantized_seeds); writes
# nothing, and succeeds, when the zoo is not fetched.
# usage: make_quantized_seeds.sh OSPREY OUTDIR
set -euo pipefail
osprey=$1 out=$2
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
rm -rf "$out"
mkdir -p "$out"
photo=$cache/media/astronaut.png
[ -f "$photo" ] || { echo "no $photo: no quantized seeds"; exit 0; }
quantize() {  # MODEL GRANULARITY IO
  local model=$cache/models/$1.tflite
  [ -f "$model" ] || { echo "no $model: skipped"; return 0; }
  "$osprey" quantize "$model" -o "$out/$1-$2-$3.tflite" --granularity "$2" --io "$3" \
    --calibration "$photo" --samples 2 --no-augment --eval-samples 0 >/dev/null
  echo "wrote $out/$1-$2-$3.tflite"
}
quantize face_detection_short_range per-channel uint8
quantize face_detection_short_range per-tensor int8
quantize selfie_segmentation per-tensor uint8
quantize selfie_segmentation per-channel int8
