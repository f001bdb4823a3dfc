// LOGISTIC and TANH, int8 and uint8, against LiteRT on every input value.
// Both are a 256-entry table, so they can only differ where a table value
// lies on a rounding tie: the input scales are searched for ties (under
// XNNPACK's formula, sigmoid in double and tanh in float, and under TFLite's
// float LUTPopulate), with seeded random scales and zero points besides, and
// the scale of the selfie_segmentation_landscape LOGISTIC that first showed
// one (LiteRT rounds it to even). `osprey run` (the default backends and
// --backend ref) must give LiteRT's output bytes exactly.
//
//   node tests/ops/lut_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_lut_model [--seeds 8] [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run} from '../support/cli.mjs';
import {exactRuns, runMain, seeded, setUp, summary} from '../support/litert_exact.mjs';

const f32 = Math.fround;
// The output's steps per unit (1/scale): LOGISTIC 1/256, TANH 1/128.
const STEPS = {logistic: 256, tanh: 128};

// The op in float32 arithmetic, two ways: XNNPACK's (LiteRT hands it these
// ops) and TFLite's own table kernel.
const FORMULAS = {
  logistic: [(x) => f32(Math.exp(x) / (1 + Math.exp(x))), (x) => f32(1 / f32(1 + f32(Math.exp(-x))))],
  tanh: [(x) => f32(Math.tanh(x))],
};

// Whether a table value of (op, scale, zero point) lies on a tie, by either formula.
function hasTie(op, scale, zp, int8) {
  const lo = int8 ? -128 : 0;
  const z = int8 ? zp - 128 : zp;
  for (let q = lo; q < lo + 256; q++) {
    const x = f32(scale * (q - z));
    for (const f of FORMULAS[op]) {
      const y = f(x) * STEPS[op];  // exact: a power of two
      if (y - Math.floor(y) === 0.5) return true;
    }
  }
  return false;
}

// Cases: (op, type, scale, zero point as a uint8 value).
function cases(seeds) {
  const list = [{op: 'logistic', type: 'int8', scale: f32(0.0461800359), zp: 137}];
  for (const op of ['logistic', 'tanh']) {
    for (const type of ['int8', 'uint8']) {
      const int8 = type === 'int8';
      // Tie search: scales on a fine grid, zero points at both ends and the middle.
      let found = 0;
      for (let k = 1; k < 200000 && found < 6; k++) {
        const scale = f32(0.004 + k * 1.37e-6);
        const zp = [0, 128, 255, 77][k % 4];
        if (hasTie(op, scale, zp, int8)) {
          list.push({op, type, scale, zp});
          found++;
        }
      }
      for (let seed = 1; seed <= seeds; seed++) {
        const {random, int} = seeded(seed + (op === 'tanh' ? 1000 : 0) + (int8 ? 500 : 0), 4099);
        list.push({op, type, scale: f32(0.002 + 0.2 * random()), zp: int(0, 255)});
      }
    }
  }
  return list;
}

async function main() {
  const setup = await setUp(process.argv.slice(2), 'lut', {'--seeds': ['seeds', 'number']}, {seeds: 8});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  const x = Uint8Array.from({length: 256}, (_, i) => i);
  let failed = 0, checked = 0;
  for (const [n, c] of cases(args.seeds).entries()) {
    const dir = path.join(work, `case${n}`);
    fs.mkdirSync(dir, {recursive: true});
    const modelPath = path.join(dir, 'model.tflite');
    run(args.makeModel, [modelPath, c.op, c.type, String(c.scale), String(c.zp)], 60_000);
    for (const {backend, differ, ours, theirs} of await exactRuns(lite, args.osprey, modelPath,
      [{data: x, shape: [1, 256]}], dir, `${c.op} case ${n}`)) {
      if (differ.length) {
        failed++;
        const i = differ[0];
        console.log(`FAIL ${c.op} ${c.type} scale ${c.scale} zero point ${c.zp} ${backend}: ${differ.length} of 256 ` +
          `values differ; input ${i}: osprey ${ours.data[i]}, LiteRT ${theirs.data[i]}`);
      }
      checked++;
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
