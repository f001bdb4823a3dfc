#!/usr/bin/env node
// Checks `osprey quantize` against the real TFLite runtime: every model is
// quantized in several configurations, LiteRT (tools/litert) must load and run
// the result, and osprey's integer output must equal LiteRT's within +-1 LSB
// on >= 99.9% of the elements of every output, and never differ by more than
// 2 LSB.
//
//   node tests/quant/litert_compare.mjs --osprey BUILD/bin/osprey [--models a,b]
//        [--configs pc-uint8,...] [--backend LIST ...] [--samples N] [--work DIR]
//        [--keep] [--json]
//
// --backend (repeatable) runs osprey's `run` with that backend stack
// ("default": no --backend, the fast path; "ref": the reference kernels).
// With several, each is compared with LiteRT, and every backend's outputs
// must also be byte-identical to the first one's; to keep the run short, the
// backends after the first run the first photo and the random input only.
//
// Calibration photos: the few real photos of the cache's media/ directory
// (astronaut.png, coffee.png, messi5.jpg), augmented by `osprey quantize`
// (crops, flips, downscales, brightness) up to --samples. Test inputs: the
// same photos prepared by osprey's image path (quantize --save-inputs), plus
// one seeded random input per model.
//
// LiteRT.js refuses int8 model inputs/outputs ("Element type INT8 is not
// supported"), so the int8-I/O models are run by osprey and compared with
// LiteRT running the uint8-I/O model of the same quantization: the two differ
// only at the edges, where int8 = uint8 - 128.
//
// Exit status: 0 all pass, 1 a comparison failed, 2 usage error, 77 skipped
// (zoo models, sample photos or the LiteRT package not installed).

import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const {loadRuntime} = await import(path.join(ROOT, 'tools/litert/litert.mjs'));
const {readNpy} = await import(path.join(ROOT, 'tools/litert/npy.mjs'));

class Skip extends Error {}

// Every model the zoo supports that LiteRT runs (the first five alone had missed the QUANTIZE
// and MEAN roundings that pose_landmark_lite and
// selfie_segmentation_landscape showed).
const DEFAULT_MODELS = JSON.parse(fs.readFileSync(path.join(ROOT, 'zoo/models.json'), 'utf8'))
  .models.filter((e) => e.status === 'supported' && e.oracle !== 'mediapipe').map((e) => e.name);
const CONFIGS = {
  'pc-uint8': {granularity: 'per-channel', io: 'uint8'},
  'pt-uint8': {granularity: 'per-tensor', io: 'uint8'},
  'pc-float': {granularity: 'per-channel', io: 'float'},
  'pt-float': {granularity: 'per-tensor', io: 'float'},
  'pc-int8': {granularity: 'per-channel', io: 'int8', against: 'pc-uint8'},
  'pt-int8': {granularity: 'per-tensor', io: 'int8', against: 'pt-uint8'},
  // Cross-layer equalization (--equalize) changes only the weights: the same kernels must agree on them.
  'pt-uint8-eq': {granularity: 'per-tensor', io: 'uint8', equalize: true},
};
const MIN_WITHIN_ONE = 0.999;
const MAX_LSB = 2;

function parseArgs(argv) {
  const a = {models: DEFAULT_MODELS, configs: Object.keys(CONFIGS), backends: [], samples: 8, keep: false, json: false};
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--osprey': a.osprey = v(); break;
      case '--models': a.models = v().split(','); break;
      case '--configs': a.configs = v().split(','); break;
      case '--backend': a.backends.push(v()); break;
      case '--samples': a.samples = Number(v()); break;
      case '--work': a.work = v(); break;
      case '--cache': a.cache = v(); break;
      case '--keep': a.keep = true; break;
      case '--json': a.json = true; break;
      default: throw new Error(`unexpected argument '${argv[i]}'`);
    }
  }
  if (!a.osprey) throw new Error('usage: node tests/quant/litert_compare.mjs --osprey BUILD/bin/osprey [--models ...]');
  for (const c of a.configs) if (!CONFIGS[c]) throw new Error(`unknown config '${c}'`);
  // int8 configs need their uint8 partner.
  for (const c of a.configs) {
    const partner = CONFIGS[c].against;
    if (partner && !a.configs.includes(partner)) a.configs.unshift(partner);
  }
  if (a.backends.length === 0) a.backends.push('default');
  a.cache ??= process.env.OSPREY_CACHE ?? path.join(os.homedir(), '.cache/osprey');
  return a;
}

function run(bin, args) {
  try {
    return execFileSync(bin, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26});
  } catch (e) {
    throw new Error(`${path.basename(bin)} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

// Element-wise difference in LSBs: integer outputs directly (int8 vs uint8 by
// +128), float outputs divided by the scale of the int8 tensor behind them.
function lsbDiff(ours, theirs, scale, offset) {
  const n = ours.data.length;
  if (n !== theirs.data.length) throw new Error(`output sizes differ: ${n} vs ${theirs.data.length}`);
  let within = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(ours.data[i] + offset - theirs.data[i]) / scale;
    const r = Math.round(d * 1e4) / 1e4;  // float outputs: dequantization is not bit-exact across runtimes
    if (r <= 1) within++;
    if (r > max) max = r;
  }
  return {n, within: within / n, max: Math.round(max * 1000) / 1000};
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const media = path.join(args.cache, 'media');
  const photos = ['astronaut.png', 'coffee.png', 'messi5.jpg'].map((f) => path.join(media, f));
  for (const p of photos) if (!fs.existsSync(p)) throw new Skip(`missing calibration photo ${p} (run node zoo/fetch.mjs)`);
  const work = args.work ?? fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-quant-litert-'));
  fs.mkdirSync(work, {recursive: true});
  let rt;
  try {
    rt = await loadRuntime();
  } catch (e) {
    throw new Skip(e.message);
  }
  const results = [];
  let failed = 0;
  const t0 = Date.now();

  for (const model of args.models) {
    const modelPath = path.join(args.cache, 'models', `${model}.tflite`);
    if (!fs.existsSync(modelPath)) throw new Skip(`missing model ${modelPath} (run node zoo/fetch.mjs)`);
    const made = {};
    for (const name of args.configs) {
      const cfg = CONFIGS[name];
      const dir = path.join(work, model, name);
      fs.mkdirSync(dir, {recursive: true});
      const out = path.join(dir, 'model.tflite');
      const report = path.join(dir, 'report.json');
      run(args.osprey, ['quantize', modelPath, '-o', out, '--calibration', ...photos, '--samples', String(args.samples),
        '--granularity', cfg.granularity, '--io', cfg.io, ...(cfg.equalize ? ['--equalize'] : []), '--eval-samples', '0',
        '--save-inputs', path.join(dir, 'inputs'), '--report-json', report]);
      // One seeded random input as well.
      run(args.osprey, ['run', out, '--random-seed', '7', '-o', path.join(dir, 'random')]);
      const inputs = fs.readdirSync(path.join(dir, 'inputs')).sort().map((f) => path.join(dir, 'inputs', f));
      inputs.push(path.join(dir, 'random', 'input0.npy'));
      made[name] = {dir, out, report: JSON.parse(fs.readFileSync(report, 'utf8')), inputs};

      // LiteRT runs the model itself, or (int8 I/O) the uint8 partner.
      const partner = cfg.against ? made[cfg.against] : made[name];
      let compiled;
      try {
        compiled = await rt.compile(partner.out, {name: `${model} ${cfg.against ?? name}`});
      } catch (e) {
        results.push({model, config: name, ok: false, error: `LiteRT cannot load it: ${e.message}`});
        failed++;
        continue;
      }
      try {
        const outputs = made[name].report.outputs;
        for (let k = 0; k < inputs.length; k++) {
          const label = k < inputs.length - 1 ? path.basename(inputs[k], '.npy') : 'random';
          // LiteRT's input: the same values, as uint8 when comparing an int8 model.
          let input = readNpy(inputs[k]);
          if (cfg.against) {
            const u = new Uint8Array(input.data.length);
            for (let i = 0; i < u.length; i++) u[i] = input.data[i] + 128;
            input = {dtype: 'uint8', shape: input.shape, data: u};
          }
          const theirs = await compiled.run([input]);
          const firstBytes = [];
          for (const [b, backend] of args.backends.entries()) {
            if (b > 0 && k !== 0 && k !== inputs.length - 1) continue;
            const oursDir = path.join(dir, `osprey_${k}_${b}`);
            const flags = backend === 'default' ? [] : ['--backend', backend];
            run(args.osprey, ['run', out, '--input', inputs[k], '-o', oursDir, ...flags]);
            for (let o = 0; o < theirs.length; o++) {
              const file = path.join(oursDir, `output${o}.npy`);
              const ours = readNpy(file);
              const info = outputs[o];
              const scale = info.dtype === 'float32' ? info.internal.scale : 1;
              const d = lsbDiff(ours, theirs[o], scale, cfg.against ? 128 : 0);
              let ok = d.within >= MIN_WITHIN_ONE && d.max <= MAX_LSB;
              // Every backend stack computes the same bytes.
              const bytes = fs.readFileSync(file);
              if (b === 0) firstBytes.push(bytes);
              const same = b === 0 || bytes.equals(firstBytes[o]);
              ok = ok && same;
              if (!ok) failed++;
              results.push({model, config: name, backend, input: label, output: info.name, ...d, same, ok});
            }
            if (!args.keep) fs.rmSync(oursDir, {recursive: true, force: true});
          }
        }
      } catch (e) {
        results.push({model, config: name, ok: false, error: e.message});
        failed++;
      } finally {
        compiled.delete();
      }
    }
  }
  if (!args.keep && !args.work) fs.rmSync(work, {recursive: true, force: true});

  if (args.json) {
    console.log(JSON.stringify({results, failed, seconds: (Date.now() - t0) / 1000}));
  } else {
    // One line per model/config: the worst output over all inputs.
    const rows = new Map();
    for (const r of results) {
      const key = `${r.model} ${r.config} ${r.backend ?? ''}`;
      const row = rows.get(key) ??
        {model: r.model, config: r.config, backend: r.backend ?? '', within: 1, max: 0, n: 0, ok: true, errors: []};
      if (r.error) row.errors.push(r.error);
      else if (!r.same && !row.errors.length) row.errors.push(`differs from --backend ${args.backends[0]}`);
      else {
        row.within = Math.min(row.within, r.within);
        row.max = Math.max(row.max, r.max);
        row.n += r.n;
      }
      row.ok = row.ok && r.ok;
      rows.set(key, row);
    }
    console.log(`${'model'.padEnd(46)} ${'config'.padEnd(9)} ${'backend'.padEnd(8)} ${'elements'.padStart(9)} ${'<=1 LSB'.padStart(9)} ${'max'.padStart(5)}  result`);
    for (const row of rows.values()) {
      const pct = `${(row.within * 100).toFixed(3)}%`;
      console.log(`${row.model.padEnd(46)} ${row.config.padEnd(9)} ${row.backend.padEnd(8)} ${String(row.n).padStart(9)} ${pct.padStart(9)} ${String(row.max).padStart(5)}  ${row.ok ? 'ok' : 'FAIL ' + row.errors.join('; ')}`);
    }
    console.log(`${failed === 0 ? 'all passed' : `${failed} failure(s)`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`litert_compare: ${e instanceof Skip ? 'skipped: ' : ''}${e.message}\n`);
  process.exit(e instanceof Skip ? 77 : 2);
});
