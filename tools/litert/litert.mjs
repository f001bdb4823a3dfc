// Node wrapper around the real TFLite runtime, LiteRT.js (@litertjs/core),
// which is LiteRT compiled to WebAssembly for browsers.
//
// The package expects a browser (or worker) global scope.  Under Node we give
// it just enough of one:
//   * `self`           -> globalThis
//   * `importScripts`  -> read the Emscripten loader script and evaluate it in
//                         the global context (it defines `var ModuleFactory`)
//   * `require`        -> a CommonJS require (the Emscripten code uses it once
//                         it detects Node)
//   * `__dirname`      -> the package's wasm/ directory, so the .wasm binary
//                         next to the loader script is read from local disk
// and `self.Module` carries print/printErr hooks so LiteRT's logging is
// captured instead of spilled onto stdout/stderr.
//
// Everything runs single-threaded on the 'wasm' (XNNPACK CPU) accelerator.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

import {parseTflite} from './tflite.mjs';
import {dtypeOfArray} from './npy.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(import.meta.url);

function packageDir() {
  let entry;
  try {
    entry = requireHere.resolve('@litertjs/core');
  } catch {
    throw new Error(`@litertjs/core is not installed; run: npm ci --prefix ${path.relative(process.cwd(), HERE) || '.'}`);
  }
  // .../node_modules/@litertjs/core/dist/index.js -> .../node_modules/@litertjs/core
  return path.dirname(path.dirname(entry));
}

const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);
const sameShape = (a, b) => a.length === b.length && a.every((v, i) => v === Number(b[i]));
const fmtShape = (s) => `[${Array.from(s).join(',')}]`;

let runtimePromise = null;

/**
 * Loads LiteRT once per process.  Subsequent calls return the same runtime.
 * @param {{echoLog?: boolean}} [opts] echoLog: also forward LiteRT's log to stderr.
 * @returns {Promise<Runtime>}
 */
export function loadRuntime(opts = {}) {
  if (!runtimePromise) runtimePromise = createRuntime(opts);
  return runtimePromise;
}

async function createRuntime({echoLog = false} = {}) {
  const pkg = packageDir();
  const wasmDir = path.join(pkg, 'wasm');
  const log = [];
  const sink = (line) => {
    log.push(String(line));
    if (echoLog) process.stderr.write(`[litert] ${line}\n`);
  };

  globalThis.self ??= globalThis;
  globalThis.require ??= createRequire(path.join(wasmDir, 'loader.js'));
  globalThis.__dirname = wasmDir;
  globalThis.importScripts = (...files) => {
    for (const f of files) {
      const file = f.startsWith('file:') ? fileURLToPath(f) : f;
      vm.runInThisContext(fs.readFileSync(file, 'utf8'), {filename: file});
    }
  };
  globalThis.Module = {print: sink, printErr: sink};

  const lite = await import(pathToImport(path.join(pkg, 'dist', 'index.js')));
  // Environment.create() probes navigator.gpu and console.warn()s when there is
  // no WebGPU; keep that in the log, not on the console.
  const warn = console.warn;
  console.warn = (...args) => sink(args.map(String).join(' '));
  let liteRt;
  try {
    liteRt = await lite.loadLiteRt(wasmDir + path.sep);
  } finally {
    console.warn = warn;
  }
  return new Runtime(lite, liteRt, log);
}

function pathToImport(p) {
  return new URL(`file://${path.resolve(p)}`).href;
}

export class Runtime {
  constructor(lite, liteRt, log) {
    this.lite = lite;
    this.liteRt = liteRt;
    this.log = log;
  }

  get threads() {
    return this.liteRt.liteRtWasm.getThreadCount();
  }

  /** Log lines emitted since `mark` (an index into this.log) that are errors. */
  errorsSince(mark) {
    return this.log.slice(mark).filter((l) => /^(ERROR|FATAL)\b/.test(l))
      .map((l) => l.replace(/^(ERROR|FATAL):\s*/, '').replace(/[\s.]+$/, ''));
  }

  /**
   * Loads and compiles a model for single-threaded CPU (wasm) execution.
   * Throws when LiteRT reports any error while preparing the model: LiteRT.js
   * does not fail loadAndCompile itself in that case, and running such a model
   * returns uninitialised memory.
   * @param {string|Uint8Array} model path or bytes
   * @param {{name?: string}} [opts]
   */
  async compile(model, {name} = {}) {
    let bytes = model;
    if (typeof model === 'string') {
      name ??= path.basename(model);
      try {
        bytes = new Uint8Array(fs.readFileSync(model));
      } catch (e) {
        throw new Error(`cannot read model ${model}: ${e.code ?? e.message}`);
      }
    }
    name ??= 'model';
    let info;
    try {
      info = parseTflite(bytes);
    } catch (e) {
      throw new Error(`${name}: ${e.message}`);
    }
    const mark = this.log.length;
    const compiled = await this.lite.loadAndCompile(bytes, {
      accelerator: 'wasm',
      cpuOptions: {numThreads: 1},
    });
    const errors = this.errorsSince(mark);
    if (errors.length > 0) {
      compiled.delete();
      const custom = info.customOps.length ? ` (model custom ops: ${info.customOps.join(', ')})` : '';
      throw new Error(`LiteRT failed to prepare ${name}${custom}: ${errors.join('; ')}`);
    }
    return new Model(this, compiled, info, name);
  }
}

// Maps LiteRT's signature tensor order onto the subgraph's own input/output
// order (what the .tflite file lists and what osprey uses).
function orderMap(kind, litertDetails, modelTensors, signature, name) {
  const keyToTensor = new Map();
  if (signature) {
    for (const m of signature[kind]) keyToTensor.set(m.name, m.tensorIndex);
  }
  const perm = new Array(modelTensors.length).fill(-1); // model position -> litert position
  litertDetails.forEach((d, li) => {
    let pos = -1;
    if (keyToTensor.has(d.name)) {
      pos = modelTensors.findIndex((t) => t.index === keyToTensor.get(d.name));
    } else {
      const matches = modelTensors.map((t, i) => (t.name === d.name ? i : -1)).filter((i) => i >= 0);
      if (matches.length === 1) pos = matches[0];
    }
    if (pos < 0 || perm[pos] !== -1) {
      throw new Error(`${name}: cannot match LiteRT ${kind.slice(0, -1)} '${d.name}' to a unique subgraph ${kind.slice(0, -1)}`);
    }
    const t = modelTensors[pos];
    if (!sameShape(t.shape, d.shape) || t.dtype !== d.dtype) {
      throw new Error(`${name}: LiteRT ${kind.slice(0, -1)} '${d.name}' is ${d.dtype}${fmtShape(d.shape)} but the model says ${t.dtype}${fmtShape(t.shape)}`);
    }
    perm[pos] = li;
  });
  if (litertDetails.length !== modelTensors.length) {
    throw new Error(`${name}: LiteRT reports ${litertDetails.length} ${kind}, the model has ${modelTensors.length}`);
  }
  return perm;
}

export class Model {
  constructor(runtime, compiled, info, name) {
    this.runtime = runtime;
    this.compiled = compiled;
    this.name = name;
    this.info = info;
    const sig = info.signatures.find((s) => s.key === compiled.key && s.subgraphIndex === 0);
    this.inputPerm = orderMap('inputs', compiled.getInputDetails(), info.inputs, sig, name);
    this.outputPerm = orderMap('outputs', compiled.getOutputDetails(), info.outputs, sig, name);
    // Inputs/outputs in the model's (subgraph) order.
    this.inputs = info.inputs.map((t) => ({name: t.name, dtype: t.dtype, shape: t.shape}));
    this.outputs = info.outputs.map((t) => ({name: t.name, dtype: t.dtype, shape: t.shape}));
    this.reordered = this.outputPerm.some((li, i) => li !== i) || this.inputPerm.some((li, i) => li !== i);
  }

  /** Validates inputs ([{data, shape}] in model input order) and wraps them as LiteRT tensors (LiteRT order). */
  makeTensors(inputs) {
    if (inputs.length !== this.inputs.length) {
      throw new Error(`${this.name}: model has ${this.inputs.length} input(s), got ${inputs.length}`);
    }
    inputs.forEach((inp, i) => {
      const want = this.inputs[i];
      const dtype = dtypeOfArray(inp.data);
      if (dtype !== want.dtype) {
        throw new Error(`${this.name}: input ${i} ('${want.name}') must be ${want.dtype}, got ${dtype}`);
      }
      if (!sameShape(want.shape, inp.shape)) {
        throw new Error(`${this.name}: input ${i} ('${want.name}') must have shape ${fmtShape(want.shape)}, got ${fmtShape(inp.shape)}`);
      }
      if (!['float32', 'int32', 'uint8'].includes(dtype)) {
        throw new Error(`${this.name}: input dtype ${dtype} is not supported by LiteRT.js`);
      }
    });
    const tensors = [];
    try {
      for (let li = 0; li < this.inputPerm.length; li++) {
        const pos = this.inputPerm.indexOf(li);
        tensors.push(new this.runtime.lite.Tensor(inputs[pos].data, inputs[pos].shape));
      }
    } catch (e) {
      tensors.forEach((t) => t.delete());
      throw e;
    }
    return tensors;
  }

  async runTensors(tensors) {
    const mark = this.runtime.log.length;
    const outs = await this.compiled.run(tensors);
    const errors = this.runtime.errorsSince(mark);
    if (errors.length > 0) {
      outs.forEach((o) => o.delete());
      const custom = this.info.customOps.length ? ` (model custom ops: ${this.info.customOps.join(', ')})` : '';
      throw new Error(`LiteRT failed to run ${this.name}${custom}: ${errors.join('; ')}`);
    }
    return outs;
  }

  /**
   * Runs one inference.
   * @param {{data: TypedArray, shape: number[]}[]} inputs in model input order
   * @returns {Promise<{name:string, dtype:string, shape:number[], data:TypedArray}[]>} in model output order
   */
  async run(inputs) {
    const tensors = this.makeTensors(inputs);
    try {
      const outs = await this.runTensors(tensors);
      try {
        return this.outputPerm.map((li, i) => {
          const o = outs[li];
          const data = o.toTypedArray();
          const shape = Array.from(o.type.layout.dimensions, Number);
          if (sizeOf(shape) !== data.length) {
            throw new Error(`${this.name}: output ${i} has ${data.length} elements, shape ${fmtShape(shape)}`);
          }
          return {name: this.outputs[i].name, dtype: o.type.dtype, shape, data};
        });
      } finally {
        outs.forEach((o) => o.delete());
      }
    } finally {
      tensors.forEach((t) => t.delete());
    }
  }

  /**
   * Times model.run (single thread).  Input tensors are created once; output
   * tensors are freed outside the timed region.  Warm-up lasts `warmup` runs
   * and at least `warmupSecs` seconds, as `osprey bench` and TFLite's
   * benchmark_model (warmup_min_secs) do.
   */
  async bench(inputs, {runs = 10, warmup = 2, warmupSecs = 0.5} = {}) {
    const tensors = this.makeTensors(inputs);
    const times = [];
    try {
      const start = process.hrtime.bigint();
      const warming = (i) => i < warmup || Number(process.hrtime.bigint() - start) / 1e9 < warmupSecs;
      for (let i = 0; warming(i); i++) {
        const outs = await this.runTensors(tensors);
        outs.forEach((o) => o.delete());
      }
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        const outs = await this.runTensors(tensors);
        const t1 = process.hrtime.bigint();
        outs.forEach((o) => o.delete());
        times.push(Number(t1 - t0) / 1e6);
      }
    } finally {
      tensors.forEach((t) => t.delete());
    }
    return summarize(times);
  }

  delete() {
    this.compiled.delete();
  }
}

export function summarize(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    median_ms: round(median),
    mean_ms: round(times.reduce((a, b) => a + b, 0) / n),
    min_ms: round(sorted[0]),
    runs: n,
  };
}

// Deterministic pseudo-random inputs (SplitMix32-style generator) for
// self-tests and benchmarks when no input files are given.  Not meant to match
// osprey's generator: the differential test feeds osprey's own inputs.
export function randomInputs(model, seed = 1) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  return model.inputs.map((t) => {
    const n = sizeOf(t.shape);
    let data;
    if (t.dtype === 'float32') {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = next() * 2 - 1;
    } else if (t.dtype === 'uint8') {
      data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(next() * 256);
    } else if (t.dtype === 'int8') {
      data = new Int8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(next() * 256) - 128;
    } else if (t.dtype === 'int32') {
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(next() * 256);
    } else {
      throw new Error(`${model.name}: cannot generate random ${t.dtype} input`);
    }
    return {data, shape: [...t.shape]};
  });
}
