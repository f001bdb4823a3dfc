#!/usr/bin/env bash
# `osprey landmarks --pipeline objectron` end to end on coffee.png: the JSON
# schema of docs/landmarks.md (the object, one cup with its detector label and
# 9 keypoints), no chair in the photo, the annotated PNG; on a folder of three
# copies of the photo, one JSON line per frame with the cup tracked after the
# first; and one-line errors for a missing or unknown --object, --object with
# another pipeline, and a corrupt image.
# Skips (77) when the zoo's models or photos are not fetched.
# usage: landmarks_objectron.sh OSPREY
set -u
osprey=$1
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
for f in models/object_detection_ssd_mobilenetv2_oidv4_fp16 models/object_detection_3d_cup \
  models/object_detection_3d_chair; do
  [ -f "$cache/$f.tflite" ] || { echo "skipped: needs $cache/$f.tflite (make fetch)"; exit 77; }
done
[ -f "$cache/media/coffee.png" ] || { echo "skipped: needs $cache/media/coffee.png (make fetch)"; exit 77; }
command -v node >/dev/null || { echo "skipped: needs node to read the JSON"; exit 77; }
source "$(dirname "$0")/expect_error.sh"
photo=$cache/media/coffee.png

# check_lines NAME FILE OBJECT LINES SUBJECTS: keys, counts, the cup's keypoints.
check_lines() {
  node -e '
    const [file, object, count, subjects] = process.argv.slice(1);
    const lines = require("fs").readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const problems = [];
    if (lines.length !== Number(count)) problems.push(lines.length + " lines");
    lines.forEach((j, i) => {
      const video = lines.length > 1;
      const keys = Object.keys(j).join(",");
      const want = (video ? "frame,timestamp_ms," : "") + "pipeline,object,image,subjects,timing_ms";
      if (keys !== want) problems.push("keys " + keys);
      if (j.pipeline !== "objectron" || j.object !== object) problems.push("pipeline " + j.pipeline + " " + j.object);
      if (j.image.width !== 600 || j.image.height !== 400) problems.push("size");
      if (j.subjects.length !== Number(subjects)) problems.push(j.subjects.length + " subjects in line " + i);
      for (const s of j.subjects) {
        if (Object.keys(s).join(",") !== "score,label,box,landmarks,roi") problems.push("subject keys");
        if (!["Coffee cup", "Mug"].includes(s.label)) problems.push("label " + s.label);
        if (!(s.score >= 0.99 && s.score <= 1)) problems.push("score " + s.score);
        if (s.landmarks.length !== 9) problems.push(s.landmarks.length + " keypoints");
        const [x, y] = s.landmarks[0];
        // Looked at by hand: the cup body spans x 175-410, y 15-310.
        if (!(x > 175 && x < 410 && y > 15 && y < 310)) problems.push("centre " + x + "," + y);
        if (video && i > 0 && !s.roi.tracked) problems.push("not tracked in frame " + j.frame);
      }
      for (const k of ["detector", "landmarks", "total"])
        if (typeof j.timing_ms[k] !== "number") problems.push("timing_ms." + k);
      if (video && i > 0 && j.timing_ms.detector !== 0) problems.push("detector ran in frame " + j.frame);
    });
    if (problems.length) { console.log([...new Set(problems)].join("; ")); process.exit(1); }
  ' "$2" "$3" "$4" "$5" || fail "$1"
}

run() {  # run NAME OUT_FILE ARGS...: osprey must succeed
  local name=$1 out=$2
  shift 2
  "$osprey" landmarks "$@" >"$out" 2>"$tmp/err" || { fail "$name: exit $?: $(cat "$tmp/err")"; return 1; }
}

run cup "$tmp/cup.json" "$photo" --pipeline objectron --object cup --json -o "$tmp/cup.png" --threads 1 &&
  check_lines "cup in coffee.png" "$tmp/cup.json" cup 1 1
[ "$(head -c 8 "$tmp/cup.png" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ] || fail "--out wrote no PNG"
run chair "$tmp/chair.json" "$photo" --pipeline objectron --object chair --json --threads 1 &&
  check_lines "no chair in coffee.png" "$tmp/chair.json" chair 1 0
run summary "$tmp/summary.txt" "$photo" --pipeline objectron --object cup --threads 1 &&
  grep -Eq "^ +1  (Coffee cup|Mug)  score" "$tmp/summary.txt" || fail "summary: $(cat "$tmp/summary.txt")"
mkdir "$tmp/frames"
for i in 1 2 3; do cp "$photo" "$tmp/frames/$i.png"; done
run folder "$tmp/frames.json" "$tmp/frames" --pipeline objectron --object cup --max-subjects 1 --json --threads 1 &&
  check_lines "cup tracked through a folder" "$tmp/frames.json" cup 3 1

# Bad input: exactly one line on stderr starting "osprey: ", exit 1.
printf 'not a picture' >"$tmp/text.png"
expect_error "unknown object" "no 3D-box model for object 'teapot' (known: camera, chair, cup, sneakers)" "$osprey" landmarks \
  "$photo" --pipeline objectron --object teapot
expect_error "no --object" "needs --object" "$osprey" landmarks "$photo" --pipeline objectron
expect_error "--object with pose" "--object is for --pipeline objectron" "$osprey" landmarks "$photo" --pipeline pose --object cup
expect_error "text as PNG" "" "$osprey" landmarks "$tmp/text.png" --pipeline objectron --object cup
expect_error "not a 3D-box model" "not a 3D-box" "$osprey" landmarks "$photo" --pipeline objectron --object cup --model face_landmark
expect_error "--no-tracking on an image" "for video input" "$osprey" landmarks "$photo" --pipeline objectron --object cup --no-tracking

report
