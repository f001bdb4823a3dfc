// Twenty-two ops against LiteRT, on int8 tensors and on uint8 ones (legacy
// per-tensor uint8 models), on seeded random one-op models
// (make_random_op_model: shapes, scales, zero points, options, weights,
// broadcast second inputs) and seeded random uint8 inputs; `osprey run` (the
// default backends and --backend ref) must give LiteRT's output bytes
// exactly. The ops whose rounding needed a closer look have their own tests
// (quantize_litert, mean_litert, leaky_relu_litert).
//
//   node tests/ops/op_sweep_litert.mjs --osprey BUILD/bin/osprey \
//        --make-model BUILD/bin/make_random_op_model [--seeds 12] [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no @litertjs/core).
import fs from 'node:fs';
import path from 'node:path';

import {run} from '../support/cli.mjs';
import {exactRuns, runMain, setUp, summary} from '../support/litert_exact.mjs';

const OPS = ['ADD', 'SUB', 'MUL', 'MAXIMUM', 'MINIMUM', 'LOGISTIC', 'TANH', 'SOFTMAX', 'HARD_SWISH', 'RELU', 'RELU6',
  'LEAKY_RELU', 'PRELU', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'MEAN_CHANNELS', 'RESIZE_BILINEAR',
  'RESIZE_NEAREST_NEIGHBOR', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'TRANSPOSE_CONV'];

async function main() {
  const setup = await setUp(process.argv.slice(2), 'op-sweep', {'--seeds': ['seeds', 'number']}, {seeds: 12});
  if (typeof setup === 'number') return setup;
  const {args, lite, work} = setup;
  let failed = 0, checked = 0;
  for (const [op, type, seed] of OPS.flatMap((op) => ['int8', 'uint8'].flatMap((type) =>
    Array.from({length: args.seeds}, (_, i) => [op, type, i + 1])))) {
    const dir = path.join(work, `${op}-${type}-${seed}`);
    fs.mkdirSync(dir, {recursive: true});
    const modelPath = path.join(dir, 'model.tflite');
    const shapes = run(args.makeModel, [modelPath, op, String(seed), ...(type === 'uint8' ? ['uint8'] : [])], 60_000)
      .trim().split('\n').map((line) => line.split(' ').map(Number));
    let state = seed * 2654435761;
    const byte = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24);
    const inputs = shapes.map((shape) => ({data: Uint8Array.from({length: shape.reduce((a, b) => a * b)}, byte), shape}));
    for (const {backend, differ, ours, theirs} of await exactRuns(lite, args.osprey, modelPath, inputs, dir,
      `${op} ${type} seed ${seed}`)) {
      if (differ.length) {
        failed++;
        const i = differ[0];
        console.log(`FAIL ${op} ${type} seed ${seed} ${backend}: ${differ.length} of ${theirs.data.length} values differ; ` +
          `[${i}]: osprey ${ours.data[i]}, LiteRT ${theirs.data[i]}`);
      }
      checked++;
    }
  }
  return summary(work, args.keep, checked, failed);
}

runMain(main);
