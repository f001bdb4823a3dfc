#!/usr/bin/env bash
# `osprey quantize` as a user runs it on the zoo's short-range face detector:
# --method auto prints each method's accuracy and keeps one (per-tensor: also
# on equalized weights), --equalize says what it did, a page of text
# among the calibration photos is named on stderr (and left out with
# --drop-outliers), and bad options are one line. Skips the model checks when
# the zoo or the photos are not fetched.
set -u
osprey=$(realpath "$1")
source "$(dirname "$0")/expect_error.sh"
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
zoo=face_detection_short_range
photos=("$cache/media/astronaut.png" "$cache/media/coffee.png" "$cache/media/messi5.jpg")
quantize=("$osprey" quantize "$zoo" -o "$tmp/q.tflite" --samples 16)

for f in "${photos[@]}" "$cache/models/$zoo.tflite" "$cache/media/page.png"; do
  if [ ! -f "$f" ]; then
    echo "skip the model checks: $f not fetched"
    report
    exit
  fi
done
expect_error "unknown method" "unknown --method 'best' (use minmax, percentile, entropy or auto)" \
  "${quantize[@]}" --calibration "${photos[@]}" --method best
expect_error "auto without an accuracy report" "--method auto chooses by the accuracy report" \
  "${quantize[@]}" --calibration "${photos[@]}" --method auto --eval-samples 0
expect_error "missing evaluation images" "$tmp/nope: no such file" \
  "${quantize[@]}" --calibration "${photos[@]}" --eval-images "$tmp/nope"
head -c 3000 "${photos[0]}" >"$tmp/truncated.png"
expect_error "a truncated evaluation image" "truncated.png: png: file is truncated" \
  "${quantize[@]}" --calibration "${photos[@]}" --eval-images "$tmp/truncated.png"
[ -e "$tmp/q.tflite" ] && fail "a truncated evaluation image: the model was written all the same"

expect_ok "method auto" "${quantize[@]}" --calibration "${photos[@]}" --method auto --report-json "$tmp/auto.json"
for line in "method auto, the accuracy of each on 3 samples:" "^  minmax  *SNR .* dB; .* detections found" \
  "^  percentile (99.99)  *SNR" "^  entropy  *SNR" "^chose \(minmax\|percentile (99.99)\|entropy\)$" \
  "classificators (within +-100)"; do
  grep -q "$line" "$tmp/out" || fail "method auto: no '$line' in its output: $(cat "$tmp/out")"
done
chosen=$(sed -n 's/^chose \([a-z]*\).*/\1/p' "$tmp/out")
grep -q "\"method\": \"$chosen\"" "$tmp/auto.json" || fail "method auto: the report does not name $chosen"
grep -q '"method_auto": true' "$tmp/auto.json" || fail "method auto: the report does not say auto"
expect_ok "the chosen model loads" "$osprey" inspect "$tmp/q.tflite"
# Per-tensor weights: each method also on equalized weights (a second calibration).
expect_ok "method auto, per-tensor" "${quantize[@]}" --calibration "${photos[@]}" --method auto --granularity per-tensor
[ "$(grep -c "^  [a-z].* SNR .* dB" "$tmp/out")" -eq 6 ] || fail "per-tensor auto: not 6 trials: $(cat "$tmp/out")"
grep -q "^  entropy, equalized  *SNR" "$tmp/out" || fail "per-tensor auto: no equalized trial"
expect_ok "--equalize" "${quantize[@]}" --calibration "${photos[@]}" --equalize --granularity per-tensor
grep -q "^note: equalized the weights of 16 depthwise/convolution pairs" "$tmp/out" ||
  fail "--equalize: no note: $(cat "$tmp/out")"

expect_ok "a page of text among the photos" \
  "${quantize[@]}" --calibration "${photos[@]}" "$cache/media/page.png" --report-json "$tmp/page.json"
grep -q "^osprey: warning: calibration file page.png widens [0-9]* of [0-9]* tensors' ranges 4x" "$tmp/err" ||
  fail "page of text: no warning naming it: $(cat "$tmp/err")"
grep -q "\"file\": \".*/page.png\"" "$tmp/page.json" || fail "page of text: not in the report's range_outliers"
grep -q "^osprey: note: --drop-outliers calibrates again without it" "$tmp/err" ||
  fail "page of text: no note of --drop-outliers: $(cat "$tmp/err")"
expect_ok "--drop-outliers" "${quantize[@]}" --calibration "${photos[@]}" "$cache/media/page.png" \
  --drop-outliers --report-json "$tmp/dropped.json"
grep -q "^dropped calibration file page.png widens" "$tmp/out" || fail "--drop-outliers: page.png not dropped: $(cat "$tmp/out")"
grep -q "^calibration: 16 samples from 3 images" "$tmp/out" || fail "--drop-outliers: not calibrated again on the 3 photos"
grep -q "accuracy on 3 samples" "$tmp/out" || fail "--drop-outliers: the report is not on the 3 photos kept"
[ -s "$tmp/err" ] && fail "--drop-outliers: stderr: $(cat "$tmp/err")"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const dropped = r.dropped_outliers.map((o) => o.file.split("/").pop());
  if (dropped.join() !== "page.png" || r.range_outliers.length || r.dropped_files !== 1 || r.samples !== 16)
    process.exit(1);
' "$tmp/dropped.json" || fail "--drop-outliers: the report's dropped_outliers/range_outliers are wrong"
expect_ok "the photos alone" "${quantize[@]}" --calibration "${photos[@]}" --eval-images "${photos[0]}"
[ -s "$tmp/err" ] && fail "the photos alone: stderr: $(cat "$tmp/err")"
grep -q "accuracy on 1 sample " "$tmp/out" || fail "--eval-images: the report is not on the one image given"

report
