// `osprey detect / segment / track` on vtest.avi (a few frames each): the JSON
// lines' schemas, --every and --max-frames, annotated videos that read back,
// and the Kalman tracker making fewer ID switches than frame-to-frame IoU
// matching. Usage: node video.mjs OSPREY_BINARY VTEST_AVI SCRATCH_DIR
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {run} from '../support/cli.mjs';

const [osprey, vtest, scratch] = process.argv.slice(2);
if (!fs.existsSync(vtest)) {
  console.log(`skip: ${vtest} not found (fetch the media or install opencv-doc)`);
  process.exit(77);
}
const DETECTOR = 'object_detection_ssd_mobilenetv2_oidv4_fp16';
const cache = process.env.OSPREY_CACHE || path.join(process.env.HOME || '', '.cache/osprey');
if (!fs.existsSync(path.join(cache, 'models', `${DETECTOR}.tflite`))) {
  console.log(`skip: ${DETECTOR} not in ${cache}/models (run the zoo fetcher)`);
  process.exit(77);
}
fs.mkdirSync(scratch, {recursive: true});
const TIMEOUT = 300_000;
const lines = (text) => text.trim().split('\n').map((l) => JSON.parse(l));
const keys = (o) => Object.keys(o).join(',');
let checks = 0;
const ok = (what) => {
  checks++;
  console.log(`ok   ${what}`);
};

// detect: frames 0, 2, 4 of the clip, then the annotated H.264 video read back.
const annotated = path.join(scratch, 'detect.mp4');
const detect = lines(run(osprey, ['detect', vtest, '-m', DETECTOR, '--every', '2', '--max-frames', '3', '--json',
  '--out', annotated], TIMEOUT));
assert.deepEqual(detect.map((d) => d.frame), [0, 2, 4]);
assert.deepEqual(detect.map((d) => d.timestamp_ms), [0, 200, 400]);
for (const d of detect) {
  assert.equal(keys(d), 'frame,timestamp_ms,model,image,detections,timing_ms');
  assert.deepEqual(d.image, {width: 768, height: 576});
  assert.ok(d.detections.some((x) => x.label === 'Person'), `frame ${d.frame}: no person found`);
  assert.equal(keys(d.timing_ms), 'preprocess,inference,postprocess');
}
ok('detect --every 2 --max-frames 3 --json: frames 0, 2, 4 with people');
const back = run(osprey, ['detect', annotated, '-m', DETECTOR, '--json'], TIMEOUT);
assert.equal(lines(back).length, 3, 'the annotated video holds the 3 processed frames');
assert.deepEqual(lines(back).map((d) => d.timestamp_ms), [0, 200, 400], 'played at the rate frames were taken');
ok('detect --out detect.mp4 reads back: 3 frames, 5 fps');

// segment: JSON lines and an MJPEG overlay video.
const overlay = path.join(scratch, 'segment.avi');
const segment = lines(run(osprey, ['segment', vtest, '--max-frames', '2', '--json', '--out', overlay], TIMEOUT));
assert.equal(segment.length, 2);
for (const s of segment) {
  assert.equal(keys(s), 'frame,timestamp_ms,model,image,threshold,foreground,timing_ms');
  assert.ok(s.foreground >= 0 && s.foreground <= 1);
}
assert.ok(fs.statSync(overlay).size > 10_000, 'overlay video written');
ok('segment --max-frames 2 --json --out segment.avi');

// track: the schema, stable integer IDs, and the ID-switch comparison.
const FRAMES = 60;
const tracked = spawnSync(osprey, ['track', vtest, '-m', DETECTOR, '--labels', 'Person', '--max-frames', String(FRAMES),
  '--baseline', '--json', '--out', path.join(scratch, 'track.mkv')], {encoding: 'utf8', timeout: TIMEOUT});
assert.equal(tracked.status, 0, tracked.stderr);
const frames = lines(tracked.stdout);
assert.equal(frames.length, FRAMES);
const ids = new Set();
for (const f of frames) {
  assert.equal(keys(f), 'frame,timestamp_ms,tracks,timing_ms');
  for (const t of f.tracks) {
    assert.equal(keys(t), 'id,label,score,box');
    assert.ok(Number.isInteger(t.id) && t.id > 0);
    assert.equal(t.label, 'Person');
    assert.equal(t.box.length, 4);
    ids.add(t.id);
  }
  assert.equal(new Set(f.tracks.map((t) => t.id)).size, f.tracks.length, `frame ${f.frame}: an ID used twice`);
}
ok(`track --json: ${FRAMES} lines, ${ids.size} IDs`);
const count = (name) => {
  const m = tracked.stderr.match(new RegExp(`${name}: (\\d+) IDs, (\\d+) ID switches`));
  assert.ok(m, `no "${name}" summary in: ${tracked.stderr}`);
  return {ids: Number(m[1]), switches: Number(m[2])};
};
const kalman = count('kalman tracker'), baseline = count('iou baseline');
assert.equal(kalman.ids, ids.size);
assert.ok(kalman.switches < baseline.switches,
  `kalman ${kalman.switches} ID switches, iou baseline ${baseline.switches}: expected fewer`);
assert.ok(kalman.ids < baseline.ids, `kalman ${kalman.ids} IDs, iou baseline ${baseline.ids}`);
ok(`track: kalman ${kalman.switches} ID switches / ${kalman.ids} IDs < iou baseline ${baseline.switches} / ${baseline.ids}`);
console.log(`${checks} passed`);
