// TFLite_Detection_PostProcess against LiteRT on the zoo's SSD detector
// (object_detection_ssd_mobilenetv2_oidv4_fp16) with the op appended by
// make_ssd_postprocess_model, float and uint8 (quantized by `osprey quantize`),
// fast and regular NMS, on the sample photos of $OSPREY_CACHE/media.
//
// Two checks per photo:
//  - the op alone, for each variant of its options (VARIANTS): LiteRT's backbone
//    outputs (boxes, scores) are fed to a model holding only the post-process, in
//    LiteRT and in `osprey run`: count, classes and scores must be equal, boxes
//    within 1e-4;
//  - the whole appended model (the head's own settings, fast and regular NMS),
//    each runtime computing its own backbone: the same
//    count and classes, scores within 1e-5 (float) or one uint8 step, boxes within
//    1e-4 (float) or 2e-3 (uint8, one step of the box encodings).
//
//   node tests/ops/detection_postprocess_litert.mjs --osprey BUILD/osprey \
//        --make-model BUILD/make_ssd_postprocess_model [--keep]
//
// Exit status: 0 pass, 1 a comparison failed, 2 usage error, 77 skipped (no
// @litertjs/core, zoo model or sample photos).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {parseArgs as sharedParseArgs, run as runTool} from '../support/cli.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ZOO_NAME = 'object_detection_ssd_mobilenetv2_oidv4_fp16';

function parseArgs(argv) {
  const a = sharedParseArgs(argv, {
    '--osprey': ['osprey', 'value'],
    '--make-model': ['makeModel', 'value'],
    '--keep': ['keep', 'flag'],
  }, {keep: false});
  if (!a.osprey || !a.makeModel) throw new Error('usage: --osprey OSPREY --make-model MAKE_MODEL [--keep]');
  return a;
}

const run = (bin, args) => runTool(bin, args, 300_000);

// The detections of one run: [{box: [4], cls, score}] for the counted slots.
function detections(outs, perBox) {
  const count = Number(outs[3].data[0]);
  const list = [];
  for (let s = 0; s < count * perBox; s++) {
    list.push({box: Array.from(outs[0].data.slice(4 * s, 4 * s + 4)), cls: outs[1].data[s], score: outs[2].data[s]});
  }
  return {count, list};
}

// '' when they agree, else the first difference. With `perBox` > 1, TFLite
// orders each box's classes with std::partial_sort, which leaves equal scores
// in no defined order: a class may then differ where its score ties a
// neighbour in the box's list or sits last (tied with a class left out).
function compareDetections(ours, theirs, boxTol, scoreTol, perBox = 1, stats = {}) {
  if (ours.count !== theirs.count) return `count ${ours.count} vs ${theirs.count}`;
  for (let i = 0; i < theirs.list.length; i++) {
    const a = ours.list[i], b = theirs.list[i];
    if (a.cls !== b.cls) {
      const j = i % perBox, group = theirs.list.slice(i - j, i - j + perBox);
      const tied = perBox > 1 && a.score === b.score &&
          (j === perBox - 1 || group.some((o, k) => k !== j && o.score === b.score));
      if (!tied) return `slot ${i}: class ${a.cls} vs ${b.cls}`;
      stats.tieClasses = (stats.tieClasses ?? 0) + 1;
    }
    if (Math.abs(a.score - b.score) > scoreTol) return `slot ${i}: score ${a.score} vs ${b.score}`;
    for (let k = 0; k < 4; k++) {
      if (!(Math.abs(a.box[k] - b.box[k]) <= boxTol)) return `slot ${i}: box ${a.box} vs ${b.box}`;
    }
  }
  return '';
}

// The op's settings checked: the head's own (whole models too), then low score
// thresholds that give many candidates (ties in uint8, truncation at max_detections).
const VARIANTS = [
  {name: 'fast', flags: [], perBox: 1, whole: true},
  {name: 'regular', flags: ['--regular'], perBox: 1, whole: true},
  {name: 'fast, threshold 0.05, 20 detections', flags: ['--score-threshold', '0.05', '--max-detections', '20'], perBox: 1},
  {name: 'regular, threshold 0.05, 20 detections, 5 per class',
   flags: ['--regular', '--score-threshold', '0.05', '--max-detections', '20', '--detections-per-class', '5'], perBox: 1},
  {name: 'regular, threshold 0.01, 100 detections',
   flags: ['--regular', '--score-threshold', '0.01', '--max-detections', '100'], perBox: 1},
  {name: 'fast, threshold 0.02, 3 classes per detection',
   flags: ['--score-threshold', '0.02', '--max-detections', '10', '--classes-per-detection', '3'], perBox: 3},
];

function maxBoxDiff(ours, theirs) {
  let m = 0;
  for (let i = 0; i < Math.min(ours.list.length, theirs.list.length); i++) {
    for (let k = 0; k < 4; k++) m = Math.max(m, Math.abs(ours.list[i].box[k] - theirs.list[i].box[k]));
  }
  return m.toExponential(1);
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    return 2;
  }
  const cache = process.env.OSPREY_CACHE || path.join(os.homedir(), '.cache/osprey');
  const zooModel = path.join(cache, 'models', `${ZOO_NAME}.tflite`);
  const media = path.join(cache, 'media');
  const photos = fs.existsSync(media)
      ? fs.readdirSync(media).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => path.join(media, f))
      : [];
  if (!fs.existsSync(path.join(ROOT, 'tools/litert/node_modules/@litertjs/core'))) {
    console.error('skipped: @litertjs/core is not installed (npm ci --prefix tools/litert)');
    return 77;
  }
  if (!fs.existsSync(zooModel) || photos.length === 0) {
    console.error(`skipped: needs ${zooModel} and photos in ${media} (make fetch)`);
    return 77;
  }
  const {loadRuntime} = await import(path.join(ROOT, 'tools/litert/litert.mjs'));
  const {readNpy, writeNpy} = await import(path.join(ROOT, 'tools/litert/npy.mjs'));
  const rt = await loadRuntime();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-postprocess-'));

  // The backbones: the zoo model with its scores through a sigmoid, and that quantized (uint8 I/O).
  const sigmoid = path.join(work, 'ssd_sigmoid.tflite');
  const uint8 = path.join(work, 'ssd_sigmoid_uint8.tflite');
  const inputs = path.join(work, 'inputs');
  run(args.makeModel, ['sigmoid', zooModel, sigmoid]);
  run(args.osprey, ['quantize', sigmoid, '-o', uint8, '--calibration', ...photos, '--input-range', '-1,1',
                    '--resize', 'stretch', '--no-augment', '--eval-samples', '0', '--save-inputs', inputs]);
  const images = photos.map((p, i) => {
    const u8 = readNpy(path.join(inputs, `input${i}.npy`));
    // The float backbone takes the same pixels in [-1, 1].
    const f32 = Float32Array.from(u8.data, (q) => q / 127.5 - 1);
    return {name: path.basename(p), uint8: u8, float: {data: f32, shape: u8.shape}};
  });

  let failed = 0, checked = 0;
  const note = (ok, label, detail) => {
    checked++;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}${detail ? `: ${detail}` : ''}`);
  };
  for (const type of ['float', 'uint8']) {
    const backbonePath = type === 'float' ? sigmoid : uint8;
    const backbone = await rt.compile(backbonePath, {name: `${type} backbone`});
    // LiteRT's backbone outputs per photo: the inputs of every op-alone check.
    const opInputs = [];
    for (const [i, image] of images.entries()) {
      const [boxes, scores] = await backbone.run([image[type]]);
      const files = [boxes, scores].map((t, k) => {
        const f = path.join(work, `${type}-photo${i}-op-input${k}.npy`);
        writeNpy(f, t.data, t.shape);
        return f;
      });
      opInputs.push({tensors: [boxes, scores].map((t) => ({data: t.data, shape: t.shape})), files});
    }
    backbone.delete();
    for (const variant of VARIANTS) {
      const dir = path.join(work, `${type}-${variant.name.replace(/[^a-z0-9]+/gi, '-')}`);
      fs.mkdirSync(dir, {recursive: true});
      const alonePath = path.join(dir, 'alone.tflite');
      run(args.makeModel, ['alone', backbonePath, alonePath, ...variant.flags]);
      const alone = await rt.compile(alonePath, {name: `${type} ${variant.name} post-process`});
      for (const [i, image] of images.entries()) {
        const theirs = detections(await alone.run(opInputs[i].tensors), variant.perBox);
        const out = path.join(dir, `photo${i}`);
        run(args.osprey, ['run', alonePath, ...opInputs[i].files.flatMap((f) => ['--input', f]), '--output-dir', out]);
        const ours = detections([0, 1, 2, 3].map((k) => readNpy(path.join(out, `output${k}.npy`))), variant.perBox);
        const stats = {};
        const diff = compareDetections(ours, theirs, 1e-4, 0, variant.perBox, stats);
        const ties = stats.tieClasses ? `, ${stats.tieClasses} classes ordered otherwise among equal scores` : '';
        note(diff === '', `${type} ${variant.name}, op alone, ${image.name}: ${theirs.count} detections, ` +
                          `max box diff ${maxBoxDiff(ours, theirs)}${ties}`, diff);
      }
      alone.delete();
      if (!variant.whole) continue;
      // The whole appended model, each runtime computing its own backbone.
      const fullPath = path.join(dir, 'full.tflite');
      run(args.makeModel, ['append', backbonePath, fullPath, ...variant.flags]);
      const full = await rt.compile(fullPath, {name: `${type} ${variant.name} appended model`});
      for (const [i, image] of images.entries()) {
        const input = image[type];
        const inputFile = path.join(dir, `photo${i}-input.npy`);
        writeNpy(inputFile, input.data, input.shape);
        const out = path.join(dir, `photo${i}-full`);
        run(args.osprey, ['run', fullPath, '--input', inputFile, '--output-dir', out]);
        const ours = detections([0, 1, 2, 3].map((k) => readNpy(path.join(out, `output${k}.npy`))), 1);
        const theirs = detections(await full.run([input]), 1);
        const diff = type === 'float' ? compareDetections(ours, theirs, 1e-4, 1e-5)
                                      : compareDetections(ours, theirs, 2e-3, 1 / 256 + 1e-6);
        note(diff === '', `${type} ${variant.name}, whole model, ${image.name}: ${theirs.count} detections, ` +
                          `max box diff ${maxBoxDiff(ours, theirs)}`, diff);
      }
      full.delete();
    }
  }
  if (!args.keep) fs.rmSync(work, {recursive: true, force: true});
  console.log(`${checked - failed} of ${checked} comparisons agree with LiteRT${args.keep ? ` (kept ${work})` : ''}`);
  return failed === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e.message);
  process.exit(1);
});
