// LEAKY_RELU, int8 and uint8, against LiteRT on every input value: seeded
// random scales (output scales from 1/300 to 300 times the input's, past
// the range in which LiteRT hands the op to XNNPACK), zero points and
// slopes (0, negative, tiny, 0.1 and random); `osprey run` (the default
// backends and --backend ref) must give LiteRT's output bytes exactly.
//
//   node tests/ops/leaky_relu_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_leaky_relu_model [--seeds 40] [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run} from '../support/cli.mjs';
import {exactRuns, runMain, seeded, setUp, summary} from '../support/litert_exact.mjs';

const SLOPES = [0, -0.5, 0.002, 0.1];

async function main() {
  const setup = await setUp(process.argv.slice(2), 'leaky-relu', {'--seeds': ['seeds', 'number']}, {seeds: 40});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  const x = Uint8Array.from({length: 256}, (_, i) => i);
  let failed = 0, checked = 0;
  for (let seed = 1; seed <= args.seeds; seed++) {
    const {random} = seeded(seed, 6151);
    const type = seed % 2 ? 'int8' : 'uint8';
    const inScale = Math.fround(0.005 + 0.1 * random());
    const outScale = Math.fround(inScale * 300 ** (2 * random() - 1));
    const inZp = Math.floor(random() * 256), outZp = Math.floor(random() * 256);
    const alpha = Math.fround(seed % 3 ? 0.05 + 0.5 * random() : SLOPES[(seed / 3) % SLOPES.length]);
    const dir = path.join(work, `seed${seed}`);
    fs.mkdirSync(dir, {recursive: true});
    const modelPath = path.join(dir, 'model.tflite');
    run(args.makeModel, [modelPath, type, String(inScale), String(inZp), String(outScale), String(outZp), String(alpha)],
      60_000);
    for (const {backend, differ, ours, theirs} of await exactRuns(lite, args.osprey, modelPath,
      [{data: x, shape: [1, 256]}], dir, `leaky_relu seed ${seed}`)) {
      if (differ.length) {
        failed++;
        const i = differ[0];
        console.log(`FAIL ${type} scale ${inScale.toPrecision(4)} -> ${outScale.toPrecision(4)} zero point ${inZp} -> ` +
          `${outZp} alpha ${alpha} ${backend}: ${differ.length} of 256 values differ; input ${i}: osprey ${ours.data[i]}, ` +
          `LiteRT ${theirs.data[i]}`);
      }
      checked++;
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
