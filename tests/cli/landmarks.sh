#!/usr/bin/env bash
# `osprey landmarks` end to end on the sample photos: the JSON schema of
# docs/landmarks.md, subjects where there are some and none in coffee.png, the
# annotated PNG, one-line errors for bad arguments and a corrupt image; and on
# the first frames of Megamind.avi (when fetched): one JSON line per frame with
# "frame" and "timestamp_ms", tracking after the first detection, the
# annotated video, and a one-line error for a truncated video.
# Skips (77) when the zoo's models or photos are not fetched.
# usage: landmarks.sh OSPREY
set -u
osprey=$1
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
for f in models/face_detection_short_range models/face_landmark models/pose_detection models/pose_landmark_full \
  models/palm_detection_full models/hand_landmark_full; do
  [ -f "$cache/$f.tflite" ] || { echo "skipped: needs $cache/$f.tflite (make fetch)"; exit 77; }
done
for f in astronaut.png coffee.png messi5.jpg; do
  [ -f "$cache/media/$f" ] || { echo "skipped: needs $cache/media/$f (make fetch)"; exit 77; }
done
command -v node >/dev/null || { echo "skipped: needs node to read the JSON"; exit 77; }
source "$(dirname "$0")/expect_error.sh"

# check_json NAME FILE PIPELINE SUBJECTS LANDMARKS EXTRA_KEYS: exact top-level keys, counts, pixels in range.
check_json() {
  node -e '
    const [file, pipeline, subjects, landmarks, extra] = process.argv.slice(1);
    const j = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const problems = [];
    const keys = Object.keys(j).join(",");
    if (keys !== "pipeline,image,subjects,timing_ms") problems.push("top-level keys " + keys);
    if (j.pipeline !== pipeline) problems.push("pipeline " + j.pipeline);
    if (j.subjects.length !== Number(subjects)) problems.push(j.subjects.length + " subjects");
    for (const s of j.subjects) {
      if (s.landmarks.length !== Number(landmarks)) problems.push(s.landmarks.length + " landmarks");
      if (!(s.score >= 0.5 && s.score <= 1)) problems.push("score " + s.score);
      const [x0, y0, x1, y1] = s.box;
      for (const [x, y, z] of s.landmarks) {
        if (x < x0 - 0.1 || x > x1 + 0.1 || y < y0 - 0.1 || y > y1 + 0.1 || !Number.isFinite(z))
          problems.push("landmark outside its box");
      }
      for (const k of extra ? extra.split(",") : []) if (!(k in s)) problems.push("no " + k);
      if (s.visibility && s.visibility.length !== s.landmarks.length) problems.push("visibility length");
    }
    for (const k of ["detector", "landmarks", "total"])
      if (typeof j.timing_ms[k] !== "number") problems.push("timing_ms." + k);
    if (problems.length) { console.log([...new Set(problems)].join("; ")); process.exit(1); }
  ' "$2" "$3" "$4" "$5" "$6" || fail "$1"
}

run() {  # run NAME OUT_FILE ARGS...: osprey must succeed
  local name=$1 out=$2
  shift 2
  "$osprey" landmarks "$@" >"$out" 2>"$tmp/err" || { fail "$name: exit $?: $(cat "$tmp/err")"; return 1; }
}

m=$cache/media
run face "$tmp/face.json" "$m/astronaut.png" --pipeline face-mesh --json -o "$tmp/face.png" &&
  check_json "face-mesh on astronaut.png" "$tmp/face.json" face-mesh 1 468 roi
run coffee "$tmp/coffee.json" "$m/coffee.png" --pipeline face-mesh --json &&
  check_json "face-mesh on coffee.png" "$tmp/coffee.json" face-mesh 0 0 ""
run pose "$tmp/pose.json" "$m/messi5.jpg" --pipeline pose --json &&
  check_json "pose on messi5.jpg" "$tmp/pose.json" pose 1 33 visibility,presence
run hands "$tmp/hands.json" "$m/messi5.jpg" --pipeline hands --json --max-subjects 1 --threads 1 &&
  check_json "hands on messi5.jpg" "$tmp/hands.json" hands 1 21 handedness,handedness_score
[ "$(head -c 8 "$tmp/face.png" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ] || fail "--out wrote no PNG"
run summary "$tmp/summary.txt" "$m/coffee.png" --pipeline pose && grep -q "no subjects" "$tmp/summary.txt" ||
  fail "summary of coffee.png: $(cat "$tmp/summary.txt")"

# Bad input: exactly one line on stderr starting "osprey: ", exit 1.
# Video: 10 frames of Megamind.avi, one JSON line each, the person found and then tracked.
video=$m/Megamind.avi
if [ -f "$video" ]; then
  check_video() {  # check_video NAME FILE FRAMES EVERY TRACKED(yes|no)
    node -e '
      const [file, frames, every, tracked] = process.argv.slice(1);
      const lines = require("fs").readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      const problems = [];
      if (lines.length !== Number(frames)) problems.push(lines.length + " lines");
      lines.forEach((j, i) => {
        const keys = Object.keys(j).join(",");
        if (keys !== "frame,timestamp_ms,pipeline,image,subjects,timing_ms") problems.push("keys " + keys);
        if (j.frame !== i * Number(every)) problems.push("frame " + j.frame + " at line " + i);
        if (i > 0 && !(j.timestamp_ms > lines[i - 1].timestamp_ms)) problems.push("timestamp " + j.timestamp_ms);
        if (j.image.width !== 720 || j.image.height !== 528) problems.push("size");
        if (j.subjects.length > 1) problems.push(j.subjects.length + " subjects");
        for (const s of j.subjects) if (s.landmarks.length !== 33) problems.push("landmarks");
      });
      // The person is in view from the second frame on (the detector misses frame 0).
      const found = lines.filter((j) => j.subjects.length === 1);
      if (found.length < lines.length - 1) problems.push("person in " + found.length + " frames");
      const trackedCount = found.filter((j) => j.subjects[0].roi.tracked).length;
      if (tracked === "yes" && trackedCount < found.length - 1) problems.push("tracked in " + trackedCount);
      if (tracked === "no" && trackedCount !== 0) problems.push("tracked in " + trackedCount + " with --no-tracking");
      if (problems.length) { console.log([...new Set(problems)].join("; ")); process.exit(1); }
    ' "$2" "$3" "$4" "$5" || fail "$1"
  }
  run "video" "$tmp/video.json" "$video" --pipeline pose --json --max-frames 10 --threads 1 -o "$tmp/pose.mkv" &&
    check_video "pose on Megamind.avi" "$tmp/video.json" 10 1 yes
  [ -s "$tmp/pose.mkv" ] || fail "--out wrote no video"
  run "video, no tracking" "$tmp/detect.json" "$video" --pipeline pose --json --max-frames 4 --every 3 \
    --no-tracking --threads 1 && check_video "pose --no-tracking --every 3" "$tmp/detect.json" 4 3 no
  run "video summary" "$tmp/video.txt" "$video" --pipeline face-mesh --max-frames 3 --threads 1 &&
    grep -q "3 frames, .* fps, detector on [1-3] frames" "$tmp/video.txt" || fail "video summary: $(cat "$tmp/video.txt")"
  head -c 200000 "$video" >"$tmp/cut.avi"
  expect_error "truncated video" "truncated" "$osprey" landmarks "$tmp/cut.avi" --pipeline pose
  expect_error "--no-tracking on an image" "for video input" "$osprey" landmarks "$m/astronaut.png" --no-tracking
else
  echo "skip the video tests: $video not found"
fi

head -c 3000 "$m/messi5.jpg" >"$tmp/truncated.jpg"
printf 'not a picture' >"$tmp/text.png"
expect_error "unknown pipeline" "unknown pipeline 'gait' (known: face-mesh, hands, pose)" "$osprey" landmarks "$m/astronaut.png" --pipeline gait
expect_error "truncated JPEG" "" "$osprey" landmarks "$tmp/truncated.jpg" --pipeline face-mesh
expect_error "text as PNG" "" "$osprey" landmarks "$tmp/text.png" --pipeline pose
expect_error "missing image" "" "$osprey" landmarks "$tmp/nope.png" --pipeline hands
expect_error "detector as landmark model" "not a landmark model" "$osprey" landmarks "$m/astronaut.png" --model face_detection_short_range
expect_error "landmark model as detector" "needs an SSD detector" "$osprey" landmarks "$m/astronaut.png" --detector face_landmark

report
