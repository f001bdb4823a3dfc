// Minimal read-only parser for the parts of a .tflite flatbuffer the harness
// needs: the main subgraph's input/output tensors (in the model's own order),
// the operator codes (to name custom ops) and the signature defs.
//
// Only the handful of schema fields listed below are decoded; everything else
// in the file is skipped.  Field ids follow tensorflow/lite/schema/schema.fbs.

const TENSOR_TYPES = [
  'float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16',
  'complex64', 'int8', 'float64', 'complex128', 'uint64', 'resource', 'variant',
  'uint32', 'uint16', 'int4',
];
const BUILTIN_CUSTOM = 32;

class FlatBuffer {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(p) { return this.view.getUint8(p); }
  i8(p) { return this.view.getInt8(p); }
  u16(p) { return this.view.getUint16(p, true); }
  i32(p) { return this.view.getInt32(p, true); }
  u32(p) { return this.view.getUint32(p, true); }
  // Position of field `id` inside the table at `t`, or 0 when absent.
  field(t, id) {
    const vt = t - this.i32(t);
    const vtSize = this.u16(vt);
    const slot = 4 + 2 * id;
    if (slot >= vtSize) return 0;
    const off = this.u16(vt + slot);
    return off ? t + off : 0;
  }
  ref(p) { return p + this.u32(p); }
  table(t, id) { const p = this.field(t, id); return p ? this.ref(p) : 0; }
  scalar(t, id, kind, dflt) {
    const p = this.field(t, id);
    return p ? this[kind](p) : dflt;
  }
  string(t, id) {
    const p = this.field(t, id);
    if (!p) return null;
    const s = this.ref(p);
    const n = this.u32(s);
    return new TextDecoder().decode(this.bytes.subarray(s + 4, s + 4 + n));
  }
  // Vector of tables -> array of table positions.
  tables(t, id) {
    const p = this.field(t, id);
    if (!p) return [];
    const v = this.ref(p);
    const n = this.u32(v);
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.ref(v + 4 + 4 * i));
    return out;
  }
  ints(t, id) {
    const p = this.field(t, id);
    if (!p) return [];
    const v = this.ref(p);
    const n = this.u32(v);
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.i32(v + 4 + 4 * i));
    return out;
  }
}

function readTensor(fb, t, index) {
  const typeId = fb.scalar(t, 1, 'i8', 0);
  return {
    index,
    name: fb.string(t, 3) ?? '',
    shape: fb.ints(t, 0),
    dtype: TENSOR_TYPES[typeId] ?? `type${typeId}`,
  };
}

/**
 * Parses a .tflite model.
 * @param {Uint8Array} bytes
 * @returns {{version:number, inputs:object[], outputs:object[],
 *   customOps:string[], signatures:object[], numSubgraphs:number}}
 */
export function parseTflite(bytes) {
  try {
    return parseUnchecked(bytes);
  } catch (e) {
    if (e instanceof RangeError) throw new Error('malformed TFLite model (an offset points outside the file)');
    throw e;
  }
}

function parseUnchecked(bytes) {
  if (bytes.byteLength < 8) throw new Error('not a TFLite model (file too small)');
  const fb = new FlatBuffer(bytes);
  const ident = String.fromCharCode(...bytes.subarray(4, 8));
  if (ident !== 'TFL3') throw new Error('not a TFLite model (no "TFL3" file identifier)');
  const model = fb.ref(0);
  const subgraphs = fb.tables(model, 2);
  if (subgraphs.length === 0) throw new Error('TFLite model has no subgraphs');
  const sg = subgraphs[0];
  const tensors = fb.tables(sg, 0);
  const tensorInfo = (i) => readTensor(fb, tensors[i], i);
  const inputs = fb.ints(sg, 1).map(tensorInfo);
  const outputs = fb.ints(sg, 2).map(tensorInfo);

  const customOps = [];
  for (const oc of fb.tables(model, 1)) {
    const code = Math.max(fb.scalar(oc, 0, 'i8', 0), fb.scalar(oc, 3, 'i32', 0));
    if (code === BUILTIN_CUSTOM) {
      const name = fb.string(oc, 1) ?? '<unnamed>';
      if (!customOps.includes(name)) customOps.push(name);
    }
  }

  const tensorMaps = (sd, id) => fb.tables(sd, id).map((m) => ({
    name: fb.string(m, 0) ?? '',
    tensorIndex: fb.scalar(m, 1, 'u32', 0),
  }));
  const signatures = fb.tables(model, 7).map((sd) => ({
    key: fb.string(sd, 2) ?? '',
    subgraphIndex: fb.scalar(sd, 4, 'u32', 0),
    inputs: tensorMaps(sd, 0),
    outputs: tensorMaps(sd, 1),
  }));

  return {
    version: fb.scalar(model, 0, 'u32', 0),
    numSubgraphs: subgraphs.length,
    inputs,
    outputs,
    customOps,
    signatures,
  };
}
