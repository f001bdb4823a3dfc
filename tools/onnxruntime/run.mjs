#!/usr/bin/env node
// Runs an .onnx model on ONNX Runtime (onnxruntime-node: native, CPU execution
// provider), the oracle and speed rival for osprey's ONNX import.
//
//   node tools/onnxruntime/run.mjs MODEL.onnx --input in0.npy [--input ...] --output-dir DIR
//       one inference; inputs in the model's input order; writes DIR/output0.npy, ...
//       in its output order (any dtype .npy holds: float32, int64, bool, ...); prints a
//       one-line JSON summary.
//   node tools/onnxruntime/run.mjs MODEL.onnx --random-seed S --input-shape x:1,3,640,640 --output-dir DIR
//       the same on seeded random inputs in [-1, 1) (written as DIR/input0.npy, ...).
//   node tools/onnxruntime/run.mjs MODEL.onnx --bench [--threads N] [--runs N] [--warmup N] ...
//       times session.run; prints {"median_ms","mean_ms","min_ms","runs","threads"}.
//   node tools/onnxruntime/run.mjs MODEL.onnx --info
//       prints the model's input and output names as JSON.
// --input-shape NAME:D0,D1,... (repeatable) fixes an input's shape for random inputs.

import fs from 'node:fs';
import path from 'node:path';

import ort from 'onnxruntime-node';

import {readNpy, writeNpy} from '../litert/npy.mjs';
import {randomInputs} from '../litert/litert.mjs';

const USAGE = 'usage: node tools/onnxruntime/run.mjs MODEL.onnx (--input X.npy ... | --random-seed S '
  + '--input-shape NAME:DIMS ...) (--output-dir DIR | --bench [--runs N] [--warmup N]) [--threads N] | --info';

function parseArgs(argv) {
  const a = {inputs: [], shapes: {}, runs: 10, warmup: 2, threads: 1, seed: null, bench: false, info: false};
  const count = (flag, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--input': a.inputs.push(val()); break;
      case '--input-shape': {
        const m = /^([^:]+):(\d+(?:,\d+)*)$/.exec(val());
        if (!m) throw new Error(`--input-shape needs NAME:D0,D1,..., got '${argv[i]}'`);
        a.shapes[m[1]] = m[2].split(',').map(Number);
        break;
      }
      case '--output-dir': a.outputDir = val(); break;
      case '--bench': a.bench = true; break;
      case '--runs': a.runs = count(arg, val()); break;
      case '--warmup': a.warmup = count(arg, val()); break;
      case '--threads': a.threads = count(arg, val()); break;
      case '--random-seed': case '--seed': a.seed = count(arg, val()); break;
      case '--info': a.info = true; break;
      default:
        if (arg.startsWith('-') || a.model) throw new Error(`unexpected argument '${arg}'\n${USAGE}`);
        a.model = arg;
    }
  }
  if (!a.model) throw new Error(USAGE);
  if (!a.info && !a.bench && !a.outputDir) throw new Error(`--output-dir is required\n${USAGE}`);
  if (!a.info && a.inputs.length === 0 && a.seed === null) a.seed = 1;
  if (a.bench && a.runs < 1) throw new Error('--runs must be at least 1');
  return a;
}

// ONNX Runtime's session does not report input shapes, so random inputs need
// every input's shape from --input-shape.
function makeInputs(session, args) {
  if (args.inputs.length > 0) {
    if (args.inputs.length !== session.inputNames.length) {
      throw new Error(`the model has ${session.inputNames.length} input(s), ${args.inputs.length} --input file(s) given`);
    }
    return args.inputs.map((f) => readNpy(f));
  }
  const specs = session.inputNames.map((name) => {
    const shape = args.shapes[name];
    if (!shape) throw new Error(`input '${name}' needs --input-shape ${name}:D0,D1,...`);
    return {name, dtype: 'float32', shape};
  });
  return randomInputs({name: args.model, inputs: specs}, args.seed);
}

// .npy dtype names are ONNX Runtime's tensor type names (float32, int64, bool, ...).
const feeds = (session, inputs) =>
  Object.fromEntries(session.inputNames.map((n, i) => [n, new ort.Tensor(inputs[i].dtype ?? 'float32', inputs[i].data, inputs[i].shape)]));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'], intraOpNumThreads: args.threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  if (args.info) {
    console.log(JSON.stringify({model: args.model, inputs: session.inputNames, outputs: session.outputNames}));
    return;
  }
  const inputs = makeInputs(session, args);
  const feed = feeds(session, inputs);
  if (args.bench) {
    // Warm-up: --warmup runs and at least 0.5 s, as `osprey bench` and TFLite's benchmark_model.
    const start = process.hrtime.bigint();
    for (let i = 0; i < args.warmup || Number(process.hrtime.bigint() - start) / 1e9 < 0.5; i++) {
      await session.run(feed);
    }
    const times = [];
    for (let i = 0; i < args.runs; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feed);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((x, y) => x - y);
    const median = times.length % 2 ? times[(times.length - 1) / 2]
      : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
    const round = (x) => Math.round(x * 1000) / 1000;
    console.log(JSON.stringify({median_ms: round(median), mean_ms: round(times.reduce((s, x) => s + x, 0) / times.length),
      min_ms: round(times[0]), runs: args.runs, threads: args.threads}));
    return;
  }
  const t0 = process.hrtime.bigint();
  const result = await session.run(feed);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.mkdirSync(args.outputDir, {recursive: true});
  if (args.inputs.length === 0) {
    inputs.forEach((t, i) => writeNpy(path.join(args.outputDir, `input${i}.npy`), t.data, t.shape));
  }
  const outputs = session.outputNames.map((name, i) => {
    const t = result[name];
    const file = path.join(args.outputDir, `output${i}.npy`);
    writeNpy(file, t.data, [...t.dims], t.type);
    return {name, dtype: t.type, shape: [...t.dims], file};
  });
  console.log(JSON.stringify({model: args.model, runtime: 'onnxruntime-node', threads: args.threads,
    inputs: inputs.map((t, i) => ({name: session.inputNames[i], shape: t.shape})), outputs, ms: Math.round(ms * 1000) / 1000}));
}

main().catch((e) => {
  process.stderr.write(`onnxruntime: ${e.message.split('\n')[0]}\n`);
  process.exit(1);
});
