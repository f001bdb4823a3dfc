// QUANTIZE (float32 to int8 or uint8, one scale and zero point; and int8 or
// uint8 to other parameters) against LiteRT, where rounding decides: for
// several scales and zero points, make_quantize_model writes float ->
// QUANTIZE [-> QUANTIZE] -> DEQUANTIZE; from float, the input holds every
// value halfway between two steps of the output range (as float32:
// (k + 1/2) * scale rounded), the floats on either side of each, the steps
// themselves, values past both ends and seeded random ones; a requantization
// gets every value of its input type. LiteRT (tools/litert) and `osprey run`
// (the default backends and --backend ref) must give the same output bit
// for bit.
//
//   node tests/ops/quantize_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_quantize_model [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run as runTool} from '../support/cli.mjs';
import {exactRuns, runMain, seeded, setUp, summary} from '../support/litert_exact.mjs';

// [type, scale, zero point]: image inputs (1/255, 2/255 around 0), odd
// scales, a power of two (where dividing and multiplying agree), both types.
const CASES = [
  ['uint8', 1 / 255, 0],
  ['int8', 1 / 255, -128],
  ['int8', 2 / 255, 0],
  ['uint8', 2 / 255, 128],
  ['int8', 0.0234567, 5],
  ['uint8', 0.1, 17],
  ['int8', 0.7, -3],
  ['uint8', 1 / 128, 64],
];
// Requantization: [type, scale, zero point] then [type2, scale2, zero point2]
// over every value of the first (twice the scale: halfway at every other
// value; other ratios; both type changes).
const REQUANTIZE_CASES = [
  [['uint8', 0.02, 3], ['uint8', 0.04, 10]],
  [['int8', 0.02, -5], ['int8', 0.04, 7]],
  [['int8', 0.031, 0], ['uint8', 0.0217, 128]],
  [['uint8', 0.05, 128], ['int8', 0.15, -1]],
  [['int8', 0.1, -128], ['uint8', 0.1, 0]],
];

const run = (bin, args) => runTool(bin, args, 60_000);

// The float32 values next to x (x itself a float32).
function neighbours(x) {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  const bits = i[0];
  i[0] = bits + 1;
  const a = f[0];
  i[0] = bits - 1;
  return [a, f[0]];
}

function inputsFor(type, scale, zp, seed) {
  const s = Math.fround(scale);
  const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
  const values = [];
  for (let k = lo - zp - 3; k <= hi - zp + 3; k++) {
    const half = Math.fround((k + 0.5) * s);
    values.push(Math.fround(k * s), half, ...neighbours(half));
  }
  const {random} = seeded(seed, 1);
  for (let i = 0; i < 512; i++) values.push(Math.fround((random() * 2 - 1) * (hi - lo + 40) * s));
  values.push(Math.fround(1e30), Math.fround(-1e30), 0, -0);
  return Float32Array.from(values);
}

// Every value of [type, scale, zero point] as a float32 it quantizes to.
function everyValue(type, scale, zp) {
  const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
  return Float32Array.from({length: hi - lo + 1}, (_, i) => Math.fround((lo + i - zp) * Math.fround(scale)));
}

async function main() {
  const setup = await setUp(process.argv.slice(2), 'quantize', {}, {});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  let failed = 0, checked = 0;
  const cases = [
    ...CASES.map(([type, scale, zp], c) => ({steps: [[type, scale, zp]], x: inputsFor(type, scale, zp, c + 1)})),
    ...REQUANTIZE_CASES.map((steps) => ({steps, x: everyValue(...steps[0])})),
  ];
  for (const [c, {steps, x}] of cases.entries()) {
    const dir = path.join(work, `case${c}`);
    fs.mkdirSync(dir, {recursive: true});
    const modelPath = path.join(dir, 'model.tflite');
    run(args.makeModel, [modelPath, steps[0][0], String(Math.fround(steps[0][1])), String(steps[0][2]),
      String(x.length), ...steps.slice(1).flatMap(([t, s, z]) => [t, String(Math.fround(s)), String(z)])]);
    const scale = steps.at(-1)[1];
    for (const {backend, differ, ours, theirs} of await exactRuns(lite, args.osprey, modelPath,
      [{data: x, shape: [1, x.length]}], dir, `quantize case ${c}`)) {
      const label = `${steps.map(([t, s, z]) => `${t} scale ${s.toPrecision(6)} zero point ${z}`).join(' then ')} ` +
        backend;
      if (differ.length) {
        failed++;
        const i = differ[0];
        console.log(`FAIL ${label}: ${differ.length} of ${x.length} values differ; first x = ${x[i]} ` +
          `(x / scale = ${(x[i] / Math.fround(scale)).toPrecision(12)}): osprey ${ours.data[i] / Math.fround(scale)} ` +
          `steps, LiteRT ${theirs.data[i] / Math.fround(scale)}`);
      }
      checked++;
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
