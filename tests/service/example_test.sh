#!/usr/bin/env bash
# Runs examples/camera_pipeline against a private ospreyd (run_with_daemon.sh):
# vtest.avi from $OSPREY_CACHE/media (or opencv-doc's examples), else
# generated frames. Skips (77) when the detector model is not available.
set -u
example=$1
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
model=""
for m in "$cache/models/face_detection_short_range.tflite" /tmp/models/face_detection_short_range.tflite; do
  [ -f "$m" ] && { model=$m; break; }
done
if [ -z "$model" ]; then
  echo "skipped: face_detection_short_range.tflite not found (run make models)"
  exit 77
fi
video=""
for v in "$cache/media/vtest.avi" /usr/share/doc/opencv-doc/examples/data/vtest.avi \
         /tmp/ocvdoc/usr/share/doc/opencv-doc/examples/data/vtest.avi; do
  [ -f "$v" ] && { video=$v; break; }
done
out=$OSPREY_TEST_TMP/example.out
if [ -n "$video" ]; then
  "$example" -m "$model" -n 40 "$video" >"$out" 2>&1
else
  echo "note: vtest.avi not found, using generated frames"
  "$example" -m "$model" --synthetic 40 >"$out" 2>&1
fi
rc=$?
tail -n 5 "$out"
[ $rc -eq 0 ] && grep -q "40 frames in .* fps sustained" "$out" && grep -q "^frame   40:" "$out"
