#!/usr/bin/env bash
# Bad input to the CLI: exactly one line on stderr starting "osprey: ", exit 1.
set -u
osprey=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect_error() {  # expect_error DESCRIPTION FRAGMENT COMMAND...
  local what=$1 fragment=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q "^osprey: .*$fragment" "$tmp/err"; then
    echo "FAIL $what: exit $rc, stderr:"; cat "$tmp/err"
    failures=$((failures + 1))
  else
    echo "ok   $what: $(cat "$tmp/err")"
  fi
}

printf 'not a model at all' >"$tmp/text.tflite"
head -c 5000 /dev/urandom >"$tmp/random.tflite"
: >"$tmp/empty.tflite"
expect_error "missing file" "cannot open" "$osprey" inspect "$tmp/nope.tflite"
expect_error "empty file" "empty" "$osprey" inspect "$tmp/empty.tflite"
expect_error "text file" "not a TFLite model" "$osprey" inspect "$tmp/text.tflite"
expect_error "random bytes" "" "$osprey" run "$tmp/random.tflite" --random-seed 1 -o "$tmp/o"
expect_error "directory" "not a regular file" "$osprey" inspect "$tmp"
printf '\x93NUMPY\x01\x00\x10\x00{bad header}    \n' >"$tmp/bad.npy"

echo "$((6 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
