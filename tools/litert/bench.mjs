#!/usr/bin/env node
// Benchmarks every zoo model on LiteRT.js (wasm CPU, single thread), loading
// the runtime once.  One JSON line per model:
//   {"model":NAME,"median_ms":..,"mean_ms":..,"min_ms":..,"runs":N}
// or {"model":NAME,"error":MESSAGE} for models LiteRT cannot run.
//
// usage: node tools/litert/bench.mjs [--runs N] [--warmup N] [--only NAME...] [--models-dir DIR]
// Models come from the zoo cache (fetched when missing) unless --models-dir is given.

import path from 'node:path';

import {loadManifest, ensure, cacheDir} from '../../zoo/fetch.mjs';
import {loadRuntime, randomInputs} from './litert.mjs';

function parseArgs(argv) {
  const a = {runs: 10, warmup: 2, only: []};
  let inOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--only') { inOnly = true; continue; }
    if (inOnly && !arg.startsWith('-')) { a.only.push(...arg.split(',').filter(Boolean)); continue; }
    inOnly = false;
    if (arg === '--runs') a.runs = Number(val());
    else if (arg === '--warmup') a.warmup = Number(val());
    else if (arg === '--models-dir') a.modelsDir = val();
    else throw new Error(`unexpected argument '${arg}'`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(a.warmup) || a.warmup < 0) throw new Error('--warmup must be a non-negative integer');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let models = loadManifest().entries.filter((e) => e.kind === 'models');
  if (args.only.length) {
    const unknown = args.only.filter((n) => !models.some((m) => m.name === n));
    if (unknown.length) throw new Error(`unknown model(s): ${unknown.join(', ')}`);
    models = models.filter((m) => args.only.includes(m.name));
  }
  let dir = args.modelsDir;
  if (!dir) {
    ensure(models, {log: (l) => process.stderr.write(`${l}\n`)});
    dir = path.join(cacheDir(), 'models');
  }
  const rt = await loadRuntime();
  for (const e of models) {
    let model;
    try {
      model = await rt.compile(path.join(dir, `${e.name}.tflite`), {name: e.name});
      const stats = await model.bench(randomInputs(model, 1), {runs: args.runs, warmup: args.warmup});
      console.log(JSON.stringify({model: e.name, ...stats}));
    } catch (err) {
      console.log(JSON.stringify({model: e.name, error: err.message}));
    } finally {
      model?.delete();
    }
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exitCode = 1;
});
