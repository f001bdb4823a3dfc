// The "Under contention" part of `make bench` (`bench/run.sh --contend`):
// osprey's default thread setting against --threads 1 while one busy process
// per core runs; results in bench/results/contention.json, which every report
// reads.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawn} from 'node:child_process';

import {ROOT, f, lastJsonLine, loadavg, median, run} from './common.mjs';
import {FORMS, Quantizer} from './int8.mjs';

// The CPUs this process may run on (its affinity list), e.g. [0, 1].
function allowedCpus() {
  const status = fs.readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m);
  if (!status) return os.cpus().map((_, i) => i);
  return status[1].split(',').flatMap((range) => {
    const [lo, hi = lo] = range.split('-').map(Number);
    return Array.from({length: hi - lo + 1}, (_, i) => lo + i);
  });
}

// Starts one shell spin loop on each of `cpus`, pinned to it (taskset), so
// that every core has exactly one busy process: unpinned, the scheduler put
// both on one core in some runs and osprey had a core to itself, in others
// osprey shared one (2.7x slower), process by process, whatever the thread
// setting, and the ratio measured that lottery. Returns a function that
// stops them (also run at exit, so an interrupted harness leaves none behind).
function startSpinners(cpus) {
  const kids = cpus.map((cpu) =>
    spawn('taskset', ['-c', String(cpu), 'sh', '-c', 'while :; do :; done'], {stdio: 'ignore'}));
  const stop = () => { for (const k of kids) { try { k.kill('SIGKILL'); } catch { /* gone */ } } };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stop(); process.exit(130); });
  return stop;
}

// One model under contention: the default thread setting and --threads 1,
// alternately, `rounds` times. Each config's figure is its mean latency (the
// median over rounds): osprey shares its core with a spinner, and the
// scheduler's time slices (a few ms) make each run's latency either its own
// time or that plus a slice, so a median near the middle of that split
// flipped by 2x from one process to the next (pose_detection uint8's rounds
// 0.50-1.97x on 2026-12-07), while the mean counts every slice and every
// microsecond of osprey's own. The medians' ratio is kept beside it.
// After the first round, a round times at least kRoundMs per config, so a
// small model's mean covers many of the spinner's slices, not a few.
const kRoundMs = 300;

function contendModel(a, name, file, rounds) {
  let runs = a.runs;
  const args = (extra) => ['bench', file, '--json', '--runs', String(runs), '--warmup', String(a.warmup), ...extra];
  const result = {model: name, load: [loadavg()], rounds: [], caller_ops: 0, split_ops: 0};
  for (let round = 0; round < rounds; round++) {
    if (round === 1 && result.rounds.length) runs = Math.min(2000, Math.max(a.runs, Math.ceil(kRoundMs / result.rounds[0].one)));
    const r = {};
    for (const [key, extra] of [['default', []], ['one', ['--threads', '1']]]) {
      try {
        const out = lastJsonLine(run(a.osprey, args(extra)));
        r[key] = out.latency_ms.mean;
        r[`${key}_median`] = out.latency_ms.median;
        // Where the default's parallel operations ran: on the calling thread
        // (for the machine's sake or learned) or split over the workers.
        if (key === 'default' && out.pool) {
          result.caller_ops += out.pool.busy_machine_ops + out.pool.unsplit_ops;
          result.split_ops += out.pool.split_ops;
        }
      } catch (e) {
        result.error = `${key}: ${e.message}`;
      }
    }
    if (r.default !== undefined && r.one !== undefined) result.rounds.push(r);
    result.load.push(loadavg());
  }
  if (result.rounds.length) {
    result.default_ms = median(result.rounds.map((r) => r.default));
    result.one_ms = median(result.rounds.map((r) => r.one));
    result.ratio = median(result.rounds.map((r) => r.default / r.one));
    result.median_ratio = median(result.rounds.map((r) => r.default_median / r.one_median));
  }
  return result;
}

export function contentionSection(c) {
  if (!c?.results?.length) return [];
  const lines = [];
  const p = (x = '') => lines.push(x);
  const loads = c.results.flatMap((r) => r.load.map((l) => l[0]));
  // Runs before 2026-12-07 23:08 compared medians of 30 runs, without the "by medians" column.
  const byMeans = c.statistic === 'mean';
  p('## Under contention');
  p();
  p(`Measured by \`bench/run.sh --contend\` on ${c.started.replace('T', ' ').replace(/\..*/, '')} UTC: the harness ran ` +
    `${c.spinners} busy process${c.spinners === 1 ? '' : 'es'} (shell spin loops, ` +
    `${c.pinned ? 'each pinned to its own core' : 'one per core'}) besides osprey, ` +
    `and osprey with its default thread setting and with \`--threads 1\` alternately, ${c.rounds} rounds of ` +
    `${byMeans ? `${c.runs} timed runs or more (${kRoundMs} ms or more after the first round)` : `${c.runs} timed runs`} each; ms = ${byMeans ? 'the median over rounds of each round\'s mean latency' : 'median of the round medians'}, ` +
    `ratio = median of the per-round ratios (target ≤ 1.2)` +
    (byMeans
      ? '; "by medians" = the same from each round\'s median latency, which time slicing makes flip: a run ' +
        'either fits between two of the spinner\'s slices or waits one out (bench/contend.mjs). '
      : '. ') +
    `Load average (1 min) while measuring: ${f(Math.min(...loads), 2)} – ${f(Math.max(...loads), 2)} ` +
    `on ${c.cores} cores, the spinners included. "on the caller" = the share of the default's parallel ` +
    'operations (timed runs) that ran on the calling thread alone (`osprey bench --json`, "pool"): at 100% the ' +
    'default runs exactly what `--threads 1` runs' +
    (c.pinned
      ? '; every osprey thread shares a core with a spinner in both settings.'
      : ', and what remains of the ratio is how the scheduler shared the cores between the spinners and each ' +
        'osprey process (an inference either has a core to itself or shares one; which, differs from process to ' +
        'process).'));
  p();
  p(`| model | --threads 1 ms | default ms | default / 1 thread |${byMeans ? ' by medians |' : ''} on the caller | ≤ 1.2× |`);
  p(`|---|--:|--:|--:|${byMeans ? '--:|' : ''}--:|:-:|`);
  for (const r of c.results) {
    const total = (r.caller_ops ?? 0) + (r.split_ops ?? 0);
    const caller = total ? `${f(100 * r.caller_ops / total, 0)}%` : '–';
    p(`| ${r.model} | ${f(r.one_ms, 1)} | ${f(r.default_ms, 1)} | ${f(r.ratio, 2)} | ` +
      `${byMeans ? `${f(r.median_ratio, 2)} | ` : ''}${caller} | ` +
      `${r.ratio === undefined ? (r.error ? `error: ${r.error}` : '–') : r.ratio <= 1.2 ? 'yes' : '**no**'} |`);
  }
  p();
  return lines;
}

export function readContention(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
}

export async function contendMain(a) {
  const started = new Date();
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'zoo/models.json'), 'utf8'));
  let models = manifest.models.filter((e) => e.status === 'supported' && e.oracle !== 'mediapipe').map((e) => e.name);
  if (a.only.length) models = models.filter((n) => a.only.includes(n));
  const cpus = allowedCpus();
  const cores = cpus.length;
  const rounds = Math.max(a.rounds, 7);
  // Each model's per-tensor uint8 form too (issue 10: float or int8), made
  // before the spinners start (cached by bench/int8.mjs).
  const quantizer = a.int8 ? new Quantizer(a) : null;
  const jobs = [];
  for (const name of models) {
    const file = path.join(a.modelsDir, `${name}.tflite`);
    if (!fs.existsSync(file)) continue;
    jobs.push({label: name, file});
    const q = quantizer?.make(name, file, FORMS.find((form) => form.key === 'pt_u8'));
    if (q?.file) jobs.push({label: `${name} (uint8)`, file: q.file});
  }
  const stop = startSpinners(cpus);
  const results = [];
  try {
    for (const {label, file} of jobs) {
      const r = contendModel(a, label, file, rounds);
      results.push(r);
      process.stderr.write(`bench --contend: ${label}: --threads 1 ${f(r.one_ms, 1)} ms, default ${f(r.default_ms, 1)} ms, ` +
        `ratio ${f(r.ratio, 2)} (load ${r.load.at(-1)[0]})\n`);
    }
  } finally {
    stop();
  }
  if (!results.length) throw new Error(`no models found in ${a.modelsDir}`);
  const saved = {started: started.toISOString(), cores, spinners: cores, pinned: true, statistic: 'mean', rounds,
    runs: a.runs, results};
  fs.mkdirSync(path.dirname(a.outContendJson), {recursive: true});
  fs.writeFileSync(a.outContendJson, JSON.stringify(saved, null, 2) + '\n');
  process.stderr.write(`bench --contend: wrote ${path.relative(process.cwd(), a.outContendJson)}\n`);
}
