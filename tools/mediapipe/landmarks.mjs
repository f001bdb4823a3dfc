#!/usr/bin/env node
// MediaPipe's own landmark solutions (the JS packages the zoo pins), run in
// headless Chromium on image files: the oracle osprey's landmark pipelines
// are compared with.
//
//   node tools/mediapipe/landmarks.mjs --pipeline face-mesh|face-mesh-refined|hands|pose|objectron-OBJECT IMAGE...
//        [--timeout SECONDS] [--gpu-inference] [--chromium PATH] [--debug]
//
// Prints one JSON line per image:
//   {"pipeline", "file", "image":{"width","height"},
//    "subjects":[{"landmarks":[[x,y,z],...], "handedness"?, "score"?, "visibility"?}],
//    "timing_ms":{"send"}, "oracle":{"inference","renderer","wasm","init_ms"}}
// with x, y (and z, on x's scale) in pixels of the image; --debug adds
//   "debug":{"detections":[{"score","box","keypoints"}], "rois_from_detections":[ROI],
//            "rois_from_landmarks":[ROI]}, ROI = {"center","size","rotation"},
// the solution's intermediate streams, in pixels too. Exit status 77 with
// one line when Chromium cannot start (tests skip on it), 1 on any other error
// or when the run takes longer than --timeout (default 180 s).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {PIPELINES, unpackedPackage} from './packages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const EXIT_NO_BROWSER = 77;

class NoBrowser extends Error {}

const usage =
  'usage: landmarks.mjs --pipeline face-mesh|face-mesh-refined|hands|pose|objectron-cup|objectron-chair|objectron-sneakers|objectron-camera IMAGE... [--timeout SECONDS] [--gpu-inference] [--chromium PATH] [--debug]';

function parse(argv) {
  const a = {images: [], timeout: 180, gpuInference: false, debug: false, chromium: process.env.OSPREY_CHROMIUM};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--pipeline') a.pipeline = value();
    else if (arg === '--timeout') a.timeout = Number(value());
    else if (arg === '--chromium') a.chromium = value();
    else if (arg === '--gpu-inference') a.gpuInference = true;
    else if (arg === '--debug') a.debug = true;
    else if (arg === '-h' || arg === '--help') {
      console.log(usage);
      process.exit(0);
    }
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (--help for usage)`);
    else a.images.push(arg);
  }
  if (!PIPELINES[a.pipeline]) throw new Error(`--pipeline must be one of ${Object.keys(PIPELINES).join(', ')}`);
  if (a.images.length === 0) throw new Error('no IMAGE given (--help for usage)');
  if (!(a.timeout > 0)) throw new Error('--timeout needs a positive number of seconds');
  for (const f of a.images) {
    if (!fs.statSync(f, {throwIfNoEntry: false})?.isFile()) throw new Error(`${f}: no such file`);
  }
  return a;
}

function chromiumPath(given) {
  const candidates = given ? [given] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const hit = candidates.find((p) => fs.existsSync(p));
  if (!hit) throw new NoBrowser(`no Chromium at ${candidates.join(' or ')} (apt-get install chromium, or set OSPREY_CHROMIUM)`);
  return hit;
}

const TYPES = {'.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html'};

function imageType(bytes) {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  return 'application/octet-stream';
}

function readVarint(bytes, at) {
  let value = 0;
  for (let shift = 1; ; shift *= 128) {
    if (at >= bytes.length || shift > 2 ** 63) throw new Error('graph: truncated or overlong protobuf varint');
    const b = bytes[at++];
    value += (b & 0x7f) * shift;
    if (b < 0x80) return [value, at];
  }
}

function varintBytes(value) {
  const out = [];
  for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value % 128) | 0x80);
  out.push(value);
  return Buffer.from(out);
}

// The top-level fields of a protocol buffer message: [{number, wire, raw}],
// raw being the whole encoded field (key included) and, for length-delimited
// fields, `body` the payload.
function protoFields(bytes) {
  const fields = [];
  for (let at = 0; at < bytes.length;) {
    const start = at;
    let key;
    [key, at] = readVarint(bytes, at);
    const wire = key % 8;
    let body = null;
    if (wire === 0) [, at] = readVarint(bytes, at);
    else if (wire === 5) at += 4;
    else if (wire === 1) at += 8;
    else if (wire === 2) {
      let n;
      [n, at] = readVarint(bytes, at);
      body = bytes.subarray(at, at + n);
      at += n;
    } else throw new Error(`graph: unexpected protobuf wire type ${wire}`);
    if (at > bytes.length) throw new Error('graph: truncated protobuf field');
    fields.push({number: Math.floor(key / 8), wire, raw: bytes.subarray(start, at), body});
  }
  return fields;
}

const lengthDelimited = (number, body) => Buffer.concat([varintBytes(number * 8 + 2), varintBytes(body.length), body]);

// The solution's graph (a CalculatorGraphConfig) with `outputs` ("TAG:stream")
// added to the output streams (Node field 4) of the node whose calculator
// (Node field 2) is `calculator` (graph field 1 holds the nodes), so that the
// page can listen to them.
export function graphWithOutputs(graph, calculator, outputs) {
  let found = false;
  const parts = protoFields(graph).map((f) => {
    if (f.number !== 1 || f.wire !== 2) return f.raw;
    const node = protoFields(f.body);
    const name = node.find((n) => n.number === 2)?.body?.toString();
    if (name !== calculator) return f.raw;
    found = true;
    const present = new Set(node.filter((n) => n.number === 4).map((n) => n.body.toString()));
    const extra = outputs.filter((o) => !present.has(o)).map((o) => lengthDelimited(4, Buffer.from(o)));
    return lengthDelimited(1, Buffer.concat([...node.map((n) => n.raw), ...extra]));
  });
  if (!found) throw new Error(`--debug: the solution's graph has no ${calculator} node`);
  return Buffer.concat(parts);
}

// Serves the page, the package's files and the images on localhost only;
// `served` records which package files the page asked for. With `debug`, the
// graph files expose the intermediate streams; a graph that cannot be edited
// is answered with status 500 and its reason kept in `failures`.
function startServer(pkgDir, script, images, served, debug, failures) {
  const html = `<!doctype html><meta charset="utf-8"><script src="/pkg/${script}"></script><script src="/page.js"></script>`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let body = null;
    let type = 'application/octet-stream';
    const pkgFile = /^\/pkg\/([A-Za-z0-9_.-]+)$/.exec(url.pathname)?.[1];
    const image = /^\/image\/(\d+)$/.exec(url.pathname)?.[1];
    if (url.pathname === '/') [body, type] = [html, TYPES['.html']];
    else if (url.pathname === '/page.js') [body, type] = [fs.readFileSync(path.join(HERE, 'page.js')), TYPES['.js']];
    else if (pkgFile && fs.existsSync(path.join(pkgDir, pkgFile))) {
      body = fs.readFileSync(path.join(pkgDir, pkgFile));
      if (debug && pkgFile.endsWith('.binarypb')) {
        const outputs = Object.values(debug.streams).map((d) => `${d.tag}:${d.stream}`);
        try {
          body = graphWithOutputs(body, debug.node, outputs);
        } catch (e) {
          failures.push(`${pkgFile}: ${e.message}`);
          res.writeHead(500, {'Content-Type': 'text/plain'});
          res.end(e.message);
          return;
        }
      }
      type = TYPES[path.extname(pkgFile)] ?? type;
      served.add(pkgFile);
    } else if (image !== undefined && Number(image) < images.length) {
      body = fs.readFileSync(images[Number(image)]);
      type = imageType(body);
    }
    res.writeHead(body === null ? 404 : 200, {'Content-Type': type, 'Cache-Control': 'no-store'});
    res.end(body ?? 'not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// Imported here so that a missing `npm ci` is one line, not a stack trace.
async function loadPuppeteer() {
  try {
    return (await import('puppeteer-core')).default;
  } catch {
    throw new Error('puppeteer-core is not installed (npm ci --prefix tools/mediapipe)');
  }
}

async function launch(executablePath, timeoutMs) {
  const puppeteer = await loadPuppeteer();
  // Our own profile directory, removed on any exit (a timeout included).
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'osprey-mediapipe-'));
  process.on('exit', () => fs.rmSync(userDataDir, {recursive: true, force: true}));
  try {
    return await puppeteer.launch({
      executablePath,
      userDataDir,
      headless: true,
      timeout: timeoutMs,
      protocolTimeout: timeoutMs,
      // The page sees only files served from localhost, so Chromium's sandbox
      // (which fails as root and in many containers) is left off. WebGL comes
      // from SwiftShader, Chromium's software GPU, as there is no real one.
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
        '--no-first-run', '--disable-extensions'],
    });
  } catch (e) {
    throw new NoBrowser(`${executablePath}: ${String(e.message).split('\n')[0]}`);
  }
}

async function run(a, browserRef) {
  const spec = PIPELINES[a.pipeline];
  const pkgDir = unpackedPackage(spec.package);
  const served = new Set();
  const debug = a.debug ? spec.debug : null;
  const failures = [];
  const server = await startServer(pkgDir, spec.script, a.images, served, debug, failures);
  try {
    const origin = `http://127.0.0.1:${server.address().port}`;
    const browser = await launch(chromiumPath(a.chromium), a.timeout * 1000);
    browserRef.browser = browser;
    const page = await browser.newPage();
    // No network beyond the local server.
    await page.setRequestInterception(true);
    const local = (url) => url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:');
    page.on('request', (r) => (local(r.url()) ? r.continue() : r.abort()));
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e.message).split('\n')[0]));
    await page.goto(`${origin}/`, {waitUntil: 'load'});
    // Inference on the CPU (XNNPACK in wasm) by default: fp32 like osprey, and
    // far faster than WebGL on SwiftShader; the image transforms use WebGL either way.
    const options = {...spec.options, useCpuInference: !a.gpuInference};
    let init;
    try {
      const settings = {global: spec.global, options, packageUrl: `${origin}/pkg`, debug: debug?.streams ?? null};
      init = await page.evaluate((s) => window.initSolution(s), settings);
    } catch (e) {
      const why = failures[0] ?? pageErrors[0];
      throw new Error(`${spec.package} did not start: ${String(e.message).split('\n')[0]}${why ? ` (${why})` : ''}`);
    }
    const oracle = {
      inference: a.gpuInference ? 'gpu (WebGL)' : 'cpu (wasm)',
      renderer: init.renderer,
      wasm: [...served].some((f) => f.endsWith('_simd_wasm_bin.wasm')) ? 'simd' : 'scalar',
      init_ms: Math.round(init.initMs),
    };
    for (const [i, file] of a.images.entries()) {
      let r;
      try {
        r = await page.evaluate((p, u) => window.runImage(p, u), a.pipeline, `${origin}/image/${i}`);
      } catch (e) {
        throw new Error(`${file}: ${String(e.message).split('\n')[0]}`);
      }
      const timing = {send: Math.round(r.ms * 10) / 10};
      const line = {pipeline: a.pipeline, file, image: r.image, subjects: r.subjects, timing_ms: timing, oracle};
      if (r.debug) line.debug = r.debug;
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    if (a.debug) for (const e of pageErrors) process.stderr.write(`page error: ${e}\n`);
    await browser.close();
    browserRef.browser = null;
  } finally {
    server.close();
  }
}

async function main() {
  const browserRef = {browser: null};
  const fail = (message, code) => {
    process.stderr.write(`landmarks.mjs: ${message}\n`);
    // Chromium leads its own process group (puppeteer starts it detached): end it whole.
    const pid = browserRef.browser?.process()?.pid;
    if (pid) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
          break;
        } catch {
          // Not a group leader, or gone already: try the process alone, or stop.
        }
      }
    }
    process.exit(code);
  };
  let a;
  try {
    a = parse(process.argv.slice(2));
  } catch (e) {
    fail(e.message, 1);
  }
  const timer = setTimeout(() => fail(`timed out after ${a.timeout} s`, 1), a.timeout * 1000);
  try {
    await run(a, browserRef);
  } catch (e) {
    if (e instanceof NoBrowser) fail(`cannot start Chromium: ${e.message}`, EXIT_NO_BROWSER);
    fail(String(e.message).split('\n')[0], 1);
  }
  clearTimeout(timer);
}

main();
