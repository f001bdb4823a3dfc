// Checks examples/vdo_detect's per-frame JSON lines against `osprey detect
// --json` on the RGB input the app dumped for that frame.
// usage: node vdo_detect_compare.mjs APP.jsonl DUMP_DIR FRAMES
// Each frame: same number of detections; each app detection matched to one of
// osprey's with the same label, score within SCORE_TOL and every box edge
// within BOX_TOL pixels of the model input.
import fs from 'node:fs';
import path from 'node:path';

// Both sides run the same uint8 model on the same pixels; what differs is the
// printing: the app prints scores and normalized boxes to 4 decimals (boxes
// then scaled here: 300 * 5e-5 = 0.015 px), osprey detect rounds pixels to
// 0.1 and scores to 4 decimals. Anything larger is a real difference.
const SCORE_TOL = 2e-4;
const BOX_TOL = 0.1;

const [appFile, dumpDir, framesArg] = process.argv.slice(2);
const frames = Number(framesArg);
const lines = fs.readFileSync(appFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
let failures = 0;
let total = 0;
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
  if (app.detections.length !== theirs.length) {
    fail(`frame ${k}: the app found ${app.detections.length} detections, osprey detect ${theirs.length}`);
    continue;
  }
  const used = new Set();
  for (const d of app.detections) {
    const box = [d.box[0] * width, d.box[1] * height, d.box[2] * width, d.box[3] * height];
    const match = theirs.findIndex((t, i) => !used.has(i) && t.label === d.label &&
        Math.abs(t.score - d.score) <= SCORE_TOL && t.box.every((v, j) => Math.abs(v - box[j]) <= BOX_TOL));
    if (match < 0) {
      fail(`frame ${k}: app detection ${JSON.stringify(d)} (box ${box.map((v) => v.toFixed(2))} px) ` +
           `has no match in osprey detect's ${JSON.stringify(theirs.map(({label, score, box}) => ({label, score, box})))}`);
    } else {
      used.add(match);
    }
  }
  total += app.detections.length;
  console.log(`frame ${k}: ${app.detections.length} detections match` +
              (app.detections.length ? ` (${[...new Set(app.detections.map((d) => d.label))].join(', ')})` : ''));
}
console.log(failures ? `${failures} failures` : `ok   ${lines.length} frames, ${total} detections, all match osprey detect`);
process.exit(failures ? 1 : 0);
