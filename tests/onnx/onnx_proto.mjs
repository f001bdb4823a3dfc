// The few ONNX protobuf messages the node-case harness reads: TensorProto (the
// input_N.pb / output_N.pb files) and, from ModelProto, the graph's node op
// types and input/output kinds. A protobuf wire-format reader, not a general
// one: fields it does not need are skipped. Field numbers: onnx/onnx.proto.

// TensorProto.DataType -> .npy / ONNX Runtime dtype name.
const DATA_TYPES = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128',
  16: 'bfloat16',
};
const ARRAYS = {
  float32: Float32Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  int32: Int32Array, int64: BigInt64Array, bool: Uint8Array, float16: Uint16Array, float64: Float64Array,
  uint32: Uint32Array, uint64: BigUint64Array,
};

class Reader {
  constructor(buf, what) {
    this.buf = buf;
    this.pos = 0;
    this.what = what;
  }
  fail(msg) {
    throw new Error(`${this.what}: ${msg} at byte ${this.pos}`);
  }
  varint() {  // as a BigInt: int64 fields need all 64 bits
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return BigInt.asUintN(64, v);
    }
    return this.fail('varint too long');
  }
  bytes(n) {
    if (n < 0 || this.pos + n > this.buf.length) this.fail(`field of ${n} bytes past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  // Yields [field, wireType, value]: value is a BigInt (varint), or the field's bytes.
  *fields() {
    while (this.pos < this.buf.length) {
      const key = this.varint();
      const field = Number(key >> 3n);
      const wire = Number(key & 7n);
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 1) yield [field, wire, this.bytes(8)];
      else if (wire === 2) yield [field, wire, this.bytes(Number(this.varint()))];
      else if (wire === 5) yield [field, wire, this.bytes(4)];
      else this.fail(`unsupported wire type ${wire}`);
    }
  }
}

const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);

// A repeated scalar field, packed (wire type 2) or not, appended to `out`.
function repeated(out, wire, value, kind, what) {
  const one = (w, v) => {
    if (kind === 'varint' && w === 0) out.push(v);
    else if (kind === 'f32' && w === 5) out.push(view(v).getFloat32(0, true));
    else if (kind === 'f64' && w === 1) out.push(view(v).getFloat64(0, true));
    else throw new Error(`${what}: wire type ${w} where a ${kind} was expected`);
  };
  if (wire !== 2) return one(wire, value);
  const r = new Reader(value, what);
  if (kind === 'varint') while (r.pos < value.length) out.push(r.varint());
  else if (kind === 'f32') while (r.pos < value.length) one(5, r.bytes(4));
  else while (r.pos < value.length) one(1, r.bytes(8));
}

/**
 * Decodes a TensorProto (data in raw_data or in the typed fields).
 * @returns {{name:string, dtype:string, shape:number[], data:TypedArray}}
 */
export function parseTensor(buf, what = 'TensorProto') {
  const dims = [];
  let type = 0;
  let name = '';
  let raw = null;
  const floats = [];
  const ints = [];  // int32_data, int64_data, uint64_data: BigInts
  const doubles = [];
  let external = false;
  for (const [f, w, v] of new Reader(buf, what).fields()) {
    if (f === 1) repeated(dims, w, v, 'varint', what);
    else if (f === 2) type = Number(v);
    else if (f === 4) repeated(floats, w, v, 'f32', what);
    else if (f === 5 || f === 7 || f === 11) repeated(ints, w, v, 'varint', what);
    else if (f === 8) name = Buffer.from(v).toString('utf8');
    else if (f === 9) raw = v;
    else if (f === 10) repeated(doubles, w, v, 'f64', what);
    else if (f === 13) external = true;
  }
  const dtype = DATA_TYPES[type];
  if (!dtype) throw new Error(`${what}: unknown data_type ${type}`);
  if (external) throw new Error(`${what}: external data is not supported`);
  const Arr = ARRAYS[dtype];
  if (!Arr) throw new Error(`${what}: ${dtype} tensors are not supported`);
  const shape = dims.map((d) => Number(BigInt.asIntN(64, d)));
  if (shape.some((d) => d < 0)) throw new Error(`${what}: negative dimension in (${shape.join(', ')})`);
  const count = shape.reduce((a, b) => a * b, 1);
  let data;
  if (raw) {
    if (raw.length !== count * Arr.BYTES_PER_ELEMENT) {
      throw new Error(`${what}: raw_data has ${raw.length} bytes, shape (${shape.join(', ')}) ${dtype} needs ${count * Arr.BYTES_PER_ELEMENT}`);
    }
    data = new Arr(count);
    new Uint8Array(data.buffer).set(raw);  // a copy, aligned
  } else {
    const src = dtype === 'float32' ? floats : dtype === 'float64' ? doubles : ints;
    if (src.length !== count) throw new Error(`${what}: ${src.length} values for shape (${shape.join(', ')})`);
    if (dtype === 'int64') data = BigInt64Array.from(src, (x) => BigInt.asIntN(64, x));
    else if (dtype === 'uint64') data = BigUint64Array.from(src);
    else if (Arr === Float32Array || Arr === Float64Array) data = Arr.from(src);
    // int32_data holds every narrower type (and float16 bits), sign-extended to 64 bits.
    else data = Arr.from(src, (x) => Number(BigInt.asIntN(32, x)));
  }
  return {name, dtype, shape, data};
}

// TypeProto: which kind of value a graph input or output is, and its element type.
function parseType(buf, what) {
  for (const [f, , v] of new Reader(buf, what).fields()) {
    if (f === 1) {
      let elem = 0;
      let shape = null;  // null: rank unknown; a dim is a number or null (symbolic)
      for (const [g, , u] of new Reader(v, what).fields()) {
        if (g === 1) elem = Number(u);
        if (g !== 2) continue;
        shape = [];
        for (const [h, , d] of new Reader(u, what).fields()) {
          if (h !== 1) continue;
          let dim = null;
          for (const [k, , x] of new Reader(d, what).fields()) if (k === 1) dim = Number(BigInt.asIntN(64, x));
          shape.push(dim);
        }
      }
      return {kind: 'tensor', dtype: DATA_TYPES[elem] ?? `type ${elem}`, shape};
    }
    const kinds = {4: 'sequence', 5: 'map', 8: 'sparse_tensor', 9: 'optional'};
    if (kinds[f]) return {kind: kinds[f]};
  }
  return {kind: 'unknown'};
}

function parseValueInfo(buf, what) {
  let name = '';
  let type = {kind: 'unknown'};
  for (const [f, , v] of new Reader(buf, what).fields()) {
    if (f === 1) name = Buffer.from(v).toString('utf8');
    else if (f === 2) type = parseType(v, what);
  }
  return {name, ...type};
}

/**
 * The parts of a ModelProto the harness needs.
 * @returns {{opsets:Object<string,number>, nodes:{opType:string, domain:string}[],
 *            inputs:{name,kind,dtype,shape}[], outputs:{name,kind,dtype,shape}[]}}
 * inputs lists the graph inputs that are not initializers, in order.
 */
export function parseModel(buf, what = 'ModelProto') {
  const model = {opsets: {}, nodes: [], inputs: [], outputs: []};
  const initializers = new Set();
  for (const [f, , v] of new Reader(buf, what).fields()) {
    if (f === 8) {  // opset_import
      let domain = '';
      let version = 0;
      for (const [g, , u] of new Reader(v, what).fields()) {
        if (g === 1) domain = Buffer.from(u).toString('utf8');
        else if (g === 2) version = Number(u);
      }
      model.opsets[domain] = version;
    }
    if (f !== 7) continue;  // graph
    for (const [g, , u] of new Reader(v, what).fields()) {
      if (g === 1) {
        const node = {opType: '', domain: ''};
        for (const [h, , x] of new Reader(u, what).fields()) {
          if (h === 4) node.opType = Buffer.from(x).toString('utf8');
          else if (h === 7) node.domain = Buffer.from(x).toString('utf8');
        }
        model.nodes.push(node);
      } else if (g === 5) {
        for (const [h, , x] of new Reader(u, what).fields()) if (h === 8) initializers.add(Buffer.from(x).toString('utf8'));
      } else if (g === 11) model.inputs.push(parseValueInfo(u, what));
      else if (g === 12) model.outputs.push(parseValueInfo(u, what));
    }
  }
  model.inputs = model.inputs.filter((i) => !initializers.has(i.name));
  return model;
}

// ---- Writing: just enough to turn graph inputs into initializers.

function varintBytes(v) {
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
}

const lengthDelimited = (field, bytes) =>
  Buffer.concat([varintBytes((field << 3) | 2), varintBytes(bytes.length), bytes]);

// Re-encodes a message's fields as read, with `extra` (encoded fields) after them.
function reencode(buf, what, replace) {
  const parts = [];
  for (const [field, wire, value] of new Reader(buf, what).fields()) {
    const replaced = replace(field, wire, value);
    if (replaced) {
      parts.push(replaced);
      continue;
    }
    parts.push(varintBytes((field << 3) | wire));
    if (wire === 0) parts.push(varintBytes(value));
    else if (wire === 2) parts.push(varintBytes(value.length), value);
    else parts.push(value);
  }
  return Buffer.concat(parts);
}

// The model with each {name, tensor} (a TensorProto's bytes) added to its
// graph's initializers under that name: an input with an initializer of its
// name is a constant (ModelProto.graph = 7, GraphProto.initializer = 5,
// TensorProto.name = 8; a later singular field wins, so the name is appended).
export function withInitializers(modelBytes, frozen) {
  const initializers = frozen.map(({name, tensor}) =>
    lengthDelimited(5, Buffer.concat([tensor, lengthDelimited(8, Buffer.from(name, 'utf8'))])));
  let found = false;
  const out = reencode(modelBytes, 'ModelProto', (field, wire, value) => {
    if (field !== 7 || wire !== 2) return null;
    found = true;
    return lengthDelimited(7, Buffer.concat([value, ...initializers]));
  });
  if (!found) throw new Error('ModelProto has no graph');
  return out;
}
