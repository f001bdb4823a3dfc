#!/usr/bin/env node
// Runs a .tflite model on the reference TFLite runtime (LiteRT.js, wasm CPU,
// single thread).
//
//   node tools/litert/run.mjs MODEL.tflite --input in0.npy [--input in1.npy ...] --output-dir DIR
//       one inference; inputs in model input order; writes DIR/output0.npy,
//       output1.npy, ... in the model's (subgraph) output order; prints a
//       one-line JSON summary.
//   node tools/litert/run.mjs MODEL.tflite --bench [--runs N] [--warmup N] [--input ...] [--seed S]
//       times model.run; without --input uses seeded random inputs; prints
//       {"median_ms":..,"mean_ms":..,"min_ms":..,"runs":N}.
//   node tools/litert/run.mjs MODEL.tflite --info
//       prints the model's inputs/outputs as JSON.
//   --random-seed S (instead of --input): run on seeded random inputs.
//   --verbose: echo LiteRT's own log to stderr.

import fs from 'node:fs';
import path from 'node:path';

import {loadRuntime, randomInputs} from './litert.mjs';
import {readNpy, writeNpy} from './npy.mjs';

const USAGE = `usage: node tools/litert/run.mjs MODEL.tflite (--input X.npy ... --output-dir DIR | --random-seed S --output-dir DIR | --bench [--runs N] [--warmup N] | --info) [--verbose]`;

function parseArgs(argv) {
  const a = {inputs: [], runs: 10, warmup: 2, seed: null, bench: false, info: false, verbose: false};
  const num = (flag, v) => {
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
      case '--output-dir': a.outputDir = val(); break;
      case '--bench': a.bench = true; break;
      case '--runs': a.runs = num(arg, val()); break;
      case '--warmup': a.warmup = num(arg, val()); break;
      case '--seed': case '--random-seed': a.seed = num(arg, val()); break;
      case '--info': a.info = true; break;
      case '--verbose': a.verbose = true; break;
      case '-h': case '--help': a.help = true; break;
      default:
        if (arg.startsWith('-') || a.model) throw new Error(`unexpected argument '${arg}'\n${USAGE}`);
        a.model = arg;
    }
  }
  if (a.help) return a;
  if (!a.model) throw new Error(USAGE);
  if (!a.bench && !a.info) {
    if (!a.outputDir) throw new Error(`--output-dir is required\n${USAGE}`);
    if (a.inputs.length === 0 && a.seed === null) throw new Error(`give --input files (or --random-seed)\n${USAGE}`);
  }
  if (a.bench && a.runs < 1) throw new Error('--runs must be at least 1');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const rt = await loadRuntime({echoLog: args.verbose});
  const model = await rt.compile(args.model);
  try {
    if (args.info) {
      console.log(JSON.stringify({model: args.model, inputs: model.inputs, outputs: model.outputs,
        custom_ops: model.info.customOps}));
      return;
    }
    let inputs;
    if (args.inputs.length > 0) {
      if (args.inputs.length !== model.inputs.length) {
        throw new Error(`${model.name} has ${model.inputs.length} input(s), ${args.inputs.length} --input file(s) given`);
      }
      inputs = args.inputs.map((f) => readNpy(f));
    } else {
      inputs = randomInputs(model, args.seed ?? 1);
    }
    if (args.bench) {
      const stats = await model.bench(inputs, {runs: args.runs, warmup: args.warmup});
      console.log(JSON.stringify(stats));
      return;
    }
    const t0 = process.hrtime.bigint();
    const outputs = await model.run(inputs);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    fs.mkdirSync(args.outputDir, {recursive: true});
    if (args.inputs.length === 0) {
      inputs.forEach((t, i) => writeNpy(path.join(args.outputDir, `input${i}.npy`), t.data, t.shape));
    }
    const files = outputs.map((o, i) => {
      const f = path.join(args.outputDir, `output${i}.npy`);
      writeNpy(f, o.data, o.shape);
      return f;
    });
    console.log(JSON.stringify({
      model: args.model,
      runtime: 'litert-wasm',
      threads: rt.threads,
      inputs: inputs.map((t, i) => ({name: model.inputs[i].name, dtype: model.inputs[i].dtype, shape: t.shape})),
      outputs: outputs.map((o, i) => ({name: o.name, dtype: o.dtype, shape: o.shape, file: files[i]})),
      ms: Math.round(ms * 1000) / 1000,
    }));
  } finally {
    model.delete();
  }
}

main().catch((e) => {
  process.stderr.write(`litert: ${e.message}\n`);
  process.exit(1);
});
