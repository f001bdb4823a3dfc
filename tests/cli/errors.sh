#!/usr/bin/env bash
# Bad input to the CLI: exactly one line on stderr starting "osprey: ", exit 1.
set -u
osprey=$1
source "$(dirname "$0")/expect_error.sh"


printf 'not a model at all' >"$tmp/text.tflite"
noise 1 5000 >"$tmp/random.tflite"
: >"$tmp/empty.tflite"
expect_error "missing file" "cannot open" "$osprey" inspect "$tmp/nope.tflite"
expect_error "empty file" "empty" "$osprey" inspect "$tmp/empty.tflite"
expect_error "text file" "not a TFLite model" "$osprey" inspect "$tmp/text.tflite"
expect_error "random bytes" "" "$osprey" run "$tmp/random.tflite" --random-seed 1 -o "$tmp/o"
expect_error "directory" "not a regular file" "$osprey" inspect "$tmp"
printf '\x93NUMPY\x01\x00\x10\x00{bad header}    \n' >"$tmp/bad.npy"
# Bad options: one line and exit 2, before any model is read.
expect_usage_error "no subcommand" "subcommand" "$osprey"
expect_usage_error "unknown option" "--frobnicate" "$osprey" inspect "$tmp/text.tflite" --frobnicate
expect_usage_error "zero runs" "--runs: Value 0 not in range 1 to 2147483647" \
  "$osprey" bench "$tmp/text.tflite" --runs 0
expect_usage_error "fractional warm-up" "--warmup" "$osprey" bench "$tmp/text.tflite" --warmup 1.5
expect_usage_error "threads above the limit" "--threads: Value 1000 not in range 0 to 256" \
  "$osprey" bench "$tmp/text.tflite" --threads 1000
expect_usage_error "threads not a number" "--threads" "$osprey" run "$tmp/text.tflite" --threads abc
expect_usage_error "negative warm-up time" "--warmup-secs" "$osprey" bench "$tmp/text.tflite" --warmup-secs -1
expect_usage_error "negative seed" "--random-seed" "$osprey" run "$tmp/text.tflite" --random-seed -2

# osprey ocr on a 1x1 picture with a tiny character list: bad files and
# saved model outputs that cannot be what the models give.
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00\x3a\x7e\x9b\x55\x00\x00\x00\x0a\x49\x44\x41\x54\x78\x9c\x63\xf8\x0f\x00\x01\x01\x01\x00\xb1\x38\xf6\x14\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' >"$tmp/dot.png"
printf 'a\nb\n' >"$tmp/keys.txt"
ocr=("$osprey" ocr "$tmp/dot.png" --keys "$tmp/keys.txt")
mkdir -p "$tmp/outputs" "$tmp/bad-outputs" "$tmp/small-map"
cp "$tmp/text.tflite" "$tmp/bad-outputs/det-0.output.npy"
printf "\x93NUMPY\x01\x00\x76\x00%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 2), }" \
  >"$tmp/small-map/det-0.output.npy"
printf '\x00\x00\x80\x3f%.0s' 1 2 3 4 >>"$tmp/small-map/det-0.output.npy"
expect_error "ocr missing image" "nope.png" "$osprey" ocr "$tmp/nope.png" --keys "$tmp/keys.txt"
expect_error "ocr empty character list" "no characters" "$osprey" ocr "$tmp/dot.png" --keys "$tmp/empty.tflite"
expect_error "ocr .onnx model" "x.onnx" "${ocr[@]}" --det "$tmp/x.onnx"
expect_error "ocr missing model output" "no saved output" "${ocr[@]}" --model-outputs "$tmp/outputs"
expect_error "ocr corrupt model output" "det-0.output.npy" "${ocr[@]}" --model-outputs "$tmp/bad-outputs"
# The 1x1 picture is scaled up to 736x736 for the detector (limit_type min).
expect_error "ocr wrong map size" "736x736 map" "${ocr[@]}" --model-outputs "$tmp/small-map"

report
