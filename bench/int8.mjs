// The integer half of `make bench`: every zoo model `osprey quantize` can
// quantize, in two forms made from the zoo's calibration photos, timed by
// osprey and by LiteRT in the same run as the float model, and the "Int8"
// table of docs/benchmarks.md.
//
// Forms (cached under $OSPREY_CACHE/quantized/, keyed by the float model's
// sha256, its zoo/models.json entry (the head bounds scores), the quantize
// flags, `osprey --version` and the git tree of src/quant, so a changed
// quantizer makes new files):
//   per-tensor uint8  per-tensor weights, uint8 model input/output (what the
//                     Axis example apps load)
//   per-channel int8  per-channel weights, int8 input/output. LiteRT.js refuses
//                     int8 model inputs and outputs, so LiteRT runs this
//                     quantization's uint8-I/O file (the same int8 graph with
//                     a requantizing QUANTIZE at each end; int8 = uint8 − 128)

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';

import {ROOT, f, litertBench, ms, ospreyBench, run, timedRuns} from './common.mjs';

export const FORMS = [
  {key: 'pt_u8', label: 'per-tensor uint8', granularity: 'per-tensor', io: 'uint8'},
  {key: 'pc_i8', label: 'per-channel int8', granularity: 'per-channel', io: 'int8', litert: 'pc_u8'},
];
const HELPERS = [{key: 'pc_u8', granularity: 'per-channel', io: 'uint8'}];  // LiteRT's file for pc_i8

// The zoo's calibration photos (zoo/fetch.mjs puts them in media/), as in
// docs/quantization.md and tests/quant/litert_compare.mjs.
const PHOTOS = ['astronaut.png', 'coffee.png', 'messi5.jpg'];

// Image preparation for zoo models without a task head in zoo/models.json
// (quantize needs it to calibrate on photos), by task, as MediaPipe's graphs
// feed these models: ImageToTensorCalculator / TfLiteConverterCalculator with
// pixels in [0, 1]; hand_landmark_cpu, pose_landmark_by_roi_cpu and objectron's
// box_landmark_cpu keep the aspect ratio (letterbox), the face landmark side
// model stretches.
const HEADLESS_INPUT = {
  'face-landmarks': ['--input-range', '0,1', '--resize', 'stretch'],
  'hand-landmarks': ['--input-range', '0,1', '--resize', 'letterbox'],
  'pose-landmarks': ['--input-range', '0,1', '--resize', 'letterbox'],
  '3d-object-landmarks': ['--input-range', '0,1', '--resize', 'letterbox'],
};

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// What identifies the quantizer that made a cached file: osprey's version and
// the committed tree of src/quant plus any uncommitted change to it.
function quantizerVersion(osprey) {
  let v = '';
  try { v = run(osprey, ['--version']).trim(); } catch (e) { v = `? (${e.message})`; }
  const git = (args) => spawnSync('git', ['-C', ROOT, ...args], {encoding: 'utf8'});
  const tree = git(['rev-parse', 'HEAD:src/quant']);
  const diff = git(['diff', 'HEAD', '--', 'src/quant']);
  if (tree.status === 0) return `${v} src/quant ${tree.stdout.trim()} ${diff.stdout ? sha256(diff.stdout) : 'clean'}`;
  // Not a git checkout: the binary itself.
  return `${v} binary ${sha256(fs.readFileSync(osprey))}`;
}

export class Quantizer {
  constructor(a) {
    this.osprey = a.osprey;
    this.cache = path.join(process.env.OSPREY_CACHE || path.join(os.homedir(), '.cache', 'osprey'), 'quantized');
    this.photos = PHOTOS.map((p) => path.join(path.dirname(a.modelsDir), 'media', p));
    this.version = quantizerVersion(a.osprey);
    this.photoHash = this.photos.map((p) => (fs.existsSync(p) ? sha256(fs.readFileSync(p)) : 'missing')).join(',');
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'zoo/models.json'), 'utf8'));
    this.entries = new Map(manifest.models.map((e) => [e.name, e]));
  }

  flags(name, form) {
    const e = this.entries.get(name);
    const input = e && !e.head ? HEADLESS_INPUT[e.task] ?? [] : [];
    return ['--granularity', form.granularity, '--io', form.io, '--samples', '100', '--eval-samples', '0', ...input];
  }

  // The cached file of `form` for the float model `file`, made if missing;
  // {file, cached, seconds} or {error}.
  make(name, file, form) {
    const missing = this.photos.find((p) => !fs.existsSync(p));
    if (missing) return {error: `calibration photo ${missing} missing (node zoo/fetch.mjs)`};
    const key = sha256(JSON.stringify([sha256(fs.readFileSync(file)), this.entries.get(name) ?? null,
      this.flags(name, form), this.version, this.photoHash]));
    const out = path.join(this.cache, `${name}.${form.key}.${key.slice(0, 16)}.tflite`);
    if (fs.existsSync(out)) return {file: out, cached: true};
    fs.mkdirSync(this.cache, {recursive: true});
    const tmp = `${out}.${process.pid}.tmp`;
    const t0 = Date.now();
    try {
      run(this.osprey, ['quantize', file, '-o', tmp, '--calibration', ...this.photos, ...this.flags(name, form)]);
      fs.renameSync(tmp, out);
      // Files of this model and form from an older quantizer or model are stale.
      const prefix = `${name}.${form.key}.`;
      for (const entry of fs.readdirSync(this.cache)) {
        const stale = entry.startsWith(prefix) && entry.endsWith('.tflite') && entry !== path.basename(out);
        if (stale) fs.rmSync(path.join(this.cache, entry));
      }
    } catch (e) {
      fs.rmSync(tmp, {force: true});
      return {error: e.message};
    }
    return {file: out, cached: false, seconds: (Date.now() - t0) / 1000};
  }
}

// Every form of one model, quantized (cached): the results to fill, and what
// each round runs for them (osprey on one thread, LiteRT on the same file),
// for measureRound(holder, key, config).
export function int8Runs(a, quantizer, name, file) {
  const made = {};
  for (const form of [...FORMS, ...HELPERS]) made[form.key] = quantizer.make(name, file, form);
  const result = {};
  const runs = [];
  for (const form of FORMS) {
    const q = made[form.key];
    if (q.error) {
      result[form.key] = {error: `osprey quantize: ${q.error}`};
      continue;
    }
    const lit = made[form.litert ?? form.key];
    const r = {file: path.basename(q.file), litert_file: lit.file ? path.basename(lit.file) : undefined};
    result[form.key] = r;
    runs.push({holder: r, key: 'osprey', config: ospreyBench(a, q.file,
      ['--backend', 'osprey-avx512,xnnpack', '--threads', '1', ...timedRuns(a)])});
    if (lit.error) r.litert = {error: `osprey quantize: ${lit.error}`};
    else runs.push({holder: r, key: 'litert', config: litertBench(a, lit.file)});
  }
  return {result, runs};
}

// After the last round: each form's MACs, and no per-op detail in the saved results.
export function finishInt8(result) {
  for (const r of Object.values(result)) {
    if (r.error) continue;
    r.macs = r.osprey?.raw?.macs;
    if (r.osprey?.raw) delete r.osprey.raw.per_op;
  }
}

export function int8Summary(r) {
  return FORMS.map((form) => `${form.key} ${ms(r.int8?.[form.key]?.osprey)} ms / LiteRT ${ms(r.int8?.[form.key]?.litert)} ms`).join(', ');
}

// The checks of issue 10 for one form; undefined where not measured.
function checks(floatMs, q) {
  const x = q.osprey?.median_ms, lit = q.litert?.median_ms;
  const c = [];
  if (x === undefined || floatMs === undefined) return c;
  c.push({what: 'never slower than float', fail: 'slower than float', ok: x <= floatMs});
  if (q.macs >= 100e6) c.push({what: '≤ 0.6× float', fail: '> 0.6× float', ok: x <= 0.6 * floatMs});
  if (lit !== undefined) c.push({what: '≤ 0.33× LiteRT', fail: '> 0.33× LiteRT', ok: x <= lit / 3});
  return c;
}

// The int8 peak of one core, in the instruction osprey's int8 kernels use on
// this CPU (results of older fma_peak builds carry only the VNNI figure).
export function int8Peak(m) {
  const p = m.fma_peak;
  if (p?.int8_gops) {
    const how = {
      'vpdpbusd': 'AVX-512 VNNI vpdpbusd',
      'vpmaddwd-512': 'AVX-512 vpmaddwd + vpaddd, no VNNI',
      'vpmaddwd-256': 'AVX2 vpmaddwd + vpaddd, no AVX-512',
    }[p.int8_instruction] ?? p.int8_instruction;
    return {gops: p.int8_gops, how};
  }
  return p?.vnni_int8_gops ? {gops: p.vnni_int8_gops, how: 'AVX-512 VNNI vpdpbusd'} : undefined;
}

export function int8Section(results, m) {
  const rows = results.filter((r) => r.int8);
  if (!rows.length) return [];
  const lines = [];
  const p = (s = '') => lines.push(s);
  const peak = int8Peak(m);
  p('## Int8');
  p();
  p('Each model quantized by `osprey quantize` from the zoo\'s three calibration photos (augmented to 100 samples),');
  p('in two forms: per-tensor weights with uint8 input/output, and per-channel weights with int8 input/output.');
  p('float ms is the model\'s own figure from the table above (osprey, 1 thread); int8 ms is osprey on the');
  p('quantized file (default backends, 1 thread), LiteRT ms LiteRT on the same file — for the int8-I/O form on');
  p('its uint8-I/O twin, since LiteRT.js refuses int8 model inputs and outputs. GOP/s = 2 × MACs / int8 median;');
  p(`% peak = that over the int8 peak of one core (${peak ? `${f(peak.gops, 1)} GOP/s, \`bench/fma_peak.c\`, ${peak.how}` : 'not measured'}).`);
  p('targets: never slower than float; ≤ 0.6× float on models of ≥ 100 MMACs; ≤ 0.33× LiteRT.');
  p();
  p('| model | form | MMACs | float ms | int8 ms | int8 / float | LiteRT ms | osprey / LiteRT | GOP/s | % peak | targets |');
  p('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  const all = [];
  const errors = [];
  for (const r of rows) {
    const floatMs = r.xnn1?.median_ms;
    for (const form of FORMS) {
      const q = r.int8[form.key];
      if (!q || q.error) {
        errors.push(`- ${r.model} (${form.label}): ${q?.error ?? 'not measured'}`);
        continue;
      }
      const x = q.osprey?.median_ms, lit = q.litert?.median_ms;
      const gops = q.macs && x ? 2 * q.macs / (x * 1e6) : undefined;
      const c = checks(floatMs, q);
      all.push(...c.map((k) => ({...k, model: r.model, form: form.label})));
      const failed = c.filter((k) => !k.ok).map((k) => k.fail);
      const underLoad = q.osprey?.quiet === false || q.litert?.quiet === false || r.xnn1?.quiet === false;
      const verdict = !c.length ? '–' : failed.length ? `**no** (${failed.join(', ')})` : 'yes';
      p(`| ${r.model} | ${form.label} | ${q.macs ? f(q.macs / 1e6, 1) : '–'} | ${ms(r.xnn1)} | ${ms(q.osprey)} | ` +
        `${x && floatMs ? f(x / floatMs, 2) : '–'} | ${ms(q.litert)} | ${x && lit ? f(x / lit, 3) : '–'} | ` +
        `${f(gops, 1)} | ${peak && gops ? f(100 * gops / peak.gops, 1) : '–'} | ${verdict}${underLoad && c.length ? ' †' : ''} |`);
      if (q.osprey?.error) errors.push(`- ${r.model} (${form.label}, osprey): ${q.osprey.error}`);
      if (q.litert?.error) errors.push(`- ${r.model} (${form.label}, LiteRT): ${q.litert.error}`);
    }
  }
  p();
  p('† = a figure of the row was measured while other processes wanted the CPUs (see the notes).');
  p();
  for (const what of ['never slower than float', '≤ 0.6× float', '≤ 0.33× LiteRT']) {
    const c = all.filter((k) => k.what === what);
    if (!c.length) continue;
    const bad = c.filter((k) => !k.ok);
    p(`- ${what}${what === '≤ 0.6× float' ? ' (≥ 100 MMACs)' : ''}: **${bad.length ? 'not met' : 'met'}** ` +
      `(${c.length - bad.length} of ${c.length}${bad.length ? `; not: ${bad.map((k) => `${k.model} ${k.form}`).join(', ')}` : ''}).`);
  }
  if (errors.length) {
    p();
    p('Not measured (a model `osprey quantize` cannot quantize is not quantizable, and says why):');
    p();
    errors.forEach((e) => p(e));
  }
  p();
  return lines;
}
