#!/usr/bin/env bash
# The emulated DLPU devices seen from the command line, against a private
# ospreyd (run through run_with_daemon.sh): osprey-client -a lists them, and
# osprey-client and `osprey check` tell the same story about a model.
# usage: dlpu_client_test.sh OSPREY_CLIENT OSPREY MAKE_DLPU_MODELS
set -u
client=$1 osprey=$2 make_models=$3
tmp=$OSPREY_TEST_TMP
failures=0
fail() { echo "FAIL $1"; [ -f "$tmp/out" ] && cat "$tmp/out"; failures=$((failures + 1)); }
"$make_models" "$tmp" || exit 1

"$client" -a >"$tmp/out" 2>&1 || fail "osprey-client -a exits non-zero"
for device in google-edge-tpu-tflite axis-a8-dlpu-tflite a9-dlpu-tflite; do
  # The device's line carries its instance, 0 (whatever the listing's layout).
  if grep -E -- "(^|[^a-z0-9-])$device([^a-z0-9-]|\$)" "$tmp/out" | grep -Eq '(^|[^0-9])0([^0-9]|$)'; then
    echo "ok   -a lists $device 0"
  else
    fail "-a does not list $device 0"
  fi
done

# target: the device's refusal (or acceptance) as `osprey check` words it, then
# what osprey-client gets from the device.
for pair in artpec7:google-edge-tpu-tflite artpec8:axis-a8-dlpu-tflite artpec9:a9-dlpu-tflite; do
  target=${pair%%:*} device=${pair#*:}
  for model in float hybrid; do
    "$osprey" check "$tmp/$model.tflite" --target "$target" >"$tmp/check" 2>&1
    reason=$(sed -n "s/^larod: $device refuses to load it: //p" "$tmp/check")
    [ -n "$reason" ] || { fail "osprey check $model --target $target names no refusal"; cat "$tmp/check"; continue; }
    "$client" -c "$device" -g "$tmp/$model.tflite" -i '' >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && grep -qF -- "$device: $reason" "$tmp/out"; then
      echo "ok   $device refuses $model as osprey check says"
    else
      fail "$device on $model (exit $rc), expected: $device: $reason"
    fi
  done
  for model in per-tensor per-channel; do
    "$osprey" check "$tmp/$model.tflite" --target "$target" >"$tmp/check" 2>&1
    if ! grep -q "^larod: $device loads it\$" "$tmp/check"; then fail "osprey check $model --target $target"; cat "$tmp/check"; fi
    if "$client" -c "$device" -g "$tmp/$model.tflite" -i '' -R 3 >"$tmp/out" 2>&1; then
      echo "ok   $device loads and runs $model"
    else
      fail "$device on $model"
    fi
  done
done
exit $failures
