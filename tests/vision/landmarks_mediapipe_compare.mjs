#!/usr/bin/env node
// osprey's landmark pipelines against MediaPipe's own JS solutions (run in
// headless Chromium by tools/mediapipe/landmarks.mjs) on the sample photos
// and, given --frames-tool, on frames of the sample videos written as PNG:
// both must find the same number of subjects, and each matched subject's
// landmarks must lie within --tolerance of the ROI size, median over points
// (see landmarks_agreement.mjs for the measure).
//
//   node tests/vision/landmarks_mediapipe_compare.mjs --osprey BIN
//        [--media DIR] [--images a.png,b.jpg] [--pipelines face-mesh,face-mesh-refined,hands,pose,objectron-cup] [--tolerance 0.02]
//        [--frames-tool osprey_video_frames] [--frames 'Megamind.avi:50,100,200;vtest.avi:100']
//
// Exit 0 when all agree, 1 on any disagreement or error, 77 (a ctest skip)
// with one line when Chromium cannot start.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from '../support/cli.mjs';
import {compareImage, roiLines} from './landmarks_agreement.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ORACLE = path.join(ROOT, 'tools/mediapipe/landmarks.mjs');
const EXIT_NO_BROWSER = 77;
const cache = process.env.OSPREY_CACHE || path.join(os.homedir(), '.cache', 'osprey');

const args = parseArgs(
  process.argv.slice(2),
  {
    '--osprey': ['osprey', 'value'],
    '--media': ['media', 'value'],
    '--images': ['images', 'value'],
    '--pipelines': ['pipelines', 'value'],
    '--tolerance': ['tolerance', 'number'],
    '--frames-tool': ['framesTool', 'value'],
    '--frames': ['frames', 'value'],
  },
  {
    osprey: process.env.OSPREY_BIN,
    media: path.join(cache, 'media'),
    images: 'astronaut.png,messi5.jpg,coffee.png',
    pipelines: 'face-mesh,face-mesh-refined,hands,pose,objectron-cup',
    tolerance: 0.02,
    frames: 'Megamind.avi:50,100,200;vtest.avi:100',
  },
);

function fail(message) {
  process.stderr.write(`landmarks_mediapipe_compare: ${message}\n`);
  process.exit(1);
}

// MediaPipe's results, one per image, in the order given.
function oracle(pipeline, images) {
  // --debug: MediaPipe's ROIs too, printed where a subject disagrees. The
  // oracle runs with this node's flags (cmake/tests.cmake: OSPREY_NODE).
  const r = spawnSync(process.execPath, [...process.execArgv, ORACLE, '--debug', '--pipeline', pipeline, ...images], {encoding: 'utf8', timeout: 600e3});
  const why = (r.stderr || '').trim().split('\n').pop();
  if (r.status === EXIT_NO_BROWSER) {
    process.stdout.write(`SKIPPED: the MediaPipe oracle needs Chromium: ${why}\n`);
    process.exit(EXIT_NO_BROWSER);
  }
  if (r.status !== 0) fail(`MediaPipe ${pipeline}: ${why || r.error?.message || `exit ${r.status}`}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// The oracle's objectron-OBJECT is osprey's `--pipeline objectron --object
// OBJECT`; its face-mesh-refined is the face mesh with the attention model.
function pipelineArgs(pipeline) {
  if (pipeline === 'face-mesh-refined') return ['--pipeline', 'face-mesh', '--model', 'face_landmark_with_attention'];
  const object = /^objectron-(.+)$/.exec(pipeline)?.[1];
  return object ? ['--pipeline', 'objectron', '--object', object] : ['--pipeline', pipeline];
}

function osprey(pipeline, image) {
  const r = spawnSync(args.osprey, ['landmarks', image, ...pipelineArgs(pipeline), '--json'], {encoding: 'utf8', timeout: 120e3});
  if (r.status !== 0) fail(`osprey landmarks ${image} --pipeline ${pipeline}: ${(r.stderr || r.error?.message || '').trim()}`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    return fail(`osprey landmarks ${image} --pipeline ${pipeline} printed no JSON object`);
  }
}

// The chosen video frames as PNG files in a temporary folder: [{file, name}].
function videoFrames() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-frames-'));
  process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
  const out = [];
  for (const spec of args.frames.split(';').filter(Boolean)) {
    const [video, list] = spec.split(':');
    const indices = (list ?? '').split(',').filter(Boolean);
    if (indices.length === 0) fail(`--frames: '${spec}' names no frame (VIDEO:N,N,...)`);
    const sub = path.join(dir, video);
    fs.mkdirSync(sub);
    const r = spawnSync(args.framesTool, [path.resolve(args.media, video), sub, ...indices], {encoding: 'utf8', timeout: 120e3});
    if (r.status !== 0) fail((r.stderr || r.error?.message || '').trim());
    for (const n of indices) out.push({file: path.join(sub, `frame_${n}.png`), name: `${video} frame ${n}`});
  }
  return out;
}

if (!args.osprey) fail('--osprey BIN (or OSPREY_BIN) is needed');
const inputs = args.images.split(',').map((f) => ({file: path.resolve(args.media, f), name: f}));
if (args.framesTool) inputs.push(...videoFrames());
const images = inputs.map((i) => i.file);
// Disagreements beyond the limit that are known and not yet understood, by
// "PIPELINE NAME" with the reason: printed, but they do not fail the run;
// every other check does. None now: the last two (hands Megamind frame 50,
// pose frame 200) came from the detector input, see docs/landmarks.md.
const KNOWN = {};
let ok = true;
for (const pipeline of args.pipelines.split(',')) {
  const theirs = oracle(pipeline, images);
  for (const [i, image] of images.entries()) {
    const ours = osprey(pipeline, image);
    const verdict = compareImage(ours, {...theirs[i], file: inputs[i].name}, args.tolerance);
    for (const line of verdict.lines) console.log(line);
    if (!verdict.ok) for (const line of roiLines(ours, theirs[i].debug?.rois_from_detections)) console.log(line);
    const known = KNOWN[`${pipeline} ${inputs[i].name}`];
    if (!verdict.ok && known) console.log(`  known disagreement, not counted: ${known}`);
    else if (verdict.ok && known) console.log('  listed as a known disagreement but agrees now: take it off the list');
    ok &&= verdict.ok || Boolean(known);
  }
}
if (!ok) fail('osprey and MediaPipe disagree (lines above)');
console.log('osprey agrees with MediaPipe on every image');
