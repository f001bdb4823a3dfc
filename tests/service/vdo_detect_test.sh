#!/usr/bin/env bash
# examples/vdo_detect end to end, as a user would run it: osprey installed into
# a temporary prefix, the app built with its own Makefile through pkg-config
# (-Wall -Wextra -Werror), a uint8 SSD ending in TFLite_Detection_PostProcess
# (make_ssd_postprocess_model + `osprey quantize`) on axis-a8-dlpu-tflite, frames
# of vtest.avi from libvdostream. Each frame's detections are checked against
# `osprey detect` on the RGB input the app sent (its -o dump).
# Runs under run_with_daemon.sh. Skips (77) without the zoo SSD, vtest.avi or photos.
# usage: vdo_detect_test.sh BUILD_DIR SOURCE_DIR MAKE_SSD_POSTPROCESS_MODEL
set -u
build=$1 src=$2 make_model=$3
tmp=$OSPREY_TEST_TMP
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
spec=object_detection_ssd_mobilenetv2_oidv4_fp16
frames=${VDO_DETECT_FRAMES:-12}

zoo_model=$cache/models/$spec.tflite
video=""
for v in "$cache/media/vtest.avi" /usr/share/doc/opencv-doc/examples/data/vtest.avi; do
  [ -f "$v" ] && { video=$v; break; }
done
photos=()
for p in "$cache/media/messi5.jpg" "$cache/media/astronaut.png" "$cache/media/coffee.png"; do
  [ -f "$p" ] && photos+=("$p")
done
if [ ! -f "$zoo_model" ] || [ -z "$video" ] || [ ${#photos[@]} -eq 0 ]; then
  echo "skipped: needs $zoo_model, vtest.avi and sample photos in $cache/media (make fetch)"
  exit 77
fi

# osprey as a system library, the app built from a copy of its folder.
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
cp -r "$src/examples/vdo_detect" "$tmp/app"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig CFLAGS=-O2 make -s -C "$tmp/app" \
  >"$tmp/make.log" 2>&1 || { echo "FAIL: the example does not build"; cat "$tmp/make.log"; exit 1; }
for lib in liblarod.so.3 libvdostream.so.1; do
  resolved=$(ldd "$tmp/app/vdo_detect" | awk -v lib="$lib" '$1 == lib {print $3}')
  [ -n "$resolved" ] && [ "$(readlink -f "$resolved")" = "$(readlink -f "$prefix/lib/$lib")" ] ||
    { echo "FAIL: $lib is not the installed one ($resolved)"; exit 1; }
done
echo "ok   built with pkg-config liblarod vdostream gio-2.0 gio-unix-2.0 against $prefix"

# The model: the zoo SSD with sigmoid scores, quantized (uint8 input and
# activations, per-tensor weights as ARTPEC-8 wants), then the post-process op
# appended (uint8 anchors, float outputs; the chip runs it on its CPU).
osprey=$prefix/bin/osprey
"$make_model" sigmoid "$zoo_model" "$tmp/sigmoid.tflite" >/dev/null || exit 1
"$osprey" quantize "$tmp/sigmoid.tflite" -o "$tmp/sigmoid_uint8.tflite" --target artpec8 --calibration "${photos[@]}" \
  --input-range -1,1 --resize stretch --no-augment --eval-samples 0 >"$tmp/quantize.log" 2>&1 ||
  { cat "$tmp/quantize.log"; exit 1; }
model=$tmp/ssd_uint8_postprocess.tflite
"$make_model" append "$tmp/sigmoid_uint8.tflite" "$model" >/dev/null || exit 1
# labels.txt as the public examples have it: line i names the op's class i
# (the zoo's labels without "background").
node -e '
  const spec = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).models
    .find((m) => m.name === process.argv[2]);
  console.log(spec.head.labels.slice(1).join("\n"));' "$src/zoo/models.json" "$spec" >"$tmp/labels.txt" || exit 1

# Bad setups end with one line naming the problem, exit 1.
expect_error() {  # expect_error PATTERN COMMAND...
  local pattern=$1 out rc
  shift
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -ne 1 ] || ! grep -q "$pattern" <<<"$out" || [ "$(wc -l <<<"$out")" -ne 1 ]; then
    echo "FAIL: expected one error line matching '$pattern' and exit 1, got $rc: $out"
    exit 1
  fi
  echo "ok   $out"
}
app=$tmp/app/vdo_detect
OSPREY_VDO_SOURCE=$video expect_error "ARTPEC-8 runs only full-integer models" "$app" "$zoo_model"
OSPREY_VDO_SOURCE=$tmp/missing.avi expect_error "missing.avi does not exist" "$app" "$model"
OSPREY_VDO_SOURCE=$video expect_error "no device 'nope'" "$app" -d nope "$model"

mkdir -p "$tmp/dump"
start=$(date +%s%N)
OSPREY_VDO_SOURCE=$video OSPREY_VDO_LOOP=0 "$tmp/app/vdo_detect" -d axis-a8-dlpu-tflite -n "$frames" \
  -l "$tmp/labels.txt" -o "$tmp/dump" "$model" >"$tmp/app.jsonl" 2>"$tmp/app.log"
rc=$?
cat "$tmp/app.log"
[ $rc -eq 0 ] || { echo "FAIL: vdo_detect exited with $rc"; exit 1; }
echo "ok   vdo_detect ran $frames frames in $((($(date +%s%N) - start) / 1000000)) ms"
head -n 3 "$tmp/app.jsonl"

# The same frames through `osprey detect` (in-process, default backends).
for ((k = 0; k < frames; k++)); do
  "$osprey" detect --json -m "$model" --spec "$spec" "$tmp/dump/frame$k.png" >"$tmp/dump/frame$k.json" ||
    { echo "FAIL: osprey detect on frame $k"; exit 1; }
done
node "$src/tests/service/vdo_detect_compare.mjs" "$tmp/app.jsonl" "$tmp/dump" "$frames"
