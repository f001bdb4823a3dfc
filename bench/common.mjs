// Helpers the benchmark modules share: running a tool, reading its JSON,
// waiting for a quiet machine, formatting figures.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function run(cmd, args, {timeoutMs = 30 * 60 * 1000} = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20});
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const err = (r.stderr || '').trim().split('\n').pop() || `exit status ${r.status}`;
    throw new Error(err);
  }
  return r.stdout;
}

export function lastJsonLine(text) {
  const lines = text.trim().split('\n').filter((l) => l.startsWith('{'));
  if (!lines.length) throw new Error('no JSON in output');
  return JSON.parse(lines[lines.length - 1]);
}

export function loadavg() { return os.loadavg().map((x) => Math.round(x * 100) / 100); }

export function sleepMs(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

// Runnable tasks right now, this process included (4th field of /proc/loadavg).
function runnable() {
  try { return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[0]); } catch { return 1; }
}

// Waits until no other task has wanted a CPU for a second (or maxSeconds
// passed); says whether it got there.
let quietBudgetMs = 15 * 60 * 1000;  // all waiting of one harness run

export function waitQuiet(maxSeconds) {
  const start = Date.now();
  const deadline = start + Math.min(maxSeconds * 1000, quietBudgetMs);
  for (;;) {
    let quiet = true;
    for (let i = 0; i < 5 && quiet; i++) {
      if (runnable() > 1) quiet = false;
      else sleepMs(200);
    }
    if (quiet || Date.now() >= deadline) {
      quietBudgetMs = Math.max(0, quietBudgetMs - (Date.now() - start));
      return quiet;
    }
    sleepMs(500);
  }
}

export const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

export const f = (v, d = 2) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(d));

// A measured median in ms (2 decimals under 10 ms), † when measured under load.
export const ms = (r) => (r?.median_ms !== undefined ? f(r.median_ms, r.median_ms < 10 ? 2 : 1) + (r.quiet === false ? '†' : '')
  : (r?.error ? 'error' : '–'));

// The configs measureRound runs: `osprey bench FILE --json ARGS...`, and
// LiteRT's harness on FILE (one thread) for --runs timed runs after --warmup
// (both warm up for 0.5 s at least).
export const timedRuns = (a) => ['--runs', String(a.runs), '--warmup', String(a.warmup)];
export const ospreyBench = (a, file, args) =>
  ({cmd: a.osprey, args: ['bench', file, '--json', ...args], median: (j) => j.latency_ms.median});
export const litertBench = (a, file) => ({cmd: 'node', args: [path.join(ROOT, 'tools/litert/run.mjs'), file,
  '--bench', ...timedRuns(a)], median: (j) => j.median_ms});

// One round of one config (cmd, args, how to read its median): runs it once,
// after waiting for a quiet moment, and keeps in holder[key] the lowest
// median so far ({median_ms, quiet, raw}; other load only ever slows a run
// down), with every round's median in `rounds`; {error} if no round ran.
export function measureRound(holder, key, config, quietWait) {
  const quiet = waitQuiet(quietWait);
  let r;
  try {
    r = lastJsonLine(run(config.cmd, config.args));
  } catch (e) {
    holder[key] = holder[key] || {error: e.message};
    return;
  }
  const median = config.median(r);
  const prev = holder[key];
  const rounds = [...(prev?.rounds ?? []), {median_ms: median, quiet}];
  if (!prev || prev.error || median < prev.median_ms) holder[key] = {median_ms: median, quiet, raw: r};
  holder[key].rounds = rounds;
}
