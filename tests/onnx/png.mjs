// A PNG reader for the test images: 8-bit, non-interlaced, grey / grey+alpha /
// RGB / RGBA / palette. Returns RGB bytes (alpha dropped), row-major.

import fs from 'node:fs';
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4};

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** @returns {{width:number, height:number, rgb:Uint8Array}} */
export function readPng(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error(`${file}: not a PNG file`);
  let header = null;
  let palette = null;
  const idat = [];
  for (let pos = 8; pos + 8 <= buf.length;) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > buf.length) throw new Error(`${file}: truncated ${type} chunk`);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      header = {width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], color: data[9], interlace: data[12]};
    } else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (!header) throw new Error(`${file}: no IHDR chunk`);
  const {width, height, depth, color, interlace} = header;
  const channels = CHANNELS[color];
  if (depth !== 8 || !channels || interlace !== 0) {
    throw new Error(`${file}: only 8-bit non-interlaced PNGs are read (depth ${depth}, color type ${color}, interlace ${interlace})`);
  }
  if (color === 3 && !palette) throw new Error(`${file}: palette image without PLTE`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`${file}: image data has ${raw.length} bytes, expected ${height * (stride + 1)}`);
  // Undo the per-row filters in place (each row starts with its filter byte).
  const pix = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pix.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pix.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels] : 0;
      const b = up[x];
      const c = x >= channels ? up[x - channels] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (pred === undefined) throw new Error(`${file}: bad filter ${filter} on row ${y}`);
      row[x] = (src[x] + pred) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) {
      if (color === 3) rgb[i * 3 + k] = palette[pix[i] * 3 + k];
      else rgb[i * 3 + k] = channels <= 2 ? pix[i * channels] : pix[i * channels + k];
    }
  }
  return {width, height, rgb};
}
