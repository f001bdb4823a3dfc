// MEAN over height and width (keep_dims; the squeeze-and-excitation pooling
// of MobileNetV3-style models), int8 and uint8, against LiteRT: seeded random
// sizes (one row to 32x32 windows), channels, scales (output scales from
// 1/32 to 4 times the input's) and zero points; every other seed random
// inputs, the others inputs whose channels' exact means lie within 2e-4 of
// a half step, where the rounding decides; `osprey run` (the default
// backends and --backend ref) must give LiteRT's output bytes exactly.
//
//   node tests/ops/mean_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_reduce_model [--seeds 40] [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run} from '../support/cli.mjs';
import {exactRuns, runMain, seeded, setUp, summary} from '../support/litert_exact.mjs';

const SIZES = [[9, 16], [12, 12], [7, 7], [1, 5], [32, 32], [3, 50], [18, 32], [4, 4], [2, 3], [16, 9]];

// `c` channels of `n` pixels, each channel's values summing to one whose
// exact mean, in output steps, lies within 2e-4 of a half (as many distinct
// sums as there are, up to c; the rest repeat them); uint8 bytes as the
// model's input takes them (an int8 model's values + 128).
function nearHalfInputs(n, c, type, inScale, inZp, outScale, outZp) {
  const shift = type === 'int8' ? 128 : 0;
  const zi = inZp - shift, zo = outZp - shift;
  const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
  const sums = [];
  for (let s = (lo - zi) * n; s <= (hi - zi) * n && sums.length < c; s++) {
    const v = (s * inScale) / (outScale * n) + zo;
    if (Math.abs(v - Math.floor(v) - 0.5) < 2e-4 && v > lo && v < hi) sums.push(s);
  }
  if (!sums.length) sums.push(0);
  const x = new Uint8Array(n * c);
  for (let ch = 0; ch < c; ch++) {
    let need = sums[ch % sums.length];  // of q - zi over the channel
    for (let p = 0; p < n; p++) {
      const q = Math.min(hi, Math.max(lo, zi + Math.round(need / (n - p))));
      need -= q - zi;
      x[p * c + ch] = q + shift;
    }
  }
  return x;
}

async function main() {
  const setup = await setUp(process.argv.slice(2), 'mean', {'--seeds': ['seeds', 'number']}, {seeds: 40});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  let failed = 0, checked = 0;
  for (let seed = 1; seed <= args.seeds; seed++) {
    const {random, int} = seeded(seed);
    const type = seed % 2 ? 'int8' : 'uint8';
    const [h, w] = SIZES[seed % SIZES.length];
    const c = int(1, 40);
    const inScale = Math.fround(0.005 + 0.1 * random());
    const outScale = Math.fround(inScale * 2 ** (random() * 7 - 5));
    const inZp = int(0, 255), outZp = int(0, 255);
    const x = seed % 4 < 2 ? Uint8Array.from({length: h * w * c}, () => int(0, 255))
                           : nearHalfInputs(h * w, c, type, inScale, inZp, outScale, outZp);
    const dir = path.join(work, `seed${seed}`);
    fs.mkdirSync(dir, {recursive: true});
    const modelPath = path.join(dir, 'model.tflite');
    run(args.makeModel, [modelPath, 'MEAN', type, String(h), String(w), String(c), String(inScale), String(inZp),
      String(outScale), String(outZp), '1,2', '1'], 60_000);
    for (const {backend, differ, ours, theirs} of await exactRuns(lite, args.osprey, modelPath,
      [{data: x, shape: [1, h, w, c]}], dir, `mean seed ${seed}`)) {
      const label = `${type} ${h}x${w}x${c} scale ${inScale.toPrecision(4)} -> ${outScale.toPrecision(4)} ` +
        `zero point ${inZp} -> ${outZp} ${backend}`;
      if (differ.length) {
        failed++;
        const i = differ[0];
        console.log(`FAIL ${label}: ${differ.length} of ${theirs.data.length} values differ; channel ${i}: ` +
          `osprey ${ours.data[i]}, LiteRT ${theirs.data[i]}`);
      }
      checked++;
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
