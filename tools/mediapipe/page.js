// Runs in the headless Chromium page: one MediaPipe solution, one image at a
// time. Landmarks leave the page in pixels of the image; z is scaled by the
// width, as MediaPipe defines z on the same scale as x.

let solution = null;
let latest = null;
// --debug: the intermediate streams asked for, and their latest values.
let debugStreams = null;
let debugLatest = {};

function webglRenderer() {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'none (no WebGL2)';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}

// Protocol buffer wire format, just enough for NormalizedRect and Detection:
// field number -> list of values (varints as numbers, 32-bit fields as floats,
// length-delimited ones as bytes).
function protoFields(bytes) {
  const fields = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = bytes[at++];
      value += (b & 0x7f) * shift;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const wire = key % 8;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 5) [value, at] = [view.getFloat32(at, true), at + 4];
    else if (wire === 1) [value, at] = [view.getFloat64(at, true), at + 8];
    else if (wire === 2) {
      const n = varint();
      [value, at] = [bytes.subarray(at, at + n), at + n];
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
    (fields[Math.floor(key / 8)] ??= []).push(value);
  }
  return fields;
}

// A packet's serialized proto as bytes (embind hands std::string over as a
// string of byte-valued characters).
const protoBytes = (v) => (typeof v === 'string' ? Uint8Array.from(v, (c) => c.charCodeAt(0)) : new Uint8Array(v));
const first = (fields, n, fallback = 0) => fields[n]?.[0] ?? fallback;

// NormalizedRect (x_center 1, y_center 2, height 3, width 4, rotation 5) in pixels.
function rectToPixels(bytes, w, h) {
  const f = protoFields(bytes);
  return {center: [first(f, 1) * w, first(f, 2) * h], size: [first(f, 4) * w, first(f, 3) * h], rotation: first(f, 5)};
}

// Detection (score 3, location_data 4: relative_bounding_box 3, relative_keypoints 5) in pixels.
function detectionToPixels(bytes, w, h) {
  const f = protoFields(bytes);
  const location = protoFields(first(f, 4, new Uint8Array()));
  const box = protoFields(first(location, 3, new Uint8Array()));
  const [x, y] = [first(box, 1) * w, first(box, 2) * h];
  const keypoints = (location[5] ?? []).map((k) => {
    const p = protoFields(k);
    return [first(p, 1) * w, first(p, 2) * h];
  });
  // score is a repeated float: packed (bytes) or not.
  const score = f[3]?.[0] instanceof Uint8Array ? new DataView(f[3][0].buffer, f[3][0].byteOffset).getFloat32(0, true) : first(f, 3);
  return {score, box: [x, y, x + first(box, 3) * w, y + first(box, 4) * h], keypoints};
}

// The solution class keeps its graph configuration (with the listener list)
// in an inner object whose field names the minifier chose: find it by shape.
function innerSolution(wrapper) {
  for (const inner of Object.values(wrapper)) {
    if (!inner || typeof inner !== 'object') continue;
    for (const config of Object.values(inner)) {
      if (config && Array.isArray(config.listeners) && config.graph) return {inner, config};
    }
  }
  throw new Error('--debug: the solution object has no listener configuration where expected');
}

// One listener per stream, so a stream without a packet (no ROI from
// landmarks when nothing was found) does not hold the others back.
function listenToDebugStreams(wrapper, streams) {
  const {inner, config} = innerSolution(wrapper);
  for (const [key, s] of Object.entries(streams)) {
    const list = s.kind === 'rects' || s.kind === 'detections';
    const name = `debug_${key}`;
    // A packet's bytes may be a view of the wasm heap, valid only while the
    // graph hands it over: the transform copies them then, the callback runs later.
    const copy = (v) => (list ? v.map(protoBytes) : [protoBytes(v)]);
    config.listeners.push({name, wants: [s.stream], outs: {value: {type: list ? 'proto_list' : 'proto', stream: s.stream, transform: copy}}});
    inner.onResults((r) => {
      if (r.value !== undefined) debugLatest[key] = r.value;
    }, name);
  }
}

window.initSolution = async ({global, options, packageUrl, debug}) => {
  const Solution = window[global];
  if (typeof Solution !== 'function') throw new Error(`the package script defines no ${global}`);
  solution = new Solution({locateFile: (file) => `${packageUrl}/${file}`});
  solution.setOptions(options);
  solution.onResults((results) => {
    latest = results;
  });
  if (debug) {
    debugStreams = debug;
    listenToDebugStreams(solution, debug);
  }
  const t0 = performance.now();
  await solution.initialize();
  return {initMs: performance.now() - t0, renderer: webglRenderer()};
};

const toPixels = (list, w, h) => list.map((p) => [p.x * w, p.y * h, p.z * w]);

function subjects(pipeline, r, w, h) {
  if (pipeline.startsWith('face-mesh')) return (r.multiFaceLandmarks ?? []).map((l) => ({landmarks: toPixels(l, w, h)}));
  if (pipeline === 'hands') {
    return (r.multiHandLandmarks ?? []).map((l, i) => {
      const side = r.multiHandedness?.[i] ?? {};
      return {landmarks: toPixels(l, w, h), handedness: side.label, score: side.score};
    });
  }
  if (pipeline.startsWith('objectron-')) {
    // Keypoint 0 is the box centre, 1-8 its corners; point2d is normalised to the image.
    return (r.objectDetections ?? []).map((d) => ({
      landmarks: [...d.keypoints].sort((a, b) => a.id - b.id).map((k) => [k.point2d.x * w, k.point2d.y * h, 0]),
    }));
  }
  if (!r.poseLandmarks) return [];
  return [{landmarks: toPixels(r.poseLandmarks, w, h), visibility: r.poseLandmarks.map((p) => p.visibility)}];
}

window.runImage = async (pipeline, url) => {
  const img = new Image();
  img.src = url;
  try {
    await img.decode();
  } catch {
    throw new Error('the browser cannot decode the image');
  }
  // A fresh graph per image: no region carried over from the previous one.
  solution.reset();
  latest = null;
  debugLatest = {};
  const t0 = performance.now();
  await solution.send({image: img});
  const ms = performance.now() - t0;
  if (!latest) throw new Error('the solution returned no results');
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  const result = {image: {width: w, height: h}, subjects: subjects(pipeline, latest, w, h), ms};
  if (debugStreams) {
    result.debug = {};
    for (const [key, s] of Object.entries(debugStreams)) {
      const decode = s.kind.startsWith('detection') ? detectionToPixels : rectToPixels;
      result.debug[key] = (debugLatest[key] ?? []).map((bytes) => decode(bytes, w, h));
    }
  }
  return result;
};
