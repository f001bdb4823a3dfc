// What the one-op LiteRT tests share (tests/ops/*_litert.mjs): run a model
// on LiteRT and on `osprey run` (the default backends and --backend ref) on
// the same inputs, and count the output values that are not bit-identical.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {run} from './cli.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The LiteRT runtime and npy helpers, or null (with a message) when
// @litertjs/core is not installed: the caller exits 77 (skipped).
export async function loadLiteRT() {
  if (!fs.existsSync(path.join(ROOT, 'tools/litert/node_modules/@litertjs/core'))) {
    console.error('skipped: @litertjs/core is not installed (npm ci --prefix tools/litert)');
    return null;
  }
  const {loadRuntime} = await import(path.join(ROOT, 'tools/litert/litert.mjs'));
  const npy = await import(path.join(ROOT, 'tools/litert/npy.mjs'));
  return {rt: await loadRuntime(), ...npy};
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
