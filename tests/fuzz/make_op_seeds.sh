#!/usr/bin/env bash
# Writes small one-op seed models for the model-loader fuzzer: every op of
# make_random_op_model on int8, uint8 and float tensors, float and int8
# SQUARED_DIFFERENCE, and MediaPipe's landmark custom ops chained. The zoo's models are too large to run in a fuzzing
# iteration (fuzz_model_loader.cpp runs only small ones), so without these
# seeds the kernels, and the guard bytes that catch a write past an output,
# would seldom run at all.
# usage: make_op_seeds.sh MAKE_RANDOM_OP_MODEL MAKE_SQUARED_DIFFERENCE_MODEL MAKE_LANDMARK_OPS_MODEL OUTDIR
set -euo pipefail
random_op=$1 squared_difference=$2 landmark_ops=$3 out=$4
mkdir -p "$out"
# The maker lists its ops after "OP:" in its usage message.
ops=$("$random_op" 2>&1 | sed -n 's/^OP://p' || true)
[ -n "$ops" ] || { echo "make_op_seeds: $random_op listed no ops" >&2; exit 1; }
for op in $ops; do
  "$random_op" "$out/$op-int8.tflite" "$op" 1 >/dev/null
  "$random_op" "$out/$op-uint8.tflite" "$op" 1 uint8 >/dev/null
  "$random_op" "$out/$op-float.tflite" "$op" 1 float >/dev/null
done
for type in float int8; do
  "$squared_difference" "$out/SQUARED_DIFFERENCE-$type.tflite" 1 "$type" >/dev/null
done
for seed in 1 2 3; do
  "$landmark_ops" "$out/landmark-ops-$seed-float.tflite" "$seed" >/dev/null
done
