// What the one-op LiteRT tests share (tests/ops/*_litert.mjs): their
// arguments and work directory, running a model on LiteRT and on `osprey run`
// (the default backends and --backend ref) on the same inputs, counting the
// output values that are not bit-identical, and the closing tally.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {parseArgs, run} from './cli.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The LiteRT runtime and npy helpers, or null (with a message) when
// @litertjs/core is not installed: the caller exits 77 (skipped).
export async function loadLiteRT() {
  if (!fs.existsSync(path.join(ROOT, 'tools/litert/node_modules/@litertjs/core'))) {
    console.error('skipped: @litertjs/core is not installed (npm ci --prefix tools/litert)');
    return null;
  }
  const {loadRuntime, randomInputs} = await import(path.join(ROOT, 'tools/litert/litert.mjs'));
  const npy = await import(path.join(ROOT, 'tools/litert/npy.mjs'));
  return {rt: await loadRuntime(), randomInputs, ...npy};
}

// Parses --osprey, --make-model and --keep, and `flags` (cli.mjs's
// parseArgs), loads LiteRT and makes a work directory: {args, lite, work},
// or the exit status (2: usage, 77: no LiteRT).
export async function setUp(argv, name, flags = {}, defaults = {}) {
  let args;
  try {
    args = parseArgs(argv, {
      '--osprey': ['osprey', 'value'],
      '--make-model': ['makeModel', 'value'],
      '--keep': ['keep', 'flag'],
      ...flags,
    }, {keep: false, ...defaults});
    if (!args.osprey || !args.makeModel) {
      const extra = Object.entries(flags).map(([flag, [, kind]]) => (kind === 'flag' ? `[${flag}]` : `[${flag} N]`));
      throw new Error(`usage: --osprey OSPREY --make-model MAKE_MODEL ${extra.join(' ')} [--keep]`.replace('  ', ' '));
    }
  } catch (e) {
    console.error(e.message);
    return 2;
  }
  const lite = await loadLiteRT();
  if (!lite) return 77;
  return {args, lite, work: fs.mkdtempSync(path.join(os.tmpdir(), `osprey-${name}-`))};
}

// Prints how many runs agreed, removes `work` unless kept; the exit status.
export function summary(work, keep, checked, failed) {
  if (!keep) fs.rmSync(work, {recursive: true, force: true});
  console.log(`${checked - failed} of ${checked} osprey runs agree with LiteRT${keep ? ` (kept ${work})` : ''}`);
  return failed === 0 ? 0 : 1;
}

// Runs the async `main` and exits with its status (1, with the message, when it throws).
export function runMain(main) {
  main().then((code) => process.exit(code), (e) => {
    console.error(e.message);
    process.exit(1);
  });
}

// A seeded generator of the tests' random choices: random() uniform in
// [0, 1), int(lo, hi) uniform over the integers lo..hi (a linear
// congruential sequence from seed * spread).
export function seeded(seed, spread = 7919) {
  let state = seed * spread;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return {random, int: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1))};
}

// Runs `modelPath` on `inputs` ([{data, shape}]) with LiteRT and osprey;
// returns, per osprey backend, the indices of output 0's values that differ
// from LiteRT's, and LiteRT's and osprey's outputs.
export async function exactRuns(lite, osprey, modelPath, inputs, dir, label) {
  const model = await lite.rt.compile(modelPath, {name: label});
  const theirs = (await model.run(inputs))[0];
  model.delete();
  const files = inputs.map((t, i) => {
    const f = path.join(dir, `input${i}.npy`);
    lite.writeNpy(f, t.data, t.shape);
    return f;
  });
  const runs = [];
  for (const backend of [null, 'ref']) {
    const outDir = path.join(dir, backend ?? 'default');
    run(osprey, ['run', modelPath, ...files.flatMap((f) => ['--input', f]), '--output-dir', outDir,
      ...(backend ? ['--backend', backend] : [])], 60_000);
    const ours = lite.readNpy(path.join(outDir, 'output0.npy'));
    const differ = [];
    if (ours.data.length !== theirs.data.length) differ.push(-1);
    for (let i = 0; i < Math.min(ours.data.length, theirs.data.length); i++) {
      if (ours.data[i] !== theirs.data[i]) differ.push(i);
    }
    runs.push({backend: backend ?? 'default', differ, ours, theirs});
  }
  return runs;
}
