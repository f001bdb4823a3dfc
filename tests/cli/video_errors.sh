#!/usr/bin/env bash
# Bad video input or output on the video commands: one line on stderr
# starting "osprey: ", exit 1. Usage: video_errors.sh OSPREY VTEST_AVI
set -u
osprey=$1
vtest=$2
source "$(dirname "$0")/expect_error.sh"
model=object_detection_ssd_mobilenetv2_oidv4_fp16
if [ ! -f "${OSPREY_CACHE:-$HOME/.cache/osprey}/models/$model.tflite" ]; then
  echo "skip: $model not in the model cache (run the zoo fetcher)"
  exit 77
fi


# The libav module osprey loads for video, missing.
OSPREY_MEDIA_MODULE=$tmp/none.so expect_error "no video module" "video support .* cannot be loaded" \
  "$osprey" detect "$tmp/none.avi" -m $model

# Seed 4's bytes are ones libavformat 59 weakly takes for raw H.263, whose
# decoder then made a frame of them: osprey must refuse the guess.
noise 4 65536 >"$tmp/random.avi"
echo "this is a text file, not a video" >"$tmp/notes.mp4"
mkdir "$tmp/empty"
ln -s /dev/null "$tmp/video0"
expect_error "random bytes" "random.avi: not a recognisable video" "$osprey" detect "$tmp/random.avi" -m $model
expect_error "text file" "notes.mp4" "$osprey" track "$tmp/notes.mp4" -m $model
expect_error "missing camera" "does not exist" "$osprey" track /dev/video63 -m $model
expect_error "not a camera" "video0" "$osprey" segment "$tmp/video0" --json
expect_error "folder without images" "no images" "$osprey" detect "$tmp/empty" -m $model
if [ -f "$vtest" ]; then
  head -c 400000 "$vtest" >"$tmp/cut.avi"
  expect_error "truncated video" "truncated" "$osprey" track "$tmp/cut.avi" -m $model --labels Person --every 100
  # The FourCC changed to one no decoder knows.
  head -c 300000 "$vtest" | sed 's/div3/qqqq/g' >"$tmp/odd.avi"
  expect_error "unsupported codec" "unsupported video codec .FourCC qqqq." "$osprey" detect "$tmp/odd.avi" -m $model
  expect_error "unwritable output" "out.avi" "$osprey" detect "$vtest" -m $model --out "$tmp/no/dir/out.avi"
  expect_error "image output for video" "unsupported video extension" "$osprey" track "$vtest" -m $model --out "$tmp/x.png"
  expect_error "unknown label" "no label 'Unicorn'" "$osprey" track "$vtest" -m $model --labels Unicorn
  expect_error "unknown tracker" "unknown tracker" "$osprey" track "$vtest" -m $model --tracker magic
else
  echo "skip the tests on damaged copies of vtest.avi: $vtest not found"
fi
report
