// Checks examples/vdo_detect's per-frame JSON lines against `osprey detect
// --json` on the RGB input the app dumped for that frame.
// usage: node vdo_detect_compare.mjs APP.jsonl DUMP_DIR FRAMES
//
// The two do not feed the model the same bytes, by design: the app, like any
// camera app, gives cpu-proc's pixels straight to the uint8 input, while
// osprey detect maps them to the zoo's [-1, 1] and quantizes that with the
// model's input scale and zero point (0.0078, 129 from calibration): pixel
// codes differ by up to 2. So detections are compared with tolerances: every
// detection scoring >= STRONG on either side has a partner on the other side
// with the same label, IoU >= MIN_IOU and a score within SCORE_TOL (two steps
// of the uint8 scores, 0.0273 apart for this model); weaker detections (the
// op keeps scores >= 0.4) may appear on one side only. Measured on vtest.avi: box edges differ by about
// one pixel of 300, scores by at most one step.
import fs from 'node:fs';
import path from 'node:path';

const STRONG = 0.45;
const MIN_IOU = 0.7;
const SCORE_TOL = 0.06;

function iou(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (r) => (r[2] - r[0]) * (r[3] - r[1]);
  return inter / (area(a) + area(b) - inter);
}

const [appFile, dumpDir, framesArg] = process.argv.slice(2);
const frames = Number(framesArg);
const lines = fs.readFileSync(appFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
let failures = 0;
let total = 0;
let checked = 0;
const fail = (msg) => {
  failures++;
  console.log(`FAIL ${msg}`);
};
if (lines.length !== frames) fail(`the app printed ${lines.length} frame lines, expected ${frames}`);

for (const [k, line] of lines.entries()) {
  const app = JSON.parse(line);
  if (app.frame !== k) fail(`line ${k} is frame ${app.frame}`);
  const ours = JSON.parse(fs.readFileSync(path.join(dumpDir, `frame${k}.json`), 'utf8'));
  const {width, height} = ours.image;
  const theirs = ours.detections;
  const mine = app.detections.map((d) => ({label: d.label, score: d.score,
    box: [d.box[0] * width, d.box[1] * height, d.box[2] * width, d.box[3] * height]}));
  const partner = (d, others) => others.find((o) => o.label === d.label &&
      Math.abs(o.score - d.score) <= SCORE_TOL && iou(o.box, d.box) >= MIN_IOU);
  const show = (list) => JSON.stringify(list.map(({label, score, box}) =>
      ({label, score, box: box.map((v) => Math.round(v * 10) / 10)})));
  for (const [side, list, others] of [['app', mine, theirs], ['osprey detect', theirs, mine]]) {
    for (const d of list) {
      if (d.score >= STRONG && !partner(d, others)) {
        fail(`frame ${k}: ${side}'s ${show([d])} has no partner in ${show(others)}`);
      }
    }
  }
  checked += mine.filter((d) => d.score >= STRONG).length;
  total += app.detections.length;
  console.log(`frame ${k}: app ${app.detections.length} detections, osprey detect ${theirs.length}` +
              (app.detections.length ? ` (${[...new Set(app.detections.map((d) => d.label))].join(', ')})` : ''));
}
console.log(failures ? `${failures} failures` : `ok   ${lines.length} frames, ${total} detections, the ${checked} scoring >= ${STRONG} all match osprey detect`);
process.exit(failures ? 1 : 0);
