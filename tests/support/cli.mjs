// What the Node test scripts share: their argument parsing and running osprey's tools.
import {spawnSync} from 'node:child_process';
import path from 'node:path';

// `flags` maps each option to [key, kind]: 'value' (a string), 'number', or
// 'flag' (true when present). Unknown options and missing values throw.
export function parseArgs(argv, flags, defaults = {}) {
  const a = {...defaults};
  for (let i = 0; i < argv.length; i++) {
    const spec = flags[argv[i]];
    if (!spec) throw new Error(`unexpected argument '${argv[i]}'`);
    const [key, kind] = spec;
    if (kind === 'flag') {
      a[key] = true;
      continue;
    }
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    const v = argv[++i];
    a[key] = kind === 'number' ? Number(v) : v;
  }
  return a;
}

// Runs a tool and returns its stdout; a failure throws with the command and its stderr.
export function run(bin, args, timeoutMs) {
  const r = spawnSync(bin, args, {encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26});
  if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')}: ${(r.stderr || r.error || '').toString().trim()}`);
  return r.stdout;
}
