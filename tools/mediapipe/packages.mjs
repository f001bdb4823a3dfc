// The MediaPipe solution packages the oracle runs: the very npm tarballs the
// zoo pins (zoo/models.json), verified against their integrity and unpacked
// once into $OSPREY_CACHE/mediapipe/<package>-<version>/.
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {cacheDir, ensureTarball, loadManifest} from '../../zoo/fetch.mjs';

// Each pipeline: its npm package, the script that defines the solution class,
// the class's global name, the options the comparison is defined for, and
// (for --debug) the intermediate streams of the solution's landmark subgraph
// `node`, by output tag and stream name: the ROIs made from detections, the
// ROIs for the next frame made from the landmarks and, for pose, the
// detection itself (the JS API cannot read a vector of detections).
// The JS solutions have no static-image switch; the page resets the graph
// before every image and turns smoothing off, which is what static mode does.
export const PIPELINES = {
  'face-mesh': {
    package: '@mediapipe/face_mesh',
    script: 'face_mesh.js',
    global: 'FaceMesh',
    options: {maxNumFaces: 1, refineLandmarks: false},
    debug: {
      node: 'FaceLandmarkFrontGpu',
      streams: {
        rois_from_detections: {tag: 'ROIS_FROM_DETECTIONS', stream: 'face_rects_from_detections', kind: 'rects'},
        rois_from_landmarks: {tag: 'ROIS_FROM_LANDMARKS', stream: 'face_rects_from_landmarks', kind: 'rects'},
      },
    },
  },
  hands: {
    package: '@mediapipe/hands',
    script: 'hands.js',
    global: 'Hands',
    options: {maxNumHands: 2, modelComplexity: 1},
    debug: {
      node: 'HandLandmarkTrackingGpu',
      streams: {
        rois_from_detections: {tag: 'HAND_ROIS_FROM_PALM_DETECTIONS', stream: 'hand_rects_from_palm_detections', kind: 'rects'},
      },
    },
  },
  pose: {
    package: '@mediapipe/pose',
    script: 'pose.js',
    global: 'Pose',
    options: {modelComplexity: 1, smoothLandmarks: false, enableSegmentation: false},
    // pose_web.binarypb already names these streams.
    debug: {
      node: 'PoseLandmarkGpu',
      streams: {
        detections: {tag: 'DETECTION', stream: 'pose_detection', kind: 'detection'},
        rois_from_detections: {tag: 'ROI_FROM_DETECTION', stream: 'pose_rect_from_detection', kind: 'rect'},
        rois_from_landmarks: {tag: 'ROI_FROM_LANDMARKS', stream: 'pose_rect_from_landmarks', kind: 'rect'},
      },
    },
  },
};

// The face mesh with refineLandmarks: face_landmark_with_attention, 478
// points (lips, eyes and irises refined).
PIPELINES['face-mesh-refined'] = {...PIPELINES['face-mesh'], options: {maxNumFaces: 1, refineLandmarks: true}};

// Objectron: one pipeline per 3D-box model, named as `osprey landmarks
// --pipeline objectron --object NAME` names them; modelName is the solution's
// own name for it (it also picks the detector labels the solution accepts).
for (const [object, modelName] of [['cup', 'Cup'], ['chair', 'Chair'], ['sneakers', 'Shoe'], ['camera', 'Camera']]) {
  PIPELINES[`objectron-${object}`] = {
    package: '@mediapipe/objectron',
    script: 'objectron.js',
    global: 'Objectron',
    options: {modelName, maxNumObjects: 5, staticImageMode: true},
  };
}

// The package's pinned version and integrity, as the zoo manifest gives them.
function pinned(pkg) {
  const hits = loadManifest().entries.filter((e) => e.package === pkg);
  if (hits.length === 0) throw new Error(`zoo/models.json pins no version of ${pkg}`);
  const {version, integrity} = hits[0];
  if (hits.some((e) => e.version !== version || e.integrity !== integrity)) {
    throw new Error(`zoo/models.json pins two versions of ${pkg}`);
  }
  return {version, integrity};
}

// Returns the directory holding the unpacked package (its package/ folder).
export function unpackedPackage(pkg, cache = cacheDir()) {
  const {version, integrity} = pinned(pkg);
  const dir = path.join(cache, 'mediapipe', `${pkg.replace(/^@/, '').replace('/', '-')}-${version}`);
  const stamp = path.join(dir, '.integrity');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === integrity) return path.join(dir, 'package');
  const tgz = ensureTarball(pkg, version, integrity, cache);
  // Unpack beside the target and rename, so a half-written tree is never used.
  fs.mkdirSync(path.dirname(dir), {recursive: true});
  const tmp = fs.mkdtempSync(`${dir}.tmp-`);
  try {
    const r = spawnSync('tar', ['-xzf', tgz, '-C', tmp], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`unpacking ${path.basename(tgz)} failed: ${(r.stderr || '').trim()}`);
    fs.writeFileSync(path.join(tmp, '.integrity'), integrity);
    fs.rmSync(dir, {recursive: true, force: true});
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
  return path.join(dir, 'package');
}
