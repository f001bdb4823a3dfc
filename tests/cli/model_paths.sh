#!/usr/bin/env bash
# How the commands that read a model find it: a zoo name means the cached
# model, anything with a '/', a .tflite or .onnx ending, or a file of that
# name in the current folder is a path; and `osprey inspect` on a model
# osprey cannot run shows what the file holds, then fails as errors do.
set -u
osprey=$(realpath "$1")
source "$(dirname "$0")/expect_error.sh"
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
zoo=face_detection_short_range

if [ -f "$cache/models/$zoo.tflite" ]; then
  for command in inspect "run --random-seed 1 -o $tmp/run" "bench --runs 2 --warmup 1"; do
    # shellcheck disable=SC2086
    expect_ok "$command by zoo name" "$osprey" $command $zoo
  done
  # Warm-up lasts --warmup-secs at least, however few --warmup runs that takes.
  "$osprey" bench $zoo --runs 2 --warmup 1 --warmup-secs 0.3 --threads 1 --json >"$tmp/bench.json" 2>"$tmp/err"
  warmup_s=$(grep -o '"warmup_s":[0-9.]*' "$tmp/bench.json" | cut -d: -f2)
  extra=$(grep -o '"warmup_timed_extra":[0-9]*' "$tmp/bench.json" | cut -d: -f2)
  if awk -v s="${warmup_s:-0}" -v n="${extra:-0}" 'BEGIN { exit !(s >= 0.3 && n > 0) }'; then
    echo "ok   bench warms up for --warmup-secs: ${warmup_s} s, ${extra} runs beyond --warmup"
    passed=$((passed + 1))
  else
    fail "bench --warmup-secs 0.3: warm-up ${warmup_s:-?} s, ${extra:-?} extra runs: $(cat "$tmp/err")"
  fi
  cp "$cache/models/$zoo.tflite" "$tmp/short.tflite"
  cp "$cache/models/$zoo.tflite" "$tmp/plain"
  cd "$tmp"
  expect_ok "check of a .tflite in the current folder" "$osprey" check short.tflite --target cpu
  expect_ok "inspect of a file without extension here" "$osprey" inspect plain
  # A tensor name that is not UTF-8 (a damaged or hand-made model): JSON
  # output writes U+FFFD for the byte instead of failing ("invalid UTF-8").
  at=$(grep -obUa 'input' short.tflite | head -1 | cut -d: -f1)
  cp short.tflite badname.tflite
  printf '\xfd' | dd of=badname.tflite bs=1 seek=$((at + 1)) conv=notrunc 2>/dev/null
  for command in "inspect --json" "run --random-seed 1 -o $tmp/run"; do
    # shellcheck disable=SC2086
    expect_ok "$command, a tensor name not in UTF-8" "$osprey" $command badname.tflite
    grep -q $'"i\xef\xbf\xbdput"' "$tmp/out" || fail "$command: no U+FFFD for the byte: $(head -c 300 "$tmp/out")"
  done
  # The table writes it \xfd, as errors do: a model's names reach no terminal raw.
  expect_ok "inspect, a tensor name not in UTF-8" "$osprey" inspect badname.tflite
  grep -qF 'i\xfdput ' "$tmp/out" || fail "inspect: the name not written i\\xfdput: $(head -c 300 "$tmp/out")"
  cd - >/dev/null
else
  echo "skip the zoo-name checks: $cache/models/$zoo.tflite not fetched"
fi
expect_error "unknown zoo name" "model 'no_such_model' not found at" "$osprey" inspect no_such_model

relu=/usr/share/libonnx-testdata/data/node/test_relu/model.onnx
if [ -f "$relu" ]; then
  cp "$relu" "$tmp/relu.onnx"
  # Bare .onnx names were taken for zoo names ("relu.onnx.tflite" not found).
  cd "$tmp"
  expect_ok "check of an .onnx in the current folder" "$osprey" check relu.onnx --target cpu
  expect_ok "inspect of an .onnx in the current folder" "$osprey" inspect relu.onnx
  cd - >/dev/null
else
  echo "skip the .onnx checks: $relu missing (libonnx-testdata)"
fi
expect_error "missing .onnx" "nope.onnx: cannot open: No such file" "$osprey" inspect "$tmp/nope.onnx"
mkdir "$tmp/folder.onnx"
expect_error ".onnx folder" "is a directory" "$osprey" inspect "$tmp/folder.onnx"

# A model with an op osprey lacks (the attention face model with one of its
# custom ops renamed): its inputs, outputs and ops on stdout, the one-line
# error on stderr, exit 1; --json prints the same with the error.
attention=$cache/models/face_landmark_with_attention.tflite
if [ -f "$attention" ]; then
  unrunnable=$tmp/renamed_op.tflite
  node -e '
    const fs = require("fs");
    const b = fs.readFileSync(process.argv[1]);
    const from = Buffer.from("Landmarks2TransformMatrix"), to = Buffer.from("Landmarks9TransformMatrix");
    const at = b.indexOf(from);
    if (at < 0) throw new Error("no Landmarks2TransformMatrix in the model");
    to.copy(b, at);
    fs.writeFileSync(process.argv[2], b);' "$attention" "$unrunnable"
  expect_error "inspect of an unrunnable model" "needs 1 missing op: Landmarks9TransformMatrix (custom)" "$osprey" inspect "$unrunnable"
  for line in "input_1 .*\[1, 192, 192, 3\]" "op histogram (712 ops in the file)" "Landmarks9TransformMatrix  *3" \
    "execution plan: none"; do
    grep -q "$line" "$tmp/out" || fail "inspect of an unrunnable model: no '$line' in its output"
  done
  expect_error "inspect --json of an unrunnable model" "needs 1 missing op" "$osprey" inspect "$unrunnable" --json
  node -e '
    const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (j.num_ops !== 712 || j.op_histogram.Landmarks9TransformMatrix !== 3 || j.inputs.length !== 1 ||
        j.outputs.length !== 7 || !/needs 1 missing op/.test(j.error) || "ops" in j)
      throw new Error("unexpected: " + JSON.stringify(j).slice(0, 300));' "$tmp/out" ||
    fail "inspect --json of an unrunnable model: not the file's structure and the error"
  expect_ok "the attention face model runs" "$osprey" run "$attention" --random-seed 1 -o "$tmp/attention"
else
  echo "skip the unrunnable-model checks: $attention not fetched"
fi

report
