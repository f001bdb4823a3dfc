#!/usr/bin/env node
// The three PaddleOCR v4 models on REAL text images, osprey against ONNX
// Runtime: every output must satisfy max|osprey - ort| <= 1e-3 * max(1, max|ort|).
//
// The images (page.png, bw_text.png from the zoo's media) are preprocessed the
// PaddleOCR way, in BGR order as PaddleOCR reads them with OpenCV, bilinear
// resizing with half-pixel centres (cv2.INTER_LINEAR):
//   det: the whole image, sides rounded to multiples of 32 (longest side <= 960),
//        (x/255 - mean) / std with ImageNet's mean and std -> 1x3xHxW
//   cls: a text line resized to height 48 (width <= 192 keeping the aspect ratio),
//        (x/255 - 0.5) / 0.5, zero-padded on the right -> 1x3x48x192
//   rec: the same text line to height 48, padded to width 320 or wider for a long
//        line (PaddleOCR's dynamic width) -> 1x3x48xW
// ONNX Runtime must read the expected string on each line (CTC greedy decoding
// with ppocr_keys_v1.txt): that checks the inputs are the text this test claims.
//
// usage: node tests/onnx/ppocr_ort_compare.mjs [--self-test] [--work-dir DIR] [--keep] [--timeout SEC]
//   OSPREY_BIN   osprey binary (default build/bin/osprey)
//   OSPREY_CACHE the zoo cache (default ~/.cache/osprey): onnx/, media/, files/
//   --self-test  ONNX Runtime with 2 threads in osprey's place (proves the harness)
// Exits 1 if any output is out of bounds or a runtime fails.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {parseArgs, run} from '../support/cli.mjs';
import {readNpy, writeNpy} from '../../tools/litert/npy.mjs';
import {parseModel} from './onnx_proto.mjs';
import {readPng} from './png.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REL_TOL = 1e-3;
const CACHE = process.env.OSPREY_CACHE ?? path.join(os.homedir(), '.cache', 'osprey');
const ORT = path.join(ROOT, 'tools', 'onnxruntime', 'run.mjs');

const MODELS = {
  det: 'ch_PP-OCRv4_det_infer.onnx',
  cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
  rec: 'ch_PP-OCRv4_rec_infer.onnx',
};
// A text line of each image for cls and rec, [x0, y0, x1, y1] in pixels, and
// the text ONNX Runtime reads there (a check of the preprocessing, not of osprey).
const IMAGES = [
  {file: 'page.png', line: [0, 0, 300, 40], text: 'Region-based segmentation'},
  {file: 'bw_text.png', line: [18, 14, 478, 52], text: 'Men may seem detestable as joint'},
];

// Bilinear resize of an RGB crop with half-pixel centres, as cv2.INTER_LINEAR.
function resize(img, [x0, y0, x1, y1], outW, outH) {
  const inW = x1 - x0;
  const inH = y1 - y0;
  const out = new Float32Array(outW * outH * 3);
  const px = (x, y, k) => img.rgb[((y0 + y) * img.width + x0 + x) * 3 + k];
  for (let oy = 0; oy < outH; oy++) {
    const sy = Math.max(0, (oy + 0.5) * (inH / outH) - 0.5);
    const ya = Math.min(Math.floor(sy), inH - 1);
    const yb = Math.min(ya + 1, inH - 1);
    const fy = sy - ya;
    for (let ox = 0; ox < outW; ox++) {
      const sx = Math.max(0, (ox + 0.5) * (inW / outW) - 0.5);
      const xa = Math.min(Math.floor(sx), inW - 1);
      const xb = Math.min(xa + 1, inW - 1);
      const fx = sx - xa;
      for (let k = 0; k < 3; k++) {
        const top = px(xa, ya, k) * (1 - fx) + px(xb, ya, k) * fx;
        const bottom = px(xa, yb, k) * (1 - fx) + px(xb, yb, k) * fx;
        out[(oy * outW + ox) * 3 + k] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

// HWC RGB pixels -> 1x3xHxW BGR, normalised per channel, zero-padded to padW.
function toNchw(hwc, w, h, mean, std, padW = w) {
  const out = new Float32Array(3 * h * padW);
  for (let c = 0; c < 3; c++) {
    const src = 2 - c;  // BGR
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(c * h + y) * padW + x] = (hwc[(y * w + x) * 3 + src] / 255 - mean[c]) / std[c];
    }
  }
  return {data: out, shape: [1, 3, h, padW]};
}

function detInput(img) {
  const scale = Math.min(1, 960 / Math.max(img.width, img.height));
  const round32 = (v) => Math.max(32, Math.round((v * scale) / 32) * 32);
  const w = round32(img.width);
  const h = round32(img.height);
  // ImageNet's mean/std, in the BGR order PaddleOCR applies them to a BGR image.
  return toNchw(resize(img, [0, 0, img.width, img.height], w, h), w, h, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
}

// cls squeezes a long line into 192 columns; rec, like PaddleOCR's recogniser,
// widens its input past 320 for a long line (its width is dynamic).
function lineInput(img, box, minW, grow) {
  const [x0, y0, x1, y1] = box;
  const natural = Math.ceil((48 * (x1 - x0)) / (y1 - y0));
  const padW = grow ? Math.max(minW, natural) : minW;
  const w = Math.min(padW, natural);
  return toNchw(resize(img, box, w, 48), w, 48, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], padW);
}

// CTC greedy decoding of a [1, T, C] probability map: class 0 is the blank,
// class i the (i-1)-th line of the key file, the last class a space.
function ctcDecode(out, keys) {
  const [, steps, classes] = out.shape;
  let text = '';
  let prev = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (out.data[t * classes + c] > out.data[t * classes + best]) best = c;
    if (best !== 0 && best !== prev) text += best <= keys.length ? keys[best - 1] : ' ';
    prev = best;
  }
  return text.trim();  // the margin after a line can read as a space
}

function compare(got, ref) {
  if (got.shape.join(',') !== ref.shape.join(',')) return {ok: false, why: `shape (${got.shape}) vs ORT (${ref.shape})`};
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(got.data[i] - ref.data[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
  }
  const bound = REL_TOL * Math.max(1, maxRef);
  return {ok: maxDiff <= bound, why: `max|d| ${maxDiff.toExponential(2)} bound ${bound.toExponential(2)}`};
}

function main() {
  const a = parseArgs(process.argv.slice(2), {
    '--self-test': ['selfTest', 'flag'], '--work-dir': ['workDir', 'value'], '--keep': ['keep', 'flag'],
    '--timeout': ['timeout', 'number'],
  }, {timeout: 120});
  const osprey = process.env.OSPREY_BIN ?? path.join(ROOT, 'build', 'bin', 'osprey');
  const work = a.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-ppocr-'));
  const keys = fs.readFileSync(path.join(CACHE, 'files', 'ppocr_keys_v1.txt'), 'utf8').split('\n').map((s) => s.replace(/\r$/, ''));
  if (keys.at(-1) === '') keys.pop();
  const rival = a.selfTest ? 'ort-2T' : 'osprey';
  let failures = 0;
  for (const image of IMAGES) {
    const img = readPng(path.join(CACHE, 'media', image.file));
    const inputs = {det: detInput(img), cls: lineInput(img, image.line, 192, false), rec: lineInput(img, image.line, 320, true)};
    for (const [kind, file] of Object.entries(MODELS)) {
      const model = path.join(CACHE, 'onnx', file);
      const dir = path.join(work, `${path.parse(image.file).name}-${kind}`);
      fs.mkdirSync(dir, {recursive: true});
      const input = path.join(dir, 'input0.npy');
      writeNpy(input, inputs[kind].data, inputs[kind].shape);
      const name = parseModel(fs.readFileSync(model), model).inputs[0].name;
      const label = `${image.file} ${kind} ${inputs[kind].shape.join('x')}`;
      try {
        run(process.execPath, [ORT, model, '--input', input, '--output-dir', path.join(dir, 'ort')], a.timeout * 1000);
        const theirs = a.selfTest
          ? [process.execPath, [ORT, model, '--input', input, '--threads', '2', '--output-dir', path.join(dir, rival)]]
          : [osprey, ['run', model, '--input', input, '--input-shape', `${name}:${inputs[kind].shape.join(',')}`,
            '--output-dir', path.join(dir, rival)]];
        run(...theirs, a.timeout * 1000);
        const ref = readNpy(path.join(dir, 'ort', 'output0.npy'));
        const got = readNpy(path.join(dir, rival, 'output0.npy'));
        const c = compare(got, ref);
        const text = kind === 'rec' ? `  ORT reads '${ctcDecode(ref, keys)}', ${rival} '${ctcDecode(got, keys)}'` : '';
        console.log(`${c.ok ? 'PASS' : 'FAIL'} ${label}: ${c.why}${text}`);
        if (!c.ok) failures++;
        // A wrong string means the inputs are not the text lines this test claims.
        if (kind === 'rec' && ctcDecode(ref, keys) !== image.text) {
          console.log(`FAIL ${label}: ONNX Runtime reads '${ctcDecode(ref, keys)}', not '${image.text}' (preprocessing?)`);
          failures++;
        }
      } catch (e) {
        console.log(`FAIL ${label}: ${e.message.split('\n')[0]}`);
        failures++;
      }
    }
  }
  console.log(`${failures} failure(s) over ${IMAGES.length * 3} outputs (${rival} vs ONNX Runtime)`);
  if (failures === 0 && !a.keep && !a.workDir) fs.rmSync(work, {recursive: true, force: true});
  else console.log(`work directory: ${work}`);
  process.exit(failures ? 1 : 0);
}

main();
