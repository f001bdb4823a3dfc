// Runs in the headless Chromium page: one MediaPipe solution, one image at a
// time. Landmarks leave the page in pixels of the image; z is scaled by the
// width, as MediaPipe defines z on the same scale as x.

let solution = null;
let latest = null;

function webglRenderer() {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'none (no WebGL2)';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}

window.initSolution = async ({global, options, packageUrl}) => {
  const Solution = window[global];
  if (typeof Solution !== 'function') throw new Error(`the package script defines no ${global}`);
  solution = new Solution({locateFile: (file) => `${packageUrl}/${file}`});
  solution.setOptions(options);
  solution.onResults((results) => {
    latest = results;
  });
  const t0 = performance.now();
  await solution.initialize();
  return {initMs: performance.now() - t0, renderer: webglRenderer()};
};

const toPixels = (list, w, h) => list.map((p) => [p.x * w, p.y * h, p.z * w]);

function subjects(pipeline, r, w, h) {
  if (pipeline === 'face-mesh') return (r.multiFaceLandmarks ?? []).map((l) => ({landmarks: toPixels(l, w, h)}));
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
  const t0 = performance.now();
  await solution.send({image: img});
  const ms = performance.now() - t0;
  if (!latest) throw new Error('the solution returned no results');
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  return {image: {width: w, height: h}, subjects: subjects(pipeline, latest, w, h), ms};
};
