#!/usr/bin/env node
// ONNX's backend node tests (Debian libonnx-testdata: data/node/test_*/ holds a
// model.onnx and test_data_set_0/input_N.pb, output_N.pb) run on osprey for every
// case whose ops osprey claims to import.
//
// Per case: the input TensorProtos become .npy files, the runner computes the
// outputs (`osprey run model.onnx --input ... --output-dir D`, or ONNX Runtime's
// tools/onnxruntime/run.mjs with --runner ort, to prove the harness itself), and
// every output is compared with output_N.pb: floats |d| <= tol * max(1, |ref|)
// (tol 1e-4 unless TOLERANCE says otherwise; NaN must match NaN), integers and
// bools exactly, shapes and dtypes exactly.
//
// usage: node tests/onnx/node_cases.mjs [--runner osprey|ort] [--ops A,B,..|--all-ops]
//          [--only SUBSTR] [--limit N] [--data-dir DIR] [--jobs N] [--timeout SEC]
//          [--budget SEC] [--work-dir DIR] [--keep] [--verbose]
//   OSPREY_BIN  osprey binary (default build/bin/osprey)
//   --ops       the claimed ops; default: `osprey convert --list-ops` (one op type per line)
//   --all-ops   every case (for --runner ort)
//   --only      cases whose directory name contains SUBSTR (comma-separated: any of them)
//   --limit     run at most N selected cases (spread over the ops by taking every k-th)
//   --budget    limit for the whole run (default 480 s); cases not reached count as failures
//
// Prints "op: passed/total" per op, then each failure with its reason, then a
// summary line. Exits 1 when a gating case fails (see isGating) and it is not
// in EXPECTED_FAILURES; non-gating failures are listed but do not fail the run.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawn, spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

import {parseArgs} from '../support/cli.mjs';
import {readNpy, writeNpy} from '../../tools/litert/npy.mjs';
import {parseModel, parseTensor, withInitializers} from './onnx_proto.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_TOL = 1e-4;

// Per-op float tolerance where the default is too tight for a correct
// implementation (the reference outputs were computed by NumPy, sometimes in
// float64). Each entry says why.
const TOLERANCE = {};

// Gating cases a correct runtime is allowed to fail, per runner and case name,
// each with the reason (e.g. an attribute osprey rejects with a clear error).
// Keep osprey's short. ONNX Runtime's are what onnxruntime-node 1.30.0 gets
// wrong or refuses of all 908 cases (`--runner ort --all-ops`).
const named = (reason, ...cases) => Object.fromEntries(cases.map((c) => [`test_${c}`, reason]));
const EXPECTED_FAILURES = {
  // What osprey's importer refuses (with a one-line error naming the node and
  // the reason), by reason; measured with `osprey convert --list-ops` on
  // libonnx-testdata 1.12 (docs/onnx.md).
  osprey: {
    ...named('1-D and 3-D pooling/convolution: osprey is 2-D (4-D tensors) only', 'averagepool_1d_default', 'averagepool_3d_default', 'convtranspose_1d', 'convtranspose_3d', 'maxpool_1d_default', 'maxpool_3d_default'),
    ...named('ceil_mode=1 output sizes: TFLite pools cannot express them', 'averagepool_2d_ceil', 'maxpool_2d_ceil'),
    ...named("explicit pads that are not TFLite's SAME or VALID padding", 'averagepool_2d_pads', 'averagepool_2d_same_lower'),
    ...named("training-mode ops (BatchNormalization statistics, random Dropout, Dropout's mask)", 'batchnorm_epsilon_training_mode', 'batchnorm_example_training_mode', 'dropout_default_mask', 'dropout_default_mask_ratio', 'training_dropout', 'training_dropout_default', 'training_dropout_default_mask', 'training_dropout_mask', 'training_dropout_zero_ratio_mask'),
    ...named('models whose output is a constant (Shape, Size): osprey models compute their outputs', 'constant', 'shape', 'shape_clip_end', 'shape_clip_start', 'shape_end_1', 'shape_end_negative_1', 'shape_example', 'shape_start_1', 'shape_start_1_end_2', 'shape_start_1_end_negative_1', 'shape_start_negative_1', 'size', 'size_example'),
    ...named('integer activations: osprey imports float32 models (integer inputs must be constants)', 'constantofshape_float_ones', 'pow_types_float', 'pow_types_int32_float32', 'pow_types_int64_float32'),
    ...named("ConvTranspose forms TFLite's TRANSPOSE_CONV cannot express (auto_pad, dilations, output_shape, some output_padding)", 'convtranspose_autopad_same', 'convtranspose_dilations', 'convtranspose_kernel_shape', 'convtranspose_output_shape', 'convtranspose_pad', 'convtranspose_with_kernel'),
    ...named('Gemm with transA or a non-vector C', 'gemm_all_attributes', 'gemm_default_matrix_bias', 'gemm_transposeA'),
    ...named('Max/Min with other than 2 inputs', 'max_example', 'max_one_input', 'min_example', 'min_one_input'),
    ...named('MaxPool with dilations or its indices output', 'maxpool_2d_dilations', 'maxpool_with_argmax_2d_precomputed_pads', 'maxpool_with_argmax_2d_precomputed_strides'),
    ...named('Pow with a tensor exponent (osprey lowers scalar exponents only)', 'pow', 'pow_bcast_array', 'pow_example', 'pow_types_float32_int32', 'pow_types_float32_int64', 'pow_types_int'),
    ...named('Range of non-constant inputs: no runtime Range op', 'range_float_type_positive_delta'),
    ...named('zero-sized tensors (empty axes, zero-size splits, allowzero shapes)', 'reduce_sum_default_axes_keepdims_example', 'reduce_sum_default_axes_keepdims_random', 'reduce_sum_empty_axes_input_noop_example', 'reduce_sum_empty_axes_input_noop_random', 'reduce_sum_negative_axes_keepdims_random', 'reshape_allowzero_reordered', 'split_zero_size_splits'),
    ...named('Resize scales that give fractional sizes: TFLite resizes by the size ratio, not the scale', 'resize_downsample_scales_cubic', 'resize_downsample_scales_cubic_align_corners', 'resize_downsample_scales_linear', 'resize_downsample_scales_linear_align_corners', 'resize_downsample_scales_nearest'),
    ...named('cubic Resize: TFLite has bilinear and nearest only', 'resize_downsample_scales_cubic_A_n0p5_exclude_outside', 'resize_downsample_sizes_cubic', 'resize_upsample_scales_cubic', 'resize_upsample_scales_cubic_A_n0p5_exclude_outside', 'resize_upsample_scales_cubic_align_corners', 'resize_upsample_scales_cubic_asymmetric', 'resize_upsample_sizes_cubic'),
    ...named('Resize coordinate modes TFLite cannot express', 'resize_downsample_sizes_linear_pytorch_half_pixel', 'resize_downsample_sizes_nearest', 'resize_downsample_sizes_nearest_tf_half_pixel_for_nn', 'resize_tf_crop_and_resize', 'resize_upsample_scales_nearest', 'resize_upsample_sizes_nearest', 'resize_upsample_sizes_nearest_ceil_half_pixel', 'resize_upsample_sizes_nearest_floor_align_corners', 'resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric'),
    ...named('Softmax over an axis other than the last (or channels)', 'softmax_axis_0', 'softmax_axis_1'),
  },
  ort: {
    ...named('ai.onnx.preview.training ops are not in ONNX Runtime', 'adagrad', 'adagrad_multiple', 'adam',
      'adam_multiple', 'momentum', 'momentum_multiple', 'nesterov_momentum'),
    ...named('random numbers: ONNX Runtime\'s generator is not NumPy\'s', 'bernoulli_seed',
      'bernoulli_seed_expanded', 'training_dropout', 'training_dropout_default', 'training_dropout_default_mask',
      'training_dropout_mask'),
    ...named('float32 FFT against a float64 reference: |d| ~2e-4 on elements near 0', 'dft', 'dft_axis'),
    ...named('ONNX Runtime rejects layout=1 (batch-first) recurrent ops', 'gru_batchwise', 'lstm_batchwise',
      'simple_rnn_batchwise'),
    ...named('ONNX Runtime places MaxUnpool values differently when output_shape pads',
      'maxunpool_export_with_output_shape'),
    ...named('ONNX Runtime samples align_corners downscaling differently from ONNX\'s reference',
      'resize_downsample_scales_cubic_align_corners', 'resize_downsample_scales_linear_align_corners'),
  },
};

// Element types a gating case may use: osprey computes in float32 and carries
// int32/int64/bool index and mask tensors; float16/float64/bfloat16 cases and
// cases on small integer types are run and reported but do not fail the run.
const GATING_DTYPES = new Set(['float32', 'int32', 'int64', 'bool']);
// Tensors the harness cannot pass as .npy: such cases are skipped.
const NO_NPY = new Set(['string', 'complex64', 'complex128', 'bfloat16']);
const isGating = (c) => c.tensors.every((t) => GATING_DTYPES.has(t)) && c.tensors.includes('float32');

const FLAGS = {
  '--runner': ['runner', 'value'], '--ops': ['ops', 'value'], '--all-ops': ['allOps', 'flag'],
  '--only': ['only', 'value'], '--limit': ['limit', 'number'], '--data-dir': ['dataDir', 'value'],
  '--jobs': ['jobs', 'number'], '--timeout': ['timeout', 'number'], '--budget': ['budget', 'number'],
  '--work-dir': ['workDir', 'value'], '--keep': ['keep', 'flag'], '--verbose': ['verbose', 'flag'],
};

function options() {
  const a = parseArgs(process.argv.slice(2), FLAGS, {
    runner: 'osprey', jobs: 2, timeout: 30, budget: 480,
    dataDir: process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data/node',
  });
  if (!['osprey', 'ort'].includes(a.runner)) throw new Error(`--runner must be osprey or ort, got '${a.runner}'`);
  for (const k of ['jobs', 'timeout', 'budget']) if (!(a[k] > 0)) throw new Error(`--${k} must be a positive number`);
  if (a.limit !== undefined && !(Number.isInteger(a.limit) && a.limit > 0)) throw new Error('--limit must be a positive integer');
  a.osprey = process.env.OSPREY_BIN ?? path.join(ROOT, 'build', 'bin', 'osprey');
  return a;
}

// The op types osprey claims, from the command line or from osprey itself.
function claimedOps(a) {
  if (a.allOps) return null;
  if (a.ops) return new Set(a.ops.split(',').map((s) => s.trim()).filter(Boolean));
  if (a.runner !== 'osprey') throw new Error('--runner ort needs --ops LIST or --all-ops');
  const r = spawnSync(a.osprey, ['convert', '--list-ops'], {encoding: 'utf8', timeout: 30000});
  if (r.status !== 0) {
    const why = (r.stderr || r.error || '').toString().trim().split('\n')[0];
    throw new Error(`${a.osprey} convert --list-ops failed (${why}); pass --ops LIST`);
  }
  const ops = r.stdout.split(/[\s,]+/).filter(Boolean);
  if (ops.length === 0) throw new Error(`${a.osprey} convert --list-ops printed no op`);
  return new Set(ops);
}

// Every case directory with its ops and tensor types; `skip` says why a case cannot run.
function loadCases(a, claimed) {
  if (!fs.existsSync(a.dataDir)) throw new Error(`no ONNX node test data in ${a.dataDir} (Debian libonnx-testdata; or --data-dir)`);
  const only = a.only ? a.only.split(',').filter(Boolean) : null;
  const cases = [];
  for (const name of fs.readdirSync(a.dataDir).sort()) {
    if (only && !only.some((s) => name.includes(s))) continue;
    const dir = path.join(a.dataDir, name);
    const modelPath = path.join(dir, 'model.onnx');
    if (!fs.existsSync(modelPath)) continue;
    const model = parseModel(fs.readFileSync(modelPath), modelPath);
    const std = (n) => n.domain === '' || n.domain === 'ai.onnx';
    const ops = [...new Set(model.nodes.map((n) => (std(n) ? n.opType : `${n.domain}:${n.opType}`)))].sort();
    if (claimed && !ops.every((op) => claimed.has(op))) continue;
    // A function's expansion (test_*_expanded) is several ops; its row is named after all of them.
    const c = {name, dir, modelPath, model, key: ops.join('+'), tensors: []};
    const values = [...model.inputs, ...model.outputs];
    const nonTensor = values.find((v) => v.kind !== 'tensor');
    const setDir = path.join(dir, 'test_data_set_0');
    const noNpy = values.find((v) => NO_NPY.has(v.dtype));
    if (nonTensor) c.skip = `${nonTensor.kind} value '${nonTensor.name}'`;
    else if (noNpy) c.skip = `${noNpy.dtype} tensor '${noNpy.name}' (no .npy type)`;
    else if (!fs.existsSync(setDir)) c.skip = 'no test_data_set_0';
    c.tensors = values.map((v) => v.dtype);
    cases.push(c);
  }
  return cases;
}

// Takes n cases spread evenly over the sorted list (so every op keeps some).
function spread(cases, n) {
  if (!n || cases.length <= n) return cases;
  const step = cases.length / n;
  return Array.from({length: n}, (_, i) => cases[Math.floor(i * step)]);
}

function runAsync(bin, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => (stderr += e.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({code, signal, stdout, stderr});
    });
  });
}

const lastLine = (s) => s.trim().split('\n').filter(Boolean).pop() ?? '';
const fmt = (x) => (typeof x === 'bigint' || Number.isInteger(x) ? String(x) : Number(x).toPrecision(6));
const isFloat = (dtype) => dtype.startsWith('float') || dtype === 'bfloat16';

// Why `got` differs from `ref`, or null when it matches.
function mismatch(got, ref, tol) {
  if (got.shape.join(',') !== ref.shape.join(',')) return `shape (${got.shape}) expected (${ref.shape})`;
  if (got.dtype !== ref.dtype) return `dtype ${got.dtype} expected ${ref.dtype}`;
  const n = ref.data.length;
  if (ref.dtype === 'float16') return mismatchF16(got, ref, tol);
  if (!isFloat(ref.dtype)) {
    for (let i = 0; i < n; i++) if (got.data[i] !== ref.data[i]) return `element ${i}: ${got.data[i]} expected ${ref.data[i]}`;
    return null;
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < n; i++) {
    const g = got.data[i];
    const r = ref.data[i];
    if (Number.isNaN(r) || Number.isNaN(g)) {
      if (Number.isNaN(r) !== Number.isNaN(g)) return `element ${i}: ${fmt(g)} expected ${fmt(r)}`;
      continue;
    }
    if (!Number.isFinite(r) || !Number.isFinite(g)) {
      if (g !== r) return `element ${i}: ${fmt(g)} expected ${fmt(r)}`;
      continue;
    }
    const excess = Math.abs(g - r) / (tol * Math.max(1, Math.abs(r)));
    if (excess > 1 && excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst < 0) return null;
  const r = ref.data[worst];
  return `element ${worst}: ${fmt(got.data[worst])} expected ${fmt(r)} (|d| ${fmt(Math.abs(got.data[worst] - r))} > ${tol} * max(1, |ref|))`;
}

function f16(bits) {
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  const s = bits & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
const mismatchF16 = (got, ref, tol) => mismatch(
  {...got, dtype: 'float32', data: Float32Array.from(got.data, f16)},
  {...ref, dtype: 'float32', data: Float32Array.from(ref.data, f16)}, Math.max(tol, 1e-3));

// Runs one case; returns {ok, reason}.
async function runCase(a, c, work) {
  const setDir = path.join(c.dir, 'test_data_set_0');
  const caseDir = path.join(work, c.name);
  const outDir = path.join(caseDir, 'out');
  fs.mkdirSync(outDir, {recursive: true});
  const inputs = [];
  const shapes = [];
  for (let i = 0; i < c.model.inputs.length; i++) {
    const pb = path.join(setDir, `input_${i}.pb`);
    if (!fs.existsSync(pb)) return {ok: false, reason: `harness: ${pb} missing`};
    const t = parseTensor(fs.readFileSync(pb), pb);
    const file = path.join(caseDir, `input_${i}.npy`);
    writeNpy(file, t.data, t.shape, t.dtype);
    inputs.push(file);
    // Dynamic dims are fixed from the data, as a user would with --input-shape.
    const decl = c.model.inputs[i].shape;
    if ((!decl || decl.some((d) => d === null || d < 0)) && t.shape.length > 0) {
      shapes.push('--input-shape', `${c.model.inputs[i].name}:${t.shape.join(',')}`);
    }
  }
  const inputArgs = inputs.flatMap((f) => ['--input', f]);
  const [bin, args] = a.runner === 'ort'
    ? [process.execPath, [path.join(ROOT, 'tools/onnxruntime/run.mjs'), c.modelPath, ...inputArgs, '--output-dir', outDir]]
    : [a.osprey, ['run', c.modelPath, ...inputArgs, ...shapes, '--output-dir', outDir]];
  let r = await runAsync(bin, args, a.timeout * 1000);
  let frozen = false;
  // The node cases feed weights, bounds, axes and shapes as graph inputs; real
  // models carry them as initializers, and osprey (like a DLPU compiler) needs
  // them constant (and takes only float activations). Such a case is run again
  // with every input but the first frozen into an initializer.
  const typed = /input '([^']+)' has element type/.exec(r.stderr);
  const needsConstants = /must be a constant|needs constant inputs/.test(r.stderr)
    || (typed && typed[1] !== c.model.inputs[0].name);
  if (a.runner === 'osprey' && r.code !== 0 && needsConstants && inputs.length > 1) {
    const model = withInitializers(fs.readFileSync(c.modelPath), c.model.inputs.slice(1).map((inp, i) => ({
      name: inp.name, tensor: fs.readFileSync(path.join(setDir, `input_${i + 1}.pb`)),
    })));
    const frozenPath = path.join(caseDir, 'model_frozen.onnx');
    fs.writeFileSync(frozenPath, model);
    const first = c.model.inputs[0].name;
    const firstShape = shapes.filter((s, i) => i % 2 === 1 && s.startsWith(`${first}:`)).flatMap((s) => ['--input-shape', s]);
    r = await runAsync(a.osprey, ['run', frozenPath, '--input', inputs[0], ...firstShape, '--output-dir', outDir],
      a.timeout * 1000);
    frozen = true;
  }
  if (r.signal) return {ok: false, reason: `${a.runner}: killed by ${r.signal} (timeout ${a.timeout} s?)`};
  if (r.code !== 0) {
    const line = lastLine(r.stderr) || `exit ${r.code}`;
    const why = line.startsWith(`${a.runner}:`) ? line : `${a.runner}: ${line}`;
    return {ok: false, reason: frozen ? `${why} (inputs after the first frozen)` : why};
  }
  const tol = TOLERANCE[c.key]?.tol ?? DEFAULT_TOL;
  for (let i = 0; i < c.model.outputs.length; i++) {
    const ref = parseTensor(fs.readFileSync(path.join(setDir, `output_${i}.pb`)));
    const file = path.join(outDir, `output${i}.npy`);
    if (!fs.existsSync(file)) return {ok: false, reason: `output ${i} ('${c.model.outputs[i].name}') not written`};
    const why = mismatch(readNpy(file), ref, tol);
    if (why) return {ok: false, reason: `output ${i} ('${c.model.outputs[i].name}'): ${why}`};
  }
  return {ok: true, frozen};
}

async function main() {
  const a = options();
  const claimed = claimedOps(a);
  const all = loadCases(a, claimed);
  const runnable = spread(all.filter((c) => !c.skip), a.limit);
  const work = a.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-onnx-node-'));
  const start = Date.now();
  const results = new Map();
  let next = 0;
  const worker = async () => {
    while (next < runnable.length) {
      const c = runnable[next++];
      if ((Date.now() - start) / 1000 > a.budget) {
        results.set(c, {ok: false, reason: `not run: --budget ${a.budget} s used up`});
        continue;
      }
      let r;
      try {
        r = await runCase(a, c, work);
      } catch (e) {
        r = {ok: false, reason: `harness: ${e.message}`};
      }
      results.set(c, r);
      if (a.verbose) console.log(`${r.ok ? 'PASS' : 'FAIL'} ${c.name}${r.ok ? '' : `: ${r.reason}`}`);
    }
  };
  await Promise.all(Array.from({length: Math.min(a.jobs, runnable.length || 1)}, worker));

  // The table: one row per op (or op combination), then the failures.
  const rows = new Map();
  for (const c of all) {
    const row = rows.get(c.key) ?? {passed: 0, total: 0, skipped: 0};
    rows.set(c.key, row);
    if (c.skip) row.skipped++;
    else if (results.has(c)) {
      row.total++;
      if (results.get(c).ok) row.passed++;
    }
  }
  const width = Math.max(8, ...[...rows.keys()].map((k) => k.length));
  console.log(`ONNX node cases on ${a.runner} (${a.dataDir})`);
  for (const [key, row] of [...rows].sort()) {
    if (row.total === 0 && row.skipped === 0) continue;
    const skipped = row.skipped ? `  (${row.skipped} skipped)` : '';
    console.log(`  ${key.padEnd(width)} ${String(row.passed).padStart(4)}/${row.total}${skipped}`);
  }
  let gatingFailures = 0;
  let expected = 0;
  const lines = [];
  const expectedFailures = EXPECTED_FAILURES[a.runner];
  for (const [c, r] of results) {
    if (r.ok) {
      if (expectedFailures[c.name]) lines.push(`  note: ${c.name} passes; remove it from EXPECTED_FAILURES.${a.runner}`);
      continue;
    }
    let tag = '';
    if (!isGating(c)) tag = ' [not gating]';
    else if (expectedFailures[c.name]) {
      tag = ` [expected: ${expectedFailures[c.name]}]`;
      expected++;
    } else gatingFailures++;
    lines.push(`  FAIL ${c.name}${tag}: ${r.reason}`);
  }
  for (const c of all.filter((x) => x.skip)) if (a.verbose) lines.push(`  skip ${c.name}: ${c.skip}`);
  if (lines.length) console.log(lines.sort().join('\n'));
  const passed = [...results.values()].filter((r) => r.ok).length;
  const skipped = all.filter((c) => c.skip).length;
  console.log(`${passed}/${results.size} cases passed (${gatingFailures} gating failure(s), ${expected} expected, `
    + `${skipped} skipped) in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  if (gatingFailures === 0 && !a.keep && !a.workDir) fs.rmSync(work, {recursive: true, force: true});
  else console.log(`work directory: ${work}`);
  if (results.size === 0) {
    console.log('no case selected: the claimed ops match no node case');
    process.exit(1);
  }
  process.exit(gatingFailures ? 1 : 0);
}

main().catch((e) => {
  console.error(`node_cases: ${e.message}`);
  process.exit(2);
});
