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
  if [ "$rc" -ne "$want" ] || ! grep -E -q -- "$pattern" "$tmp/out"; then
    echo "FAIL $what (exit $rc):"; cat "$tmp/out"; failures=$((failures + 1))
  else
    echo "ok   $what"
  fi
}
expect_file() {  # expect_file PATH BYTES
  if [ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]; then echo "ok   $1 has $2 bytes"; else
    echo "FAIL $1 should have $2 bytes"; failures=$((failures + 1)); fi
}
cd "$tmp" || exit 1  # outputs are written to the current directory, as larod-client does
"$make_model" "$tmp/tiny.tflite" || exit 1
stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} '
check "help" "^usage: osprey-client" 0 "$client" --help
check "-h" "-R ROUNDS" 0 "$client" -h
check "lists devices" "^ cpu-proc {25}0$" 0 "$client" -a
check "device table header" "^ Name {29}Instance$" 0 "$client" -a
check "device table rules" "^_{43}$" 0 "$client" -a
check "timestamped log" "${stamp}Devices:$" 0 "$client" -a
check "benchmarks a model" "${stamp}Mean execution time for job: [0-9]+\.[0-9]{2} ms$" 0 \
  "$client" -d -c cpu-tflite -g "$tmp/tiny.tflite" -i '' -R 20 -w 2 -v
check "rounds line" "${stamp}Running job for 20 round\(s\)\.\.\.$" 0 "$client" -g "$tmp/tiny.tflite" -R 20
check "model loaded line" "${stamp}Model tiny.tflite loaded$" 0 "$client" -g "$tmp/tiny.tflite"
# Outputs: SEED.out<i> for random inputs, INPUT.out<i> for an input file, or one -o per output.
check "random input seed" "random seed 1234$" 0 "$client" -g "$tmp/tiny.tflite" -i '' --seed 1234
check "names outputs after the seed" "${stamp}1234\.out0$" 0 "$client" -g "$tmp/tiny.tflite" --seed 1234
expect_file "$tmp/1234.out0" 400
head -c 200 /dev/zero >"$tmp/zeros.bin"
check "reads an input file" "Output written to:" 0 "$client" -g "$tmp/tiny.tflite" -i "$tmp/zeros.bin"
expect_file "$tmp/zeros.bin.out0" 400
check "-o names the output" "${stamp}$tmp/result\.bin$" 0 "$client" -g "$tmp/tiny.tflite" -i '' -o "$tmp/result.bin"
expect_file "$tmp/result.bin" 400
[ -e "$tmp/result.bin0" ] && { echo "FAIL -o wrote result.bin0"; failures=$((failures + 1)); }
check "one -o per output" "one -o per output" 1 "$client" -g "$tmp/tiny.tflite" -o a.bin -o b.bin
# -p takes no argument (larod-client -R 1000 -p -c DEVICE -g MODEL -i '').
check "-p timing summary" "min [0-9.]+ ms, max" 0 "$client" -R 3 -p -c cpu-tflite -g "$tmp/tiny.tflite" -i ''
check "priority" "Mean execution time" 0 "$client" -g "$tmp/tiny.tflite" --priority 90
check "bad priority" "--priority must be 0..100" 1 "$client" -g "$tmp/tiny.tflite" --priority 101
check "bad rounds" "-R needs a number" 1 "$client" -g "$tmp/tiny.tflite" -R ten
check "preprocesses" "Mean execution time" 0 "$client" -c cpu-proc -b image.input.format:nv12 \
  -b image.input.size:64,48 -b image.output.format:rgb-planar -b image.output.size:32,32 -j image.input.crop:0,0,48,48 \
  -i '' -R 5
check "wrong input size" "exactly 200 bytes" 1 "$client" -g "$tmp/tiny.tflite" -i "$tmp/result.bin"
printf "this is not a tflite model at all" >"$tmp/junk.tflite"
check "not a model" "not a TFLite model" 1 "$client" -g "$tmp/junk.tflite"
check "unknown device" "no device 'gpu'" 1 "$client" -c gpu -g "$tmp/tiny.tflite"
check "bad parameter" "cannot convert rgb-planar to nv12" 1 "$client" -c cpu-proc -b image.input.format:rgb-planar \
  -b image.input.size:64,48 -b image.output.format:nv12
exit $failures
