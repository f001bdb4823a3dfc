#!/usr/bin/env node
// The three PaddleOCR models, imported from ONNX, against ONNX Runtime on
// seeded random inputs: osprey on the .onnx, osprey on `osprey convert`'s
// .tflite, and LiteRT on that .tflite. Each output must hold
// max|x - ort| <= 1e-3 * max(1, max|ort|). Exit 77 (skipped) without the models
// or the Node runtimes.
//
//   node tests/onnx/ppocr_ort.mjs --osprey build/bin/osprey [--models DIR] [--work DIR] [--only NAME]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {readNpy} from '../../tools/litert/npy.mjs';
import {parseArgs, run} from '../support/cli.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS = [
  {name: 'ch_PP-OCRv4_det_infer', shape: 'x:1,3,640,640'},
  {name: 'ch_ppocr_mobile_v2.0_cls_infer', shape: 'x:1,3,48,192'},
  {name: 'ch_PP-OCRv4_rec_infer', shape: 'x:1,3,48,320'},
];
const TIMEOUT_MS = 600_000;

const a = parseArgs(process.argv.slice(2), {
  '--osprey': ['osprey', 'value'],
  '--models': ['models', 'value'],
  '--work': ['work', 'value'],
  '--only': ['only', 'value'],
}, {models: path.join(process.env.OSPREY_CACHE || path.join(os.homedir(), '.cache/osprey'), 'onnx')});
if (!a.osprey) throw new Error('--osprey is required');

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}
for (const tool of ['litert', 'onnxruntime']) {
  if (!fs.existsSync(path.join(ROOT, 'tools', tool, 'node_modules'))) skip(`tools/${tool} has no node_modules`);
}
const models = MODELS.filter((m) => !a.only || m.name === a.only);
for (const m of models) {
  if (!fs.existsSync(path.join(a.models, `${m.name}.onnx`))) skip(`${m.name}.onnx is not in ${a.models}`);
}

const work = a.work || fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-onnx-'));
const node = process.execPath;

function maxAbs(arr) {
  let m = 0;
  for (const v of arr) m = Math.max(m, Math.abs(v));
  return m;
}

// Compares every outputN.npy of `dir` with ORT's; returns failure lines.
function compare(label, dir, ortDir, count) {
  const failures = [];
  for (let i = 0; i < count; i++) {
    const ref = readNpy(path.join(ortDir, `output${i}.npy`));
    const got = readNpy(path.join(dir, `output${i}.npy`));
    if (ref.shape.join(',') !== got.shape.join(',')) {
      failures.push(`${label} output${i}: shape [${got.shape}] vs ORT [${ref.shape}]`);
      continue;
    }
    let diff = 0;
    for (let k = 0; k < ref.data.length; k++) diff = Math.max(diff, Math.abs(got.data[k] - ref.data[k]));
    const bound = 1e-3 * Math.max(1, maxAbs(ref.data));
    const ok = diff <= bound;
    console.log(`${label} output${i} [${ref.shape}]: max|diff| ${diff.toExponential(3)} (bound ${bound.toExponential(3)}) ${ok ? 'ok' : 'FAIL'}`);
    if (!ok) failures.push(`${label} output${i}: max|diff| ${diff} > ${bound}`);
  }
  return failures;
}

const failures = [];
for (const [index, m] of models.entries()) {
  const onnx = path.join(a.models, `${m.name}.onnx`);
  const dir = path.join(work, m.name);
  const ortDir = path.join(dir, 'ort');
  fs.mkdirSync(dir, {recursive: true});
  run(node, [path.join(ROOT, 'tools/onnxruntime/run.mjs'), onnx, '--random-seed', String(100 + index),
    '--input-shape', m.shape, '--output-dir', ortDir], TIMEOUT_MS);
  const input = path.join(ortDir, 'input0.npy');
  const count = fs.readdirSync(ortDir).filter((f) => /^output\d+\.npy$/.test(f)).length;

  run(a.osprey, ['run', onnx, '--input-shape', m.shape, '--input', input, '--output-dir', path.join(dir, 'osprey-onnx')], TIMEOUT_MS);
  failures.push(...compare(`${m.name} osprey .onnx`, path.join(dir, 'osprey-onnx'), ortDir, count));

  const tflite = path.join(dir, `${m.name}.tflite`);
  run(a.osprey, ['convert', onnx, '--input-shape', m.shape, '-o', tflite], TIMEOUT_MS);
  run(a.osprey, ['run', tflite, '--input', input, '--output-dir', path.join(dir, 'osprey-tflite')], TIMEOUT_MS);
  failures.push(...compare(`${m.name} osprey .tflite`, path.join(dir, 'osprey-tflite'), ortDir, count));

  run(node, [path.join(ROOT, 'tools/litert/run.mjs'), tflite, '--input', input, '--output-dir', path.join(dir, 'litert')], TIMEOUT_MS);
  failures.push(...compare(`${m.name} LiteRT .tflite`, path.join(dir, 'litert'), ortDir, count));
}
if (!a.work) fs.rmSync(work, {recursive: true, force: true});
if (failures.length) {
  console.error(`FAIL:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('all outputs within 1e-3 * max(1, max|ort|)');
