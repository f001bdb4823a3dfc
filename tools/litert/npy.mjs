// Minimal NumPy .npy reader/writer (format versions 1.0, 2.0 and 3.0 read,
// 1.0 written).  Supports C-order little-endian float32 ('<f4'), int32 ('<i4')
// and the single-byte types uint8 ('|u1') and int8 ('|i1'); the ONNX tests also
// need float64, float16 (raw bits in a Uint16Array), int16, uint16, uint32,
// int64, uint64 (BigInt arrays) and bool ('|b1', one byte each).

import fs from 'node:fs';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

// dtype name -> { descr written, TypedArray }
const DTYPES = {
  float32: {descr: '<f4', Array: Float32Array},
  int32: {descr: '<i4', Array: Int32Array},
  uint8: {descr: '|u1', Array: Uint8Array},
  int8: {descr: '|i1', Array: Int8Array},
  // After the four above so that dtypeOfArray keeps naming a Uint8Array uint8;
  // pass the dtype to encodeNpy/writeNpy for bool and float16.
  float64: {descr: '<f8', Array: Float64Array},
  float16: {descr: '<f2', Array: Uint16Array},
  int16: {descr: '<i2', Array: Int16Array},
  uint16: {descr: '<u2', Array: Uint16Array},
  uint32: {descr: '<u4', Array: Uint32Array},
  int64: {descr: '<i8', Array: BigInt64Array},
  uint64: {descr: '<u8', Array: BigUint64Array},
  bool: {descr: '|b1', Array: Uint8Array},
};
const BY_DESCR = Object.fromEntries(Object.entries(DTYPES).map(([name, d]) => [d.descr.slice(1), name]));

function dtypeFromDescr(descr) {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  if (m) {
    const [, order, kind, size] = m;
    const name = BY_DESCR[kind + size];
    // Byte order only matters for multi-byte types; '=' is native (LE here).
    if (name && (size === '1' || order === '<' || order === '=' || order === '')) return name;
  }
  throw new Error(`unsupported npy dtype '${descr}' (supported: ${Object.values(DTYPES).map((d) => d.descr).join(', ')})`);
}

export function dtypeOfArray(arr) {
  for (const [name, {Array}] of Object.entries(DTYPES)) {
    if (arr instanceof Array) return name;
  }
  throw new Error(`unsupported typed array ${arr?.constructor?.name}`);
}

export function typedArrayFor(dtype) {
  const d = DTYPES[dtype];
  if (!d) throw new Error(`unsupported dtype '${dtype}'`);
  return d.Array;
}

/**
 * Parses .npy bytes.
 * @param {Uint8Array} buf
 * @param {string} [what] name used in error messages
 * @returns {{dtype:string, shape:number[], data:TypedArray}}
 */
export function parseNpy(buf, what = 'npy data') {
  buf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${what}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  let headerLen;
  let headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new Error(`${what}: unsupported .npy format version ${major}.${buf[7]}`);
  }
  const header = buf.subarray(headerStart, headerStart + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${what}: malformed .npy header ${JSON.stringify(header)}`);
  if (fortran[1] === 'True') throw new Error(`${what}: Fortran-order arrays are not supported`);
  let dtype;
  try {
    dtype = dtypeFromDescr(descr[1]);
  } catch (e) {
    throw new Error(`${what}: ${e.message}`);
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+L?$/.test(s)) throw new Error(`${what}: bad shape entry '${s}'`);
    return parseInt(s, 10);
  });
  const count = dims.reduce((a, b) => a * b, 1);
  const Arr = DTYPES[dtype].Array;
  const dataStart = headerStart + headerLen;
  const nbytes = count * Arr.BYTES_PER_ELEMENT;
  if (buf.length - dataStart !== nbytes) {
    throw new Error(`${what}: expected ${nbytes} data bytes for shape (${dims.join(', ')}) ${dtype}, found ${buf.length - dataStart}`);
  }
  // Copy into a fresh, aligned buffer.
  const data = new Arr(count);
  new Uint8Array(data.buffer).set(buf.subarray(dataStart, dataStart + nbytes));
  return {dtype, shape: dims, data};
}

export function readNpy(path) {
  let bytes;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${e.code ?? e.message}`);
  }
  return parseNpy(bytes, path);
}

/**
 * Serialises a typed array as .npy (format 1.0).
 * @param {TypedArray} data
 * @param {number[]} shape
 * @param {string} [dtype] needed only where the array type is ambiguous (bool, float16)
 * @returns {Buffer}
 */
export function encodeNpy(data, shape, dtype = dtypeOfArray(data)) {
  if (!(data instanceof typedArrayFor(dtype))) throw new Error(`a ${data?.constructor?.name} cannot hold ${dtype}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`shape (${shape.join(', ')}) has ${count} elements but data has ${data.length}`);
  }
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DTYPES[dtype].descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // magic(6) + version(2) + len(2) + header + '\n' padded to a multiple of 64.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export function writeNpy(path, data, shape, dtype = undefined) {
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, encodeNpy(data, shape, dtype));
  fs.renameSync(tmp, path);
}
