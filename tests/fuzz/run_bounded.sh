#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time from a seed corpus, for `make test`.
# usage: run_bounded.sh FUZZER NAME SECONDS
# The model loader's seeds: two float zoo models, the integer models
# make_quantized_seeds.sh wrote to $OSPREY_QUANTIZED_SEEDS, and small one-op
# models (make_op_seeds.sh, with the makers $OSPREY_MAKE_RANDOM_OP_MODEL,
# $OSPREY_MAKE_SQUARED_DIFFERENCE_MODEL and $OSPREY_MAKE_LANDMARK_OPS_MODEL). The backends' agreement test's: the
# one-op models; the quantizer's: the float ones of them. The .npy reader's:
# the inputs and outputs `osprey run` writes for an ADD model on float, int8
# and uint8. The ONNX importer's: ONNX's node test models of the ops osprey
# converts (make_onnx_seeds.sh, with $OSPREY_BIN).
set -euo pipefail
fuzzer=$1 name=$2 seconds=$3
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
# Small one-op models: the seeds that run (make_op_seeds.sh).
op_seeds() {
  if [ -z "${OSPREY_MAKE_RANDOM_OP_MODEL:-}" ] || [ -z "${OSPREY_MAKE_SQUARED_DIFFERENCE_MODEL:-}" ] ||
    [ -z "${OSPREY_MAKE_LANDMARK_OPS_MODEL:-}" ]; then
    echo "run_bounded: set OSPREY_MAKE_RANDOM_OP_MODEL, OSPREY_MAKE_SQUARED_DIFFERENCE_MODEL and OSPREY_MAKE_LANDMARK_OPS_MODEL (the seed makers)" >&2
    exit 2
  fi
  bash "$(dirname "$0")/make_op_seeds.sh" "$OSPREY_MAKE_RANDOM_OP_MODEL" "$OSPREY_MAKE_SQUARED_DIFFERENCE_MODEL" \
    "$OSPREY_MAKE_LANDMARK_OPS_MODEL" "$corpus"
}
case $name in
  fuzz_model_loader)
    for m in face_detection_short_range selfie_segmentation; do
      [ -f "$cache/models/$m.tflite" ] && cp "$cache/models/$m.tflite" "$corpus/"
    done
    for f in "${OSPREY_QUANTIZED_SEEDS:-/nonexistent}"/*.tflite; do
      [ -f "$f" ] && cp "$f" "$corpus/"
    done
    op_seeds ;;
  fuzz_backends_agree)
    op_seeds ;;
  fuzz_quantizer)
    op_seeds
    find "$corpus" -name '*.tflite' ! -name '*-float.tflite' -delete ;;  # it takes float models
  fuzz_npy_reader)
    [ -n "${OSPREY_BIN:-}" ] && [ -n "${OSPREY_MAKE_RANDOM_OP_MODEL:-}" ] ||
      { echo "run_bounded: set OSPREY_BIN and OSPREY_MAKE_RANDOM_OP_MODEL (the seeds' makers)" >&2; exit 2; }
    for type in float int8 uint8; do
      "$OSPREY_MAKE_RANDOM_OP_MODEL" "$corpus/add.tflite" ADD 1 "$type" >/dev/null
      "$OSPREY_BIN" run "$corpus/add.tflite" --random-seed 1 -o "$corpus/$type" >/dev/null
      for f in "$corpus/$type"/*.npy; do mv "$f" "$corpus/$type-$(basename "$f")"; done
      rmdir "$corpus/$type"
    done
    rm "$corpus/add.tflite" ;;
  fuzz_onnx_import)
    [ -n "${OSPREY_BIN:-}" ] || { echo "run_bounded: set OSPREY_BIN (the seeds' op list)" >&2; exit 2; }
    bash "$(dirname "$0")/make_onnx_seeds.sh" "$OSPREY_BIN" "$corpus" ;;
  fuzz_image_decoder)
    for f in "$cache"/media/*.png "$cache"/media/*.jpg; do
      [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 2000000 ] && cp "$f" "$corpus/"
    done ;;
esac
# A passing run prints its closing statistics; a failing one everything from the
# first report on (a KernelOverrun's message comes before libFuzzer's).
log=$corpus.log
trap 'rm -rf "$corpus" "$log"' EXIT
if "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=400000 -print_final_stats=1 \
  "$corpus" >"$log" 2>&1; then
  tail -n 12 "$log"
else
  status=$?
  grep -v -E '^#[0-9]+|^INFO:' "$log" | tail -n 60
  exit "$status"
fi
