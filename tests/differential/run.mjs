#!/usr/bin/env node
// Differential test: osprey vs. the reference TFLite runtime (LiteRT.js, wasm
// CPU, single thread) on every model of the zoo (zoo/models.json).
//
// For each model with "status": "supported":
//   $OSPREY run MODEL --random-seed 1 --output-dir WORK/NAME/osprey
//     (writes input0.npy.. and output0.npy.. there, prints a JSON line)
//   LiteRT runs on those same input files; every output must have the same
//   dtype and shape and  max|osprey - litert| <= 1e-3 * max(1, max|litert|).
// For each "unsupported" model: osprey run must exit non-zero and its message
// must name every custom op the model uses.
// For each model only MediaPipe runs ("oracle": "mediapipe"; LiteRT.js lacks
// its custom ops): osprey run must succeed with finite outputs, and LiteRT
// must reject the model naming every custom op it uses, so the entry stays
// true; tests/vision/landmarks_mediapipe_compare.mjs compares it with MediaPipe.
//
// usage: node tests/differential/run.mjs [--only NAME...] [--models-dir DIR]
//          [--work-dir DIR] [--keep] [--timeout SEC] [--budget SEC] [--self-test]
//          [--backend LIST]
//   OSPREY_BIN   osprey binary (default build/bin/osprey)
//   OSPREY_CACHE zoo cache (default ~/.cache/osprey); models are fetched into
//                CACHE/models when --models-dir is not given
//   --timeout    per-model limit for `osprey run` (default 60 s)
//   --budget     limit for the whole run (default 300 s); models not reached
//                in time are reported as FAIL
//   --backend    passed to `osprey run`, e.g. ref (default: osprey's default stack)
//   --keep       keep the work directory (inputs/outputs of both runtimes;
//                it is always kept when something failed)
//   --self-test  no osprey: seeded random inputs, LiteRT run twice (separately
//                compiled) and compared with the same bound; unsupported
//                models must be rejected by the harness naming their custom ops.
//
// Prints one line per model and finally "N passed, M failed"; exits 1 if any
// model failed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

import {loadManifest, ensure, cacheDir} from '../../zoo/fetch.mjs';
import {loadRuntime, randomInputs} from '../../tools/litert/litert.mjs';
import {parseTflite} from '../../tools/litert/tflite.mjs';
import {readNpy, writeNpy} from '../../tools/litert/npy.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REL_TOL = 1e-3;

function parseArgs(argv) {
  const a = {only: [], keep: false, selfTest: false, timeout: 60, budget: 300};
  let inOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--only') { inOnly = true; continue; }
    if (!arg.startsWith('-') && inOnly) { a.only.push(...arg.split(',').filter(Boolean)); continue; }
    inOnly = false;
    switch (arg) {
      case '--models-dir': a.modelsDir = val(); break;
      case '--work-dir': a.workDir = val(); break;
      case '--keep': a.keep = true; break;
      case '--timeout': a.timeout = Number(val()); break;
      case '--budget': a.budget = Number(val()); break;
      case '--backend': a.backend = val(); break;
      case '--self-test': a.selfTest = true; break;
      case '-h': case '--help': a.help = true; break;
      default: throw new Error(`unexpected argument '${arg}'`);
    }
  }
  if (!(a.timeout > 0)) throw new Error('--timeout must be a positive number of seconds');
  if (!(a.budget > 0)) throw new Error('--budget must be a positive number of seconds');
  return a;
}

// ------------------------------------------------------------- comparison

function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  return x.toExponential(2);
}

/** Compares one output; returns {ok, err, bound, why}. */
export function compareOutput(got, ref) {
  const shapeStr = (s) => `[${s.join(',')}]`;
  if (got.dtype !== ref.dtype) {
    return {ok: false, err: Infinity, bound: 0, why: `dtype ${got.dtype} vs litert ${ref.dtype}`};
  }
  if (got.shape.length !== ref.shape.length || got.shape.some((d, i) => d !== ref.shape[i])) {
    return {ok: false, err: Infinity, bound: 0, why: `shape ${shapeStr(got.shape)} vs litert ${shapeStr(ref.shape)}`};
  }
  const a = got.data;
  const b = ref.data;
  let maxRef = 0;
  let err = 0;
  let worst = -1;
  for (let i = 0; i < b.length; i++) {
    const x = a[i];
    const y = b[i];
    const ay = Math.abs(y);
    if (ay > maxRef && Number.isFinite(ay)) maxRef = ay;
    let d;
    if (Number.isNaN(x) || Number.isNaN(y)) d = (Number.isNaN(x) && Number.isNaN(y)) ? 0 : Infinity;
    else if (x === y) d = 0; // also equal infinities
    else d = Math.abs(x - y);
    if (d > err || (Number.isNaN(d))) {
      err = d;
      worst = i;
    }
  }
  const bound = REL_TOL * Math.max(1, maxRef);
  const ok = err <= bound;
  return {ok, err, bound, why: ok ? '' : `max error at flat index ${worst}: osprey ${a[worst]} vs litert ${b[worst]}`};
}

function compareAll(gotList, refList) {
  if (gotList.length !== refList.length) {
    return {ok: false, err: Infinity, bound: 0, why: `${gotList.length} outputs vs litert ${refList.length}`};
  }
  let worst = {ok: true, err: 0, bound: REL_TOL, why: '', index: -1, ratio: -1};
  for (let i = 0; i < refList.length; i++) {
    const r = compareOutput(gotList[i], refList[i]);
    const ratio = r.bound > 0 ? r.err / r.bound : Infinity;
    if (!r.ok && worst.ok) worst = {...r, index: i, ratio};
    else if (r.ok === worst.ok && ratio > worst.ratio) worst = {...r, index: i, ratio};
  }
  if (!worst.ok) worst.why = `output${worst.index}: ${worst.why}`;
  return worst;
}

// ------------------------------------------------------------- osprey

function runOsprey(bin, modelPath, outDir, timeoutSec, backend) {
  fs.rmSync(outDir, {recursive: true, force: true});
  fs.mkdirSync(outDir, {recursive: true});
  const t0 = Date.now();
  const extra = backend ? ['--backend', backend] : [];
  const r = spawnSync(bin, ['run', modelPath, '--random-seed', '1', '--output-dir', outDir, ...extra], {
    encoding: 'utf8', timeout: timeoutSec * 1000, maxBuffer: 16 << 20,
  });
  const ms = Date.now() - t0;
  if (r.error?.code === 'ETIMEDOUT') return {status: null, timedOut: true, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms};
  if (r.error) throw new Error(`cannot run ${bin}: ${r.error.code ?? r.error.message}`);
  return {status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms};
}

function lastLine(text) {
  const lines = String(text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '(no message)';
}

function readOutputs(dir, prefix) {
  const out = [];
  for (let i = 0; ; i++) {
    const f = path.join(dir, `${prefix}${i}.npy`);
    if (!fs.existsSync(f)) break;
    out.push(readNpy(f));
  }
  return out;
}

// ------------------------------------------------------------- per model

async function testSupported(ctx, entry, modelPath) {
  const work = path.join(ctx.workDir, entry.name);
  const info = parseTflite(new Uint8Array(fs.readFileSync(modelPath)));
  let inputs;
  let gotOutputs;
  let ospreyMs = null;
  let compiled;
  if (ctx.selfTest) {
    compiled = await ctx.rt.compile(modelPath, {name: entry.name});
    const dir = path.join(work, 'self');
    fs.mkdirSync(dir, {recursive: true});
    // Round-trip the inputs through .npy like the real test does.
    randomInputs(compiled, 1).forEach((t, i) => writeNpy(path.join(dir, `input${i}.npy`), t.data, t.shape));
    inputs = info.inputs.map((_, i) => readNpy(path.join(dir, `input${i}.npy`)));
    const second = await ctx.rt.compile(modelPath, {name: entry.name});
    try {
      gotOutputs = await second.run(inputs);
    } finally {
      second.delete();
    }
  } else {
    const dir = path.join(work, 'osprey');
    const r = runOsprey(ctx.osprey, modelPath, dir, ctx.timeout, ctx.backend);
    ospreyMs = r.ms;
    if (r.timedOut) return {ok: false, why: `osprey run timed out after ${ctx.timeout}s`};
    if (r.status !== 0) {
      const msg = r.stderr.trim() ? lastLine(r.stderr) : lastLine(r.stdout);
      return {ok: false, why: `osprey run exited ${r.status ?? r.signal}: ${msg}`};
    }
    inputs = [];
    for (let i = 0; i < info.inputs.length; i++) {
      const f = path.join(dir, `input${i}.npy`);
      if (!fs.existsSync(f)) return {ok: false, why: `osprey did not write ${path.relative(ctx.workDir, f)}`};
      inputs.push(readNpy(f));
    }
    gotOutputs = readOutputs(dir, 'output');
    if (gotOutputs.length === 0) return {ok: false, why: 'osprey wrote no output0.npy'};
    compiled = await ctx.rt.compile(modelPath, {name: entry.name});
  }
  let refOutputs;
  const t0 = process.hrtime.bigint();
  try {
    refOutputs = await compiled.run(inputs);
  } finally {
    compiled.delete();
  }
  const litertMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (ctx.keep) {
    const dir = path.join(work, 'litert');
    fs.mkdirSync(dir, {recursive: true});
    refOutputs.forEach((o, i) => writeNpy(path.join(dir, `output${i}.npy`), o.data, o.shape));
  }
  const c = compareAll(gotOutputs, refOutputs);
  return {...c, outputs: refOutputs.length, ospreyMs, litertMs};
}

// LiteRT's error on the model (compiled and run once), or null when it runs.
async function litertError(ctx, entry, modelPath) {
  try {
    const m = await ctx.rt.compile(modelPath, {name: entry.name});
    try {
      await m.run(randomInputs(m, 1));
    } finally {
      m.delete();
    }
    return null;
  } catch (e) {
    return e.message;
  }
}

async function testUnsupported(ctx, entry, modelPath) {
  const info = parseTflite(new Uint8Array(fs.readFileSync(modelPath)));
  const ops = info.customOps;
  if (ops.length === 0) return {ok: false, why: 'model is marked unsupported but uses no custom ops'};
  let message;
  if (ctx.selfTest) {
    message = await litertError(ctx, entry, modelPath);
    if (message === null) return {ok: false, why: 'LiteRT harness accepted a model with unresolved custom ops'};
  } else {
    const dir = path.join(ctx.workDir, entry.name, 'osprey');
    const r = runOsprey(ctx.osprey, modelPath, dir, ctx.timeout, ctx.backend);
    if (r.timedOut) return {ok: false, why: `osprey run timed out after ${ctx.timeout}s`};
    if (r.status === 0) return {ok: false, why: 'osprey run succeeded on a model with unsupported custom ops'};
    message = `${r.stdout}\n${r.stderr}`;
  }
  const missing = ops.filter((op) => !message.includes(op));
  if (missing.length) return {ok: false, why: `error message does not name ${missing.join(', ')}: ${lastLine(message)}`};
  return {ok: true, rejected: ops};
}

// Runs osprey alone (LiteRT lacks the model's custom ops), then checks that
// LiteRT still rejects the model naming them.
async function testOspreyOnly(ctx, entry, modelPath) {
  const info = parseTflite(new Uint8Array(fs.readFileSync(modelPath)));
  const ops = info.customOps;
  if (ops.length === 0) return {ok: false, why: 'the entry says only MediaPipe runs it, but it uses no custom ops'};
  let ospreyMs = null;
  let outputs = 0;
  if (!ctx.selfTest) {
    const dir = path.join(ctx.workDir, entry.name, 'osprey');
    const r = runOsprey(ctx.osprey, modelPath, dir, ctx.timeout, ctx.backend);
    ospreyMs = r.ms;
    if (r.timedOut) return {ok: false, why: `osprey run timed out after ${ctx.timeout}s`};
    if (r.status !== 0) return {ok: false, why: `osprey run exited ${r.status ?? r.signal}: ${lastLine(r.stderr || r.stdout)}`};
    const got = readOutputs(dir, 'output');
    if (got.length !== info.outputs.length) return {ok: false, why: `osprey wrote ${got.length} outputs, the model has ${info.outputs.length}`};
    for (const [i, o] of got.entries()) {
      if (!Array.from(o.data, Number).every(Number.isFinite)) return {ok: false, why: `output ${i} holds a value that is not finite`};
    }
    outputs = got.length;
  }
  const message = await litertError(ctx, entry, modelPath);
  if (message === null) return {ok: false, why: 'LiteRT now runs this model: compare it there (drop "oracle": "mediapipe")'};
  const missing = ops.filter((op) => !message.includes(op));
  if (missing.length) return {ok: false, why: `LiteRT's error does not name ${missing.join(', ')}: ${lastLine(message)}`};
  return {ok: true, ospreyOnly: ops, outputs, ospreyMs};
}

// ------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log('usage: node tests/differential/run.mjs [--only NAME...] [--models-dir DIR] [--work-dir DIR] [--keep] [--timeout SEC] [--budget SEC] [--self-test]');
    return 0;
  }
  const {entries} = loadManifest();
  let models = entries.filter((e) => e.kind === 'models');
  if (args.only.length) {
    const unknown = args.only.filter((n) => !models.some((m) => m.name === n));
    if (unknown.length) throw new Error(`unknown model(s): ${unknown.join(', ')}`);
    models = models.filter((m) => args.only.includes(m.name));
  }

  let modelsDir = args.modelsDir;
  if (!modelsDir) {
    ensure(models, {log: (l) => process.stderr.write(`${l}\n`)});
    modelsDir = path.join(cacheDir(), 'models');
  }

  const osprey = path.resolve(ROOT, process.env.OSPREY_BIN || 'build/bin/osprey');
  if (!args.selfTest && !fs.existsSync(osprey)) {
    throw new Error(`osprey binary not found at ${osprey} (build it, or set OSPREY_BIN; --self-test checks the LiteRT side alone)`);
  }

  const ownWork = !args.workDir;
  const workDir = args.workDir ? path.resolve(args.workDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-diff-'));
  fs.mkdirSync(workDir, {recursive: true});

  const rt = await loadRuntime();
  const ctx = {rt, osprey, workDir, selfTest: args.selfTest, keep: args.keep, timeout: args.timeout,
               backend: args.backend};
  const width = Math.max(...models.map((m) => m.name.length));
  let passed = 0;
  let failed = 0;
  const t0 = Date.now();
  const deadline = t0 + args.budget * 1000;
  for (const entry of models) {
    const modelPath = path.join(modelsDir, `${entry.name}.tflite`);
    let r;
    try {
      const left = (deadline - Date.now()) / 1000;
      if (left <= 0) throw new Error(`not run: the ${args.budget}s time budget is used up`);
      ctx.timeout = Math.min(args.timeout, Math.max(1, Math.ceil(left)));
      if (!fs.existsSync(modelPath)) throw new Error(`model file ${modelPath} not found`);
      if (entry.status === 'unsupported') r = await testUnsupported(ctx, entry, modelPath);
      else if (entry.oracle === 'mediapipe') r = await testOspreyOnly(ctx, entry, modelPath);
      else r = await testSupported(ctx, entry, modelPath);
    } catch (e) {
      r = {ok: false, why: e.message.split('\n')[0]};
    }
    const name = entry.name.padEnd(width);
    let line;
    if (entry.status === 'unsupported') {
      line = `${name}  unsupported${r.ok ? `  rejected, names ${r.rejected.join(', ')}` : ''}`;
    } else if (entry.oracle === 'mediapipe') {
      line = `${name}  osprey only${r.ok ? `  (LiteRT lacks ${r.ospreyOnly.join(', ')}${r.outputs ? `; ${r.outputs} finite outputs` : ''})` : ''}`;
    } else if (r.outputs !== undefined) {
      line = `${name}  outputs=${r.outputs}  max_abs_err=${fmt(r.err)}  bound=${fmt(r.bound)}`;
    } else {
      line = `${name}`;
    }
    line += `  ${r.ok ? 'PASS' : 'FAIL'}`;
    if (!r.ok && r.why) line += `  (${r.why})`;
    console.log(line);
    if (r.ok) passed++;
    else failed++;
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`differential${args.selfTest ? ' self-test' : ''}: ${models.length} models in ${secs}s`
    + `${!ownWork || args.keep || failed ? `, work dir ${workDir}` : ''}\n`);
  if (ownWork && !args.keep && failed === 0) fs.rmSync(workDir, {recursive: true, force: true});
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((code) => {
  process.exitCode = code;
}).catch((e) => {
  process.stderr.write(`differential: ${e.message}\n`);
  process.exitCode = 1;
});
