#!/usr/bin/env node
// Benchmarks osprey against the TFLite runtime (LiteRT.js under Node, one
// thread) on every supported zoo model, in one go on one machine, and writes
// docs/benchmarks.md, a PNG chart of the latency ratios and the raw results.
// `bench/run.sh` builds what this needs and calls it.
//
// usage: node bench/bench.mjs --osprey BIN --fma-peak BIN [--core-stalls BIN] [--models-dir DIR]
//          [--runs N] [--warmup N] [--ref-runs N] [--rounds N] [--quiet-wait S] [--only NAME...]
//          [--no-ref] [--no-int8] [--quick] [--out-md FILE] [--out-png FILE] [--out-json FILE] [--contend [--out-contend-json FILE]]
//        node bench/bench.mjs --from-json FILE   (rewrite the report from saved results)
//
// --contend measures instead osprey under contention: the harness starts one
// busy process per core (a shell spin loop, the way a camera's encoder keeps
// its cores busy), runs each model with the default thread setting and with
// --threads 1, alternately, --rounds times (default 3 there), and stops the
// spinners. Results go to bench/results/contention.json; the report's
// "Under contention" section is written from that file by every run.
//
// Each round goes over every model; per model, in this order: LiteRT
// (--bench), osprey XNNPACK on 1 thread, osprey XNNPACK on all cores, osprey
// reference kernels (fewer runs), then each int8 form on osprey and LiteRT.
// Each figure is a median over --runs timed runs after --warmup untimed ones
// and at least 0.5 s of them, in osprey and LiteRT alike (with more than one
// thread, `osprey bench` warms up longer, until its pool
// has learned whether splitting pays and checked that choice once,
// docs/architecture.md "Threads");
// with --rounds > 1 the best median of the rounds is kept, which filters out
// rounds disturbed by other load on the machine. Before each measurement the
// harness waits (up to --quiet-wait seconds, default 60, and 15 minutes in
// all) until no other task wants a CPU; figures measured without that are
// marked † in the report.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {ROOT, f, lastJsonLine, litertBench, loadavg, measureRound, ms, ospreyBench, run, timedRuns} from './common.mjs';
import {Quantizer, finishInt8, int8Peak, int8Runs, int8Section, int8Summary} from './int8.mjs';
import {serviceSection, benchService} from './service.mjs';
import {contendMain, contentionSection, readContention} from './contend.mjs';

// --quick: the harness itself on two small models, in a minute or two; the
// report goes under $BUILD/bench/quick/, not into docs/.
const QUICK_MODELS = ['face_detection_short_range', 'selfie_segmentation'];

function parseArgs(argv) {
  const a = {
    runs: 30, warmup: 10, refRuns: 3, rounds: 1, only: [], ref: true, int8: true, quietWait: 60, contend: false,
    modelsDir: path.join(process.env.OSPREY_CACHE || path.join(os.homedir(), '.cache', 'osprey'), 'models'),
    outMd: path.join(ROOT, 'docs', 'benchmarks.md'),
    outPng: path.join(ROOT, 'bench', 'results', 'ratios.png'),
    outJson: path.join(ROOT, 'bench', 'results', 'latest.json'),
    outContendJson: path.join(ROOT, 'bench', 'results', 'contention.json'),
  };
  let inOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    const int = (min) => {
      const v = Number(val());
      if (!Number.isInteger(v) || v < min) throw new Error(`${arg} must be an integer >= ${min}`);
      return v;
    };
    if (arg === '--only') { inOnly = true; continue; }
    if (inOnly && !arg.startsWith('-')) { a.only.push(...arg.split(',').filter(Boolean)); continue; }
    inOnly = false;
    if (arg === '--osprey') a.osprey = val();
    else if (arg === '--fma-peak') a.fmaPeak = val();
    else if (arg === '--core-stalls') a.coreStalls = val();
    else if (arg === '--service') a.service = val();  // "OSPREYD,OVERHEAD_BENCH" (bench/service.mjs)
    else if (arg === '--models-dir') a.modelsDir = val();
    else if (arg === '--runs') a.runs = int(1);
    else if (arg === '--warmup') a.warmup = int(0);
    else if (arg === '--ref-runs') a.refRuns = int(1);
    else if (arg === '--rounds') a.rounds = int(1);
    else if (arg === '--quiet-wait') a.quietWait = int(0);
    else if (arg === '--no-ref') a.ref = false;
    else if (arg === '--no-int8') a.int8 = false;
    else if (arg === '--quick') a.quick = true;
    else if (arg === '--contend') a.contend = true;
    else if (arg === '--out-md') a.outMd = val();
    else if (arg === '--out-png') a.outPng = val();
    else if (arg === '--out-json') a.outJson = val();
    else if (arg === '--out-contend-json') a.outContendJson = val();
    else if (arg === '--from-json') a.fromJson = val();
    else throw new Error(`unexpected argument '${arg}'`);
  }
  if (!a.osprey && !a.fromJson) throw new Error('--osprey BIN is required');
  if (a.quick) {
    Object.assign(a, {runs: Math.min(a.runs, 5), warmup: Math.min(a.warmup, 2), ref: false, quietWait: Math.min(a.quietWait, 5)});
    if (!a.only.length) a.only = QUICK_MODELS;
    const dir = path.resolve(ROOT, process.env.BUILD || 'build', 'bench', 'quick');
    Object.assign(a, {outMd: path.join(dir, 'benchmarks.md'), outPng: path.join(dir, 'ratios.png'), outJson: path.join(dir, 'latest.json')});
  }
  return a;
}

function machine(fmaPeak, coreStalls) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name) => (cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm')) || [])[1] || '?';
  const flags = field('flags').split(' ');
  const isa = ['avx512f', 'avx2', 'fma'].filter((f) => flags.includes(f)).join(', ');
  const dpkgVersion = (pkg) => {
    try { return run('dpkg-query', ['-W', '-f=${Version}', pkg]).trim(); } catch { return '?'; }
  };
  let litert = '?';
  try {
    litert = JSON.parse(fs.readFileSync(
        path.join(ROOT, 'tools/litert/node_modules/@litertjs/core/package.json'), 'utf8')).version;
  } catch { /* not installed */ }
  let peak = null, peakAll = null;
  if (fmaPeak) {
    try { peak = lastJsonLine(run(fmaPeak, [])); } catch (e) { peak = {error: e.message}; }
    // Every core at once: the ceiling of any multi-thread speed-up on this machine.
    if (os.cpus().length > 1) {
      try {
        peakAll = lastJsonLine(run(fmaPeak, ['--threads', String(os.cpus().length)]));
      } catch (e) { peakAll = {error: e.message}; }
    }
  }
  let stalls = null;
  if (coreStalls) {
    try { stalls = lastJsonLine(run(coreStalls, [])); } catch (e) { stalls = {error: e.message}; }
  }
  return {
    cpu: field('model name'),
    cores: os.cpus().length,
    isa,
    mhz: Number(field('cpu MHz')) || null,
    kernel: os.release(),
    memory_gib: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    xnnpack: dpkgVersion('libxnnpack0'),
    node: process.version,
    litert,
    fma_peak: peak,
    fma_peak_all_cores: peakAll,
    core_stalls: stalls,
  };
}

// A model under SHORT_MODEL_MS on one thread (its first round) gets
// SHORT_MODEL_ROUNDS times --rounds rounds, float and int8 alike: its 30
// runs last tens of milliseconds, far shorter than this host's slow spells,
// so a few rounds leave its ratios to the draw of which config met one.
// (Cheap: such a model's rounds take a few seconds, LiteRT's start-up most.)
const SHORT_MODEL_MS = 2;
const SHORT_MODEL_ROUNDS = 3;

// What each round runs for one model, in this order, for measureRound(result, key, config).
function modelConfigs(a, file, threadsAll) {
  const backend = ['--backend', 'osprey-avx512,xnnpack'];
  const configs = [
    {key: 'litert', ...litertBench(a, file)},
    {key: 'xnn1', ...ospreyBench(a, file, [...backend, '--threads', '1', ...timedRuns(a)])},
  ];
  if (threadsAll > 1) {
    configs.push({key: 'xnnN', ...ospreyBench(a, file, [...backend, '--threads', String(threadsAll), ...timedRuns(a)])});
  }
  if (a.ref) {
    configs.push({key: 'ref', ...ospreyBench(a, file,
        ['--backend', 'ref', '--runs', String(a.refRuns), '--warmup', '0', '--warmup-secs', '0'])});
  }
  return configs;
}

// Every model, --rounds times (more if it is short), best median kept. A
// round goes over all models (float configurations, then the int8 forms,
// quantized in the first round), so one model's rounds are minutes apart: a
// slow spell of the host, which can last a minute or more, spoils one of
// them, not all, and the float and int8 figures of a round are side by side.
function benchModels(a, models, threadsAll, quantizer) {
  const entries = models.map(({name, file}) => ({
    name, file, configs: modelConfigs(a, file, threadsAll), int8: [],
    result: {model: name, file_mb: fs.statSync(file).size / 2 ** 20, load: [loadavg()], rounds: a.rounds},
  }));
  for (let round = 0; entries.some((e) => round < e.result.rounds); round++) {
    for (const {name, file, configs, int8, result} of entries) {
      if (round >= result.rounds) continue;
      for (const c of configs) measureRound(result, c.key, c, a.quietWait);
      if (round === 0 && result.xnn1?.median_ms < SHORT_MODEL_MS) result.rounds = a.rounds * SHORT_MODEL_ROUNDS;
      if (round === 0 && quantizer) {
        const q = int8Runs(a, quantizer, name, file);
        result.int8 = q.result;
        int8.push(...q.runs);
      }
      for (const r of int8) measureRound(r.holder, r.key, r.config, a.quietWait);
      result.load.push(loadavg());
      process.stderr.write(`bench: round ${round + 1}/${result.rounds} ${name}: litert ${ms(result.litert)} ms, ` +
        `osprey 1T ${ms(result.xnn1)} ms, ${threadsAll}T ${ms(result.xnnN)} ms, ref ${ms(result.ref)} ms` +
        `${result.int8 ? `; int8 ${int8Summary(result)}` : ''} (load ${result.load.at(-1)[0]})\n`);
    }
  }
  return entries.map(({result}) => {
    const x1 = result.xnn1?.raw;
    if (x1) {
      result.macs = x1.macs;
      result.peak_rss_mb = x1.peak_rss_mb;
      result.arena_mb = x1.arena_mb;
      result.rss_bound_mb = result.file_mb + x1.arena_mb + 64;
    }
    if (result.int8) finishInt8(result.int8);
    return result;
  });
}


// ---------------------------------------------------------------------------
// A small PNG writer: RGB canvas, 5x7 bitmap font, deflate from zlib.

const FONT = {  // 5 columns per glyph, bit 0 = top row
  ' ': [0, 0, 0, 0, 0], '_': [0x40, 0x40, 0x40, 0x40, 0x40], '.': [0, 0x60, 0x60, 0, 0],
  '%': [0x23, 0x13, 0x08, 0x64, 0x62], '(': [0, 0x1c, 0x22, 0x41, 0], ')': [0, 0x41, 0x22, 0x1c, 0],
  '-': [0x08, 0x08, 0x08, 0x08, 0x08], ':': [0, 0x36, 0x36, 0, 0], '/': [0x20, 0x10, 0x08, 0x04, 0x02],
  '=': [0x14, 0x14, 0x14, 0x14, 0x14], ',': [0, 0x50, 0x30, 0, 0], '<': [0x08, 0x14, 0x22, 0x41, 0],
  '>': [0, 0x41, 0x22, 0x14, 0x08], '+': [0x08, 0x08, 0x3e, 0x08, 0x08], '*': [0x14, 0x08, 0x3e, 0x08, 0x14],
  '0': [0x3e, 0x51, 0x49, 0x45, 0x3e], '1': [0, 0x42, 0x7f, 0x40, 0], '2': [0x42, 0x61, 0x51, 0x49, 0x46],
  '3': [0x21, 0x41, 0x45, 0x4b, 0x31], '4': [0x18, 0x14, 0x12, 0x7f, 0x10], '5': [0x27, 0x45, 0x45, 0x45, 0x39],
  '6': [0x3c, 0x4a, 0x49, 0x49, 0x30], '7': [0x01, 0x71, 0x09, 0x05, 0x03], '8': [0x36, 0x49, 0x49, 0x49, 0x36],
  '9': [0x06, 0x49, 0x49, 0x29, 0x1e],
  'a': [0x20, 0x54, 0x54, 0x54, 0x78], 'b': [0x7f, 0x48, 0x44, 0x44, 0x38], 'c': [0x38, 0x44, 0x44, 0x44, 0x20],
  'd': [0x38, 0x44, 0x44, 0x48, 0x7f], 'e': [0x38, 0x54, 0x54, 0x54, 0x18], 'f': [0x08, 0x7e, 0x09, 0x01, 0x02],
  'g': [0x0c, 0x52, 0x52, 0x52, 0x3e], 'h': [0x7f, 0x08, 0x04, 0x04, 0x78], 'i': [0, 0x44, 0x7d, 0x40, 0],
  'j': [0x20, 0x40, 0x44, 0x3d, 0], 'k': [0x7f, 0x10, 0x28, 0x44, 0], 'l': [0, 0x41, 0x7f, 0x40, 0],
  'm': [0x7c, 0x04, 0x18, 0x04, 0x78], 'n': [0x7c, 0x08, 0x04, 0x04, 0x78], 'o': [0x38, 0x44, 0x44, 0x44, 0x38],
  'p': [0x7c, 0x14, 0x14, 0x14, 0x08], 'q': [0x08, 0x14, 0x14, 0x18, 0x7c], 'r': [0x7c, 0x08, 0x04, 0x04, 0x08],
  's': [0x48, 0x54, 0x54, 0x54, 0x20], 't': [0x04, 0x3f, 0x44, 0x40, 0x20], 'u': [0x3c, 0x40, 0x40, 0x20, 0x7c],
  'v': [0x1c, 0x20, 0x40, 0x20, 0x1c], 'w': [0x3c, 0x40, 0x30, 0x40, 0x3c], 'x': [0x44, 0x28, 0x10, 0x28, 0x44],
  'y': [0x0c, 0x50, 0x50, 0x50, 0x3c], 'z': [0x44, 0x64, 0x54, 0x4c, 0x44],
};

class Canvas {
  constructor(w, h) {
    this.w = w; this.h = h;
    this.px = Buffer.alloc(w * h * 3, 255);
  }
  rect(x, y, w, h, [r, g, b]) {
    for (let j = Math.max(0, Math.round(y)); j < Math.min(this.h, Math.round(y + h)); j++) {
      for (let i = Math.max(0, Math.round(x)); i < Math.min(this.w, Math.round(x + w)); i++) {
        const o = (j * this.w + i) * 3;
        this.px[o] = r; this.px[o + 1] = g; this.px[o + 2] = b;
      }
    }
  }
  text(x, y, s, color = [0, 0, 0], scale = 2) {
    for (const ch of s.toLowerCase()) {
      const glyph = FONT[ch] || FONT[' '];
      glyph.forEach((col, i) => {
        for (let bit = 0; bit < 7; bit++) {
          if (col & (1 << bit)) this.rect(x + i * scale, y + bit * scale, scale, scale, color);
        }
      });
      x += 6 * scale;
    }
  }
  static textWidth(s, scale = 2) { return s.length * 6 * scale; }
  png() {
    const crcTable = Array.from({length: 256}, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });
    const crc = (buf) => {
      let c = 0xffffffff;
      for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
      return (c ^ 0xffffffff) >>> 0;
    };
    const chunk = (type, data) => {
      const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body));
      return Buffer.concat([len, body, sum]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.w, 0); ihdr.writeUInt32BE(this.h, 4);
    ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;  // 8-bit RGB
    const raw = Buffer.alloc((this.w * 3 + 1) * this.h);
    for (let y = 0; y < this.h; y++) {
      raw[y * (this.w * 3 + 1)] = 0;
      this.px.copy(raw, y * (this.w * 3 + 1) + 1, y * this.w * 3, (y + 1) * this.w * 3);
    }
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, {level: 9})), chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

// Horizontal bars: osprey / LiteRT median latency per model (1 thread and all
// cores), with the 0.5 target and 0.33 goal marked.
function chart(results, threadsAll) {
  const rows = results.filter((r) => r.litert?.median_ms && r.xnn1?.median_ms);
  const label = Math.max(...rows.map((r) => Canvas.textWidth(r.model))) + 30;
  const plotW = 560, barH = 14, rowH = threadsAll > 1 ? 40 : 22, top = 70, bottom = 50;
  const W = label + plotW + 90, H = top + rows.length * rowH + bottom;
  const c = new Canvas(W, H);
  const max = 0.6;
  const x = (ratio) => label + Math.min(ratio, max) / max * plotW;
  const blue = [52, 101, 164], orange = [245, 121, 0], grey = [200, 200, 200];
  c.text(10, 10, 'osprey / litert median latency (lower is better)', [0, 0, 0], 2);
  c.rect(10, 38, 14, 12, blue); c.text(30, 38, 'osprey xnnpack, 1 thread', [0, 0, 0], 2);
  if (threadsAll > 1) {
    c.rect(360, 38, 14, 12, orange); c.text(380, 38, `osprey xnnpack, ${threadsAll} threads`, [0, 0, 0], 2);
  }
  for (const t of [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) {
    c.rect(x(t), top - 6, 1, rows.length * rowH + 6, grey);
    c.text(x(t) - 12, H - bottom + 8, t.toFixed(1), [80, 80, 80], 2);
  }
  for (const [t, col] of [[0.5, [204, 0, 0]], [1 / 3, [78, 154, 6]]]) c.rect(x(t) - 1, top - 6, 3, rows.length * rowH + 6, col);
  c.text(x(0.5) - 60, H - bottom + 28, 'target 0.5', [204, 0, 0], 2);
  c.text(x(1 / 3) - 70, H - bottom + 28, 'goal 0.33', [78, 154, 6], 2);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    c.text(10, y + 1, r.model, [0, 0, 0], 2);
    const r1 = r.xnn1.median_ms / r.litert.median_ms;
    c.rect(label, y, x(r1) - label, barH, blue);
    c.text(x(r1) + 6, y + 1, r1.toFixed(3), [0, 0, 0], 2);
    if (threadsAll > 1 && r.xnnN?.median_ms) {
      const rn = r.xnnN.median_ms / r.litert.median_ms;
      c.rect(label, y + barH + 2, x(rn) - label, barH, orange);
      c.text(x(rn) + 6, y + barH + 4, rn.toFixed(3), [0, 0, 0], 2);
    }
  });
  return c.png();
}

// ---------------------------------------------------------------------------
// docs/benchmarks.md

const SCALING_HEAVY = 1.6;  // issue 10: 2 threads on a quiet machine, models of >= 300 MMACs

function scalingVerdict(r) {
  const x1 = r.xnn1?.median_ms, xn = r.xnnN?.median_ms;
  if (!x1 || !xn) return '–';
  const speedup = x1 / xn;
  const v = speedup < 1 ? '**no** (slower)' : r.macs >= 300e6 && speedup < SCALING_HEAVY ? `**no** (< ${SCALING_HEAVY}×)` : 'yes';
  return v + (r.xnn1.quiet === false || r.xnnN.quiet === false ? ' †' : '');
}

function markdown(a, m, results, threadsAll, started, pngRel, service) {
  const peakG = m.fma_peak?.peak_gflops;
  const lines = [];
  const p = (s = '') => lines.push(s);
  p('# Benchmarks');
  p();
  p('Generated by `bench/run.sh` (`bench/bench.mjs`); do not edit by hand. Numbers are medians of');
  const n = (k, w) => `${k} ${w}${k === 1 ? '' : 's'}`;
  p(`${n(a.runs, 'timed run')} after ${n(a.warmup, 'warm-up run')} and at least 0.5 s of them, in osprey and LiteRT alike (more on threads, until the thread pool has learned whether to split and checked that choice once) on seeded random inputs` +
    `, best of ${n(a.rounds, 'round')} (${a.rounds * SHORT_MODEL_ROUNDS} for models under ${SHORT_MODEL_MS} ms ` +
    'on one thread, float and int8)' +
    `; the reference kernels (\`ref\`, the oracle) get ${n(a.refRuns, 'run')}.`);
  p();
  p(`- **Date:** ${started.toISOString().replace('T', ' ').replace(/\..*/, '')} UTC`);
  p(`- **Machine:** ${m.cpu}, ${m.cores} cores (${m.isa}), ${m.memory_gib} GiB, Linux ${m.kernel}`);
  p(`- **fp32 FMA peak of one core:** ${peakG ? `${f(peakG, 1)} GFLOP/s (${f(peakG / 2, 1)} GMAC/s)` : 'not measured'}, ` +
    'measured by `bench/fma_peak.c` (12 independent chains of register-only AVX-512/AVX2 FMAs, best of 10 × 0.2 s)');
  const int8 = int8Peak(m);
  p(`- **int8 peak of one core:** ${int8 ? `${f(int8.gops, 1)} GOP/s (${f(int8.gops / 2, 1)} G multiply-adds/s), ` +
    `the same 12 chains of ${int8.how}` : 'not measured'}`);
  const all = m.fma_peak_all_cores;
  if (peakG && all?.peak_gflops) {
    const ceiling = all.peak_gflops / peakG;
    p(`- **All ${all.threads} cores at once:** ${f(all.peak_gflops, 1)} GFLOP/s fp32 and ` +
      `${f(all.int8_gops ?? all.vnni_int8_gops, 1)} int8 GOP/s together, **${f(ceiling, 2)}×** one core's peak ` +
      `(\`fma_peak --threads ${all.threads}\`, the same loops on every core at the same time): the most a ` +
      `${all.threads}-thread inference can gain from its arithmetic.` +
      (ceiling < 1.3 ? ' Here the virtual CPUs share one physical core\'s vector units, so compute-bound ' +
        'steps cannot run faster on more threads, whatever the runtime does.' : ''));
  }
  const cs = m.core_stalls;
  if (cs && cs.round_trips) {
    p(`- **Two cores together:** a cache line's round trip between them takes ${f(cs.round_trip_us_median, 2)} µs ` +
      `(median; 99th percentile ${f(cs.round_trip_us_p99, 2)}); ${f(cs.stalled_percent, 1)}% of ${f(cs.measured_ms, 0)} ms ` +
      `went to ${cs.stalls_over_50us} round trips over 50 µs, a core taken away (\`bench/core_stalls.c\`, before the runs). ` +
      'A 2-thread inference waits for such a stall whenever it hits a worker.');
  }
  p(`- **osprey:** XNNPACK ${m.xnnpack} (Debian) through the \`osprey-avx512,xnnpack\` backends (the default); \`ref\` = osprey's reference kernels`);
  p(`- **LiteRT:** @litertjs/core ${m.litert} (TFLite in WebAssembly, XNNPACK, 1 thread) on Node ${m.node}, ` +
    'through `tools/litert/run.mjs --bench`');
  const loads = results.flatMap((r) => r.load.map((l) => l[0]));
  p(`- **Load average (1 min) while measuring:** ${f(Math.min(...loads), 2)} – ${f(Math.max(...loads), 2)} ` +
    `on ${m.cores} cores (other processes share the machine; see the notes)`);
  p();
  p('## Latency');
  p();
  const nT = threadsAll > 1 ? ` | osprey ${threadsAll}T ms | speed-up | ratio ${threadsAll}T | scaling` : '';
  p(`| model | MMACs | LiteRT ms | ref ms | osprey 1T ms | ratio 1T | GFLOP/s 1T | % peak${nT} |`);
  p(`|---|--:|--:|--:|--:|--:|--:|--:${threadsAll > 1 ? '|--:|--:|--:|:-:' : ''}|`);
  for (const r of results) {
    const lit = r.litert?.median_ms, x1 = r.xnn1?.median_ms, xn = r.xnnN?.median_ms;
    const gflops = r.macs && x1 ? 2 * r.macs / (x1 * 1e6) : undefined;
    const cells = [
      r.model, r.macs ? f(r.macs / 1e6, 1) : '–', ms(r.litert), ms(r.ref), ms(r.xnn1),
      lit && x1 ? f(x1 / lit, 3) : '–', f(gflops, 1), peakG && gflops ? f(100 * gflops / peakG, 0) : '–',
    ];
    if (threadsAll > 1) {
      cells.push(ms(r.xnnN), x1 && xn ? f(x1 / xn, 2) + '×' : '–', lit && xn ? f(xn / lit, 3) : '–', scalingVerdict(r));
    }
    p(`| ${cells.join(' | ')} |`);
  }
  p();
  p('ratio = osprey median / LiteRT median (target ≤ 0.5, goal ≤ 0.33); GFLOP/s = 2 × MACs / median, with');
  p('the MACs of the dense model (as `osprey inspect` counts them); % peak = that over the FMA peak above.');
  p('Models with sparse weights (pose_detection, face_detection_full_range_sparse) can pass 100%: osprey');
  p(`skips their zero weights. speed-up = osprey 1T / osprey ${threadsAll}T median. † = measured while other processes`);
  p('wanted the CPUs (the harness waited --quiet-wait seconds for a quiet moment, in vain). scaling: models of');
  p(`≥ 300 MMACs ≥ ${SCALING_HEAVY}× faster on ${threadsAll} threads, none slower than on 1; † there = a figure was measured`);
  p('under load, so the verdict says little. Errors, if any, are under the notes.');
  p();
  p(`![osprey / LiteRT latency ratio](${pngRel})`);
  p();
  for (const l of int8Section(results, m)) p(l);
  for (const l of serviceSection(service)) p(l);
  for (const l of contentionSection(readContention(a.outContendJson))) p(l);
  p('## Memory');
  p();
  const nRss = threadsAll > 1 ? ` | peak RSS MiB (${threadsAll}T)` : '';
  p(`| model | file MiB | arena MiB | peak RSS MiB (1T)${nRss} | bound MiB | within |`);
  p(`|---|--:|--:|--:|--:${threadsAll > 1 ? '|--:' : ''}|:-:|`);
  for (const r of results) {
    if (r.peak_rss_mb === undefined) continue;
    const rssN = r.xnnN?.raw?.peak_rss_mb;
    const worst = Math.max(r.peak_rss_mb, rssN ?? 0);
    p(`| ${r.model} | ${f(r.file_mb, 1)} | ${f(r.arena_mb, 1)} | ${f(r.peak_rss_mb, 1)}` +
      `${threadsAll > 1 ? ` | ${f(rssN, 1)}` : ''} | ${f(r.rss_bound_mb, 1)} | ${worst <= r.rss_bound_mb ? 'yes' : '**no**'} |`);
  }
  p();
  p('bound = model file size + osprey arena + 64 MiB. Peak RSS is the process\'s VmHWM over load, warm-up and runs');
  p('(`osprey bench`). Tensors between backends live in osprey\'s arena (planned across the whole model); each');
  p('XNNPACK runtime (one per run of ops) holds the tensors inside its run in its own workspace, with the packed');
  p('weights and its indirection buffers. Unpacked weights (the fp32 copies load-time folding made of fp16');
  p('weights, the file\'s pages) are given back once packed.');
  p();
  p('## Targets');
  p();
  const ok = results.filter((r) => r.litert?.median_ms && r.xnn1?.median_ms);
  const worst = ok.reduce((w, r) => (!w || r.xnn1.median_ms / r.litert.median_ms > w.xnn1.median_ms / w.litert.median_ms ? r : w), null);
  const heavy = results.find((r) => r.model === 'pose_landmark_heavy');
  const heavyG = heavy?.macs && heavy.xnn1?.median_ms ? 2 * heavy.macs / (heavy.xnn1.median_ms * 1e6) : undefined;
  if (worst) {
    const wr = worst.xnn1.median_ms / worst.litert.median_ms;
    p(`- Every model ≤ 0.5× LiteRT on one thread: **${ok.every((r) => r.xnn1.median_ms / r.litert.median_ms <= 0.5) ? 'met' : 'not met'}** ` +
      `(worst ${worst.model}, ${f(wr, 3)}); goal 0.33×: ${ok.every((r) => r.xnn1.median_ms / r.litert.median_ms <= 1 / 3) ? 'met' : 'not met'}.`);
  }
  if (heavyG && peakG) {
    p(`- pose_landmark_heavy ≥ 50% of the FMA peak: **${heavyG / peakG >= 0.5 ? 'met' : 'not met'}** ` +
      `(${f(heavyG, 1)} GFLOP/s = ${f(100 * heavyG / peakG, 0)}% of ${f(peakG, 1)}).`);
  }
  if (threadsAll > 1) {
    const heavies = ok.filter((r) => r.macs >= 300e6 && r.xnnN?.median_ms);
    const best = (r, k) => r[k].raw.latency_ms.min;
    const speedups = heavies.map((r) => `${r.model} ${f(r.xnn1.median_ms / r.xnnN.median_ms, 2)}× ` +
      `(best runs ${f(best(r, 'xnn1') / best(r, 'xnnN'), 2)}×)`);
    p(`- ${threadsAll} threads vs 1 ≥ ${SCALING_HEAVY}× on heavy models (≥ 300 MMACs), medians: ` +
      `**${heavies.every((r) => r.xnn1.median_ms / r.xnnN.median_ms >= SCALING_HEAVY) ? 'met' : 'not met'}** (${speedups.join(', ')}).`);
    const both = ok.filter((r) => r.xnnN?.median_ms);
    const slower = both.filter((r) => r.xnnN.median_ms > r.xnn1.median_ms);
    const loaded = both.filter((r) => r.xnn1.quiet === false || r.xnnN.quiet === false);
    p(`- No model slower on ${threadsAll} threads than on 1: **${slower.length ? 'not met' : 'met'}**` +
      (slower.length ? ` (${slower.map((r) => `${r.model} ${f(r.xnn1.median_ms / r.xnnN.median_ms, 2)}×`).join(', ')})` : '') +
      `; ${loaded.length} of ${both.length} models had a figure measured under load (†).`);
  }
  const mem = results.filter((r) => r.peak_rss_mb !== undefined)
      .map((r) => ({...r, worst_rss: Math.max(r.peak_rss_mb, r.xnnN?.raw?.peak_rss_mb ?? 0)}));
  p(`- Peak RSS ≤ file + arena + 64 MiB: **${mem.every((r) => r.worst_rss <= r.rss_bound_mb) ? 'met' : 'not met'}**` +
    (mem.some((r) => r.worst_rss > r.rss_bound_mb)
      ? ` (over: ${mem.filter((r) => r.worst_rss > r.rss_bound_mb).map((r) => `${r.model} ${f(r.worst_rss, 1)} > ${f(r.rss_bound_mb, 1)}`).join(', ')})`
      : ` (largest margin used: ${(() => { const w = mem.reduce((a, r) => (r.worst_rss / r.rss_bound_mb > a.worst_rss / a.rss_bound_mb ? r : a)); return `${w.model} ${f(w.worst_rss, 1)} of ${f(w.rss_bound_mb, 1)} MiB`; })()})`) + '.');
  p();
  p('## Notes');
  p();
  const errors = results.flatMap((r) => ['litert', 'xnn1', 'xnnN', 'ref']
      .filter((k) => r[k]?.error).map((k) => `- ${r.model} (${k}): ${r[k].error}`));
  if (errors.length) { p('Errors:'); p(); errors.forEach((e) => p(e)); p(); }
  for (const note of NOTES) p(note);
  return lines.join('\n') + '\n';
}

// Lasting explanations; edit here, not in the generated file.
const NOTES = [
  '- Reproduce with `bench/run.sh` (options: `bench/run.sh --runs 50 --rounds 3 --only pose_landmark_heavy`).',
  '  It builds `osprey` (Release), compiles `bench/fma_peak.c` and `bench/core_stalls.c`, installs the LiteRT harness\'s npm packages',
  '  if needed and fetches missing zoo models. `bench/run.sh --quick` (`make bench-quick`) tries the harness on two',
  '  small models with few runs and writes build/bench/quick/; `--no-int8` leaves the quantized forms out.',
  '- The int8 files are made once by `osprey quantize` and kept in $OSPREY_CACHE/quantized/, named by a hash of the',
  '  float model, its zoo/models.json entry, the quantize flags, `osprey --version` and the git tree of src/quant (a changed quantizer makes new ones).',
  '- What runs where (`osprey bench MODEL --profile` shows it per step): each run of ops XNNPACK takes is one',
  '  XNNPACK runtime (a PAD is folded into the convolution after it, a RELU fused into the op before it);',
  '  tensors between backends live in osprey\'s arena, planned across the whole model. Where Debian\'s XNNPACK (2022-02) is slow,',
  '  osprey\'s own AVX-512 kernels run instead: 3x3/5x5 depthwise convolutions (`OSPREY(...)` steps, about',
  '  2× XNNPACK\'s) and 1x1 convolutions whose weights are ≥ 50% zeros (`OSPREY-SPARSE(...)`: the sparse',
  '  MediaPipe models, 75% zeros in pose_detection, about 2× XNNPACK\'s dense GEMM). XNNPACK has no',
  '  CONCATENATION, so the detectors\' final concatenations stay on the reference kernels (zero-copy boundaries).',
  '- LiteRT runs in WebAssembly (Node 20 has no relaxed SIMD, so its `compat` build), one thread; osprey runs',
  '  native code with AVX-512. Part of the gap is therefore the platform, not the runtime. LiteRT\'s own',
  '  medians move a lot with other load on the machine (up to 3× between runs for the small models).',
  '- The machine is shared: when other processes keep cores busy, multi-threaded runs suffer most. osprey\'s',
  '  thread pool (which XNNPACK and osprey\'s kernels use; docs/architecture.md, "Threads") ends an operation',
  '  when its items are done, not when every worker has checked in, and the default thread setting falls',
  '  back to the calling thread while workers lose their cores; the "Under contention" table measures that.',
  '  The load average above tells how quiet it was, and `--rounds N` keeps the best of N medians; each round',
  '  goes over every model, so a model\'s rounds are minutes apart and a slow spell of the host spoils one of them.',
];

function writeReport(a, m, results, threadsAll, started, service) {
  for (const out of [a.outMd, a.outPng]) fs.mkdirSync(path.dirname(out), {recursive: true});
  fs.writeFileSync(a.outPng, chart(results, threadsAll));
  const pngRel = path.relative(path.dirname(a.outMd), a.outPng);
  const text = markdown(a, m, results, threadsAll, started, pngRel, service);
  fs.writeFileSync(a.outMd, text + keptSections(a.outMd, text));
}

// Sections other harnesses write into the same file (bench/onnx.mjs's "ONNX
// models", scripts/bench-landmarks-video.sh's "Landmarks on video"): kept as
// they are when this report is rewritten.
function keptSections(file, text) {
  if (!fs.existsSync(file)) return '';
  const ours = new Set(text.split('\n').filter((l) => l.startsWith('## ')));
  const kept = [];
  let keep = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('## ')) keep = !ours.has(line);
    if (keep) kept.push(line);
  }
  return kept.length ? `\n${kept.join('\n').replace(/\n+$/, '')}\n` : '';
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.contend) {
    await contendMain(a);
    // The rest of the report comes from the last full run.
    if (!fs.existsSync(a.outJson)) return;
    a.fromJson = a.outJson;
  }
  if (a.fromJson) {
    const saved = JSON.parse(fs.readFileSync(a.fromJson, 'utf8'));
    const opts = {...saved.options, outMd: a.outMd, outPng: a.outPng, outContendJson: a.outContendJson};
    writeReport(opts, saved.machine, saved.results, saved.machine.cores, new Date(saved.started), saved.service);
    process.stderr.write(`bench: wrote ${path.relative(process.cwd(), a.outMd)} from ${a.fromJson}\n`);
    return;
  }
  const started = new Date();
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'zoo/models.json'), 'utf8'));
  // Models only MediaPipe runs cannot race LiteRT.
  let models = manifest.models.filter((e) => e.status === 'supported' && e.oracle !== 'mediapipe').map((e) => e.name);
  if (a.only.length) {
    const unknown = a.only.filter((n) => !models.includes(n));
    if (unknown.length) throw new Error(`unknown or unsupported model(s): ${unknown.join(', ')}`);
    models = models.filter((n) => a.only.includes(n));
  }
  const threadsAll = os.cpus().length;
  const m = machine(a.fmaPeak, a.coreStalls);
  process.stderr.write(`bench: ${m.cpu}, ${threadsAll} cores; fma peak ${m.fma_peak?.peak_gflops ?? '?'} GFLOP/s\n`);
  const quantizer = a.int8 ? new Quantizer(a) : null;
  const found = [];
  for (const name of models) {
    const file = path.join(a.modelsDir, `${name}.tflite`);
    if (fs.existsSync(file)) found.push({name, file});
    else process.stderr.write(`bench: ${name}: ${file} missing, skipped\n`);
  }
  const results = benchModels(a, found, threadsAll, quantizer);
  if (!results.length) throw new Error(`no models found in ${a.modelsDir}`);
  const service = a.service && quantizer ? benchService(a, quantizer, results) : undefined;
  fs.mkdirSync(path.dirname(a.outJson), {recursive: true});
  fs.writeFileSync(a.outJson, JSON.stringify({started: started.toISOString(), options: a, machine: m, results, service}, null, 2) + '\n');
  writeReport(a, m, results, threadsAll, started, service);
  process.stderr.write(`bench: wrote ${path.relative(process.cwd(), a.outMd)}, ${path.relative(process.cwd(), a.outPng)}, ` +
    `${path.relative(process.cwd(), a.outJson)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
