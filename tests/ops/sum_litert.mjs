// SUM, int8 and uint8, against LiteRT: seeded random sizes, channels, axes
// (H and W with and without keep_dims, H, W, C, H W C), scales and zero
// points; in turn random inputs, inputs whose sums lie within 3e-5 of a half
// step, output scales 2, 4 or 8 times the input's (exact ties, where the
// rounding mode decides), and output parameters equal to the input's (a
// plain sum, clamped); `osprey run` (the default backends and --backend ref)
// must give LiteRT's output bytes exactly.
//
//   node tests/ops/sum_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_reduce_model [--seeds 48] [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run} from '../support/cli.mjs';
import {exactRuns, runMain, seeded, setUp, summary} from '../support/litert_exact.mjs';

const AXES = [['1,2', '1'], ['1,2', '0'], ['1', '1'], ['2', '0'], ['3', '1'], ['1,2,3', '1']];
const KINDS = ['random', 'near-half', 'ties', 'same parameters'];

// Which output each input element of [1, h, w, c] adds to, with `axes` reduced.
function outputIndex(h, w, c, axes) {
  const dims = [1, h, w, c];
  const outDims = dims.map((d, i) => (axes.includes(i) ? 1 : d));
  return {
    outputs: outDims.reduce((a, b) => a * b),
    of: (i) => {
      const idx = [0, Math.floor(i / (w * c)), Math.floor(i / c) % w, i % c];
      return idx.reduce((o, x, d) => o * outDims[d] + (axes.includes(d) ? 0 : x), 0);
    },
  };
}

// uint8 bytes (an int8 model's values + 128) whose sums, output by output,
// have exact values within 3e-5 of a half step where any such sum exists.
function nearHalfInputs(x, h, w, c, axes, type, p) {
  const shift = type === 'int8' ? 128 : 0;
  const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
  const {outputs, of} = outputIndex(h, w, c, axes);
  const n = (h * w * c) / outputs;
  const zi = p.inZp - shift, zo = p.outZp - shift;
  const sums = [];
  for (let q = lo * n; q <= hi * n && sums.length < outputs; q++) {
    const v = ((q - zi * n) * p.inScale) / p.outScale + zo;
    if (Math.abs(v - Math.floor(v) - 0.5) < 3e-5 && v > lo && v < hi) sums.push(q);
  }
  if (!sums.length) return x;
  const members = Array.from({length: outputs}, () => []);
  for (let i = 0; i < x.length; i++) members[of(i)].push(i);
  members.forEach((elements, o) => {
    let need = sums[o % sums.length];
    elements.forEach((i, k) => {
      const q = Math.min(hi, Math.max(lo, Math.round(need / (elements.length - k))));
      need -= q;
      x[i] = q + shift;
    });
  });
  return x;
}

async function main() {
  const setup = await setUp(process.argv.slice(2), 'sum', {'--seeds': ['seeds', 'number']}, {seeds: 48});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  let failed = 0, checked = 0;
  for (let seed = 1; seed <= args.seeds; seed++) {
    const {random, int} = seeded(seed);
    const type = seed % 2 ? 'int8' : 'uint8';
    const kind = KINDS[Math.floor(seed / 2) % KINDS.length];
    const [axesText, keep] = AXES[seed % AXES.length];
    const axes = axesText.split(',').map(Number);
    const big = seed % 3 === 0;
    const h = big ? int(8, 32) : int(1, 8), w = big ? int(8, 32) : int(1, 8), c = int(1, 12);
    const p = {inScale: Math.fround(0.005 + 0.1 * random()), inZp: int(0, 255)};
    p.outScale = kind === 'same parameters' ? p.inScale
      : Math.fround(p.inScale * 2 ** (kind === 'ties' ? int(1, 3) : 1 + 6 * random()));
    p.outZp = kind === 'same parameters' ? p.inZp : int(0, 255);
    let x = Uint8Array.from({length: h * w * c}, () => int(0, 255));
    if (kind === 'near-half') x = nearHalfInputs(x, h, w, c, axes, type, p);
    const dir = path.join(work, `seed${seed}`);
    fs.mkdirSync(dir, {recursive: true});
    const modelPath = path.join(dir, 'model.tflite');
    run(args.makeModel, [modelPath, 'SUM', type, String(h), String(w), String(c), String(p.inScale),
      String(p.inZp), String(p.outScale), String(p.outZp), axesText, keep], 60_000);
    for (const {backend, differ, ours, theirs} of await exactRuns(lite, args.osprey, modelPath,
      [{data: x, shape: [1, h, w, c]}], dir, `sum seed ${seed}`)) {
      const label = `${type} ${h}x${w}x${c} axes ${axesText} keep ${keep} ${kind} scale ` +
        `${p.inScale.toPrecision(4)} -> ${p.outScale.toPrecision(4)} zero point ${p.inZp} -> ${p.outZp} ${backend}`;
      if (differ.length) {
        failed++;
        const i = differ[0];
        console.log(`FAIL ${label}: ${differ.length} of ${theirs.data.length} values differ; [${i}]: ` +
          `osprey ${ours.data[i]}, LiteRT ${theirs.data[i]}`);
      }
      checked++;
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
