// SQUARED_DIFFERENCE against LiteRT on seeded random models: for each seed and
// type (float32, int8 between uint8 QUANTIZE edges, as LiteRT.js takes no int8
// I/O), make_squared_difference_model writes the model with osprey's writer; LiteRT (tools/litert) runs it on seeded random
// inputs, and `osprey run` on the same inputs through the default backend and
// --backend ref. float32 must agree to a few ulps, int8 exactly (TFLite's
// arithmetic) — one step is tolerated on at most 0.1% of the values.
//
//   node tests/ops/squared_difference_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_squared_difference_model [--seeds 24] [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run as runTool} from '../support/cli.mjs';
import {runMain, setUp, summary} from '../support/litert_exact.mjs';

const run = (bin, args) => runTool(bin, args, 60_000);

// Max abs difference, and how many values differ by more than `tol(expected)`.
function compare(ours, theirs, tol) {
  if (ours.data.length !== theirs.data.length) return {maxDiff: Infinity, bad: ours.data.length, ne: 0};
  let maxDiff = 0, bad = 0, ne = 0;
  for (let i = 0; i < ours.data.length; i++) {
    const d = Math.abs(Number(ours.data[i]) - Number(theirs.data[i]));
    if (d > 0) ne++;
    if (d > tol(Number(theirs.data[i]))) bad++;
    maxDiff = Math.max(maxDiff, d);
  }
  return {maxDiff, bad, ne};
}

async function main() {
  const setup = await setUp(process.argv.slice(2), 'sqdiff', {'--seeds': ['seeds', 'number']}, {seeds: 24});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  let failed = 0, checked = 0;
  for (let seed = 1; seed <= args.seeds; seed++) {
    for (const type of ['float', 'int8']) {
      const dir = path.join(work, `${type}-${seed}`);
      fs.mkdirSync(dir, {recursive: true});
      const modelPath = path.join(dir, 'model.tflite');
      run(args.makeModel, [modelPath, String(seed), type]);
      const model = await lite.rt.compile(modelPath, {name: `squared_difference ${type} seed ${seed}`});
      const inputs = lite.randomInputs(model, seed);
      const theirs = (await model.run(inputs))[0];
      model.delete();
      const inputFiles = inputs.map((t, i) => {
        const f = path.join(dir, `input${i}.npy`);
        lite.writeNpy(f, t.data, t.shape);
        return f;
      });
      for (const backend of [null, 'ref']) {
        const outDir = path.join(dir, backend ?? 'default');
        const extra = backend ? ['--backend', backend] : [];
        run(args.osprey, ['run', modelPath, ...inputFiles.flatMap((f) => ['--input', f]), '--output-dir', outDir, ...extra]);
        const ours = lite.readNpy(path.join(outDir, 'output0.npy'));
        const shapeOk = JSON.stringify(ours.shape) === JSON.stringify(theirs.shape);
        const tol = type === 'float' ? (x) => 4e-7 * Math.max(1, Math.abs(x)) : () => 1;
        const c = shapeOk ? compare(ours, theirs, tol) : {maxDiff: Infinity, bad: 1, ne: 1};
        const n = theirs.data.length;
        const ok = c.bad === 0 && (type === 'float' || c.ne <= Math.max(1, Math.floor(n / 1000)));
        const label = `${type} seed ${seed} ${backend ?? 'default'} [${theirs.shape}]`;
        if (!ok) {
          failed++;
          console.log(`FAIL ${label}: max diff ${c.maxDiff}, ${c.ne} of ${n} values differ (shape ${ours.shape} vs ${theirs.shape})`);
        } else if (c.ne > 0) {
          console.log(`ok   ${label}: ${c.ne} of ${n} values differ, max ${c.maxDiff}`);
        }
        checked++;
      }
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
