#!/usr/bin/env bash
# osprey-client against a private ospreyd (run through run_with_daemon.sh).
# usage: client_test.sh OSPREY_CLIENT MAKE_TINY_MODEL
set -u
client=$1 make_model=$2
tmp=$OSPREY_TEST_TMP
failures=0
check() {  # check DESCRIPTION PATTERN EXPECTED_EXIT COMMAND...
  local what=$1 pattern=$2 want=$3
  shift 3
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
    echo "FAIL $what (exit $rc):"; cat "$tmp/out"; failures=$((failures + 1))
  else
    echo "ok   $what"
  fi
}
"$make_model" "$tmp/tiny.tflite" || exit 1
check "lists devices" "cpu-proc" 0 "$client" -a
check "benchmarks a model" "Mean execution time for job" 0 "$client" -g "$tmp/tiny.tflite" -i '' -R 20 -w 2 -v
check "writes outputs" "Output 0 written" 0 "$client" -g "$tmp/tiny.tflite" -i '' -o "$tmp/out_"
[ "$(stat -c %s "$tmp/out_0")" -eq 400 ] || { echo "FAIL output size"; failures=$((failures + 1)); }
head -c 200 /dev/zero >"$tmp/zeros.bin"
check "reads an input file" "Mean execution time" 0 "$client" -g "$tmp/tiny.tflite" -i "$tmp/zeros.bin"
check "preprocesses" "Mean execution time" 0 "$client" -c cpu-proc -b image.input.format:nv12 \
  -b image.input.size:64,48 -b image.output.format:rgb-planar -b image.output.size:32,32 -j image.input.crop:0,0,48,48 \
  -i '' -R 5
check "wrong input size" "exactly 200 bytes" 1 "$client" -g "$tmp/tiny.tflite" -i "$tmp/out_0"
printf "this is not a tflite model at all" >"$tmp/junk.tflite"
check "not a model" "not a TFLite model" 1 "$client" -g "$tmp/junk.tflite"
check "unknown device" "no device 'gpu'" 1 "$client" -c gpu -g "$tmp/tiny.tflite"
check "bad parameter" "cannot convert rgb-planar to nv12" 1 "$client" -c cpu-proc -b image.input.format:rgb-planar \
  -b image.input.size:64,48 -b image.output.format:nv12
exit $failures
