// The comparison against MediaPipe must be able to fail: checked on made-up landmarks.
import assert from 'node:assert/strict';
import test from 'node:test';
import {compareImage, matchSubjects, median, medianDistance, roiLines, roiSize} from './landmarks_agreement.mjs';

const square = (x0, y0, size, n = 9) =>
  Array.from({length: n}, (_, i) => [x0 + (size * (i % 3)) / 2, y0 + (size * Math.floor(i / 3)) / 2, 0]);
const shift = (l, dx, dy) => l.map(([x, y, z]) => [x + dx, y + dy, z]);
const result = (subjects) => ({pipeline: 'hands', file: 'x.png', image: {width: 640, height: 480}, subjects});

test('roi size is the longer side of the landmark box', () => {
  assert.equal(roiSize([[10, 10], [110, 40]]), 100);
  assert.equal(roiSize([[0, 0], [5, 60]]), 60);
});

test('median distance ignores z and takes the middle value', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(medianDistance([[0, 0, 5], [0, 0, 0], [0, 0, 0]], [[3, 4, -5], [0, 0, 0], [30, 40, 0]]), 5);
  assert.throws(() => medianDistance([[0, 0]], [[0, 0], [1, 1]]));
});

test('subjects are matched by nearest centroid whatever their order', () => {
  const left = {landmarks: square(0, 0, 100)};
  const right = {landmarks: square(400, 0, 100)};
  const m = matchSubjects([right, left], [{landmarks: shift(left.landmarks, 1, 0)}, {landmarks: square(401, 0, 100)}]);
  assert.equal(m.length, 2);
  for (const [o, t] of m) assert.ok(Math.abs(o.landmarks[0][0] - t.landmarks[0][0]) <= 1);
});

test('within 2% of the ROI passes, beyond fails', () => {
  const mp = result([{landmarks: square(100, 100, 200)}]);
  assert.equal(compareImage(result([{landmarks: shift(square(100, 100, 200), 3.9, 0)}]), mp, 0.02).ok, true);
  assert.equal(compareImage(result([{landmarks: shift(square(100, 100, 200), 3, 3)}]), mp, 0.02).ok, false);
});

test('a different number of subjects, landmarks or image size fails', () => {
  const mp = result([{landmarks: square(100, 100, 200)}]);
  assert.equal(compareImage(result([]), mp, 0.02).ok, false);
  assert.equal(compareImage(result([{landmarks: square(100, 100, 200, 8)}]), mp, 0.02).ok, false);
  assert.equal(compareImage({...mp, image: {width: 320, height: 480}}, mp, 0.02).ok, false);
  assert.equal(compareImage(result([]), result([]), 0.02).ok, true);
});

test('roi lines pair each osprey ROI with the nearest of MediaPipe', () => {
  const roi = (x, y, side, rotation) => ({center: [x, y], size: [side, side], rotation});
  const ours = {subjects: [{roi: roi(100, 100, 50, 0.5)}, {roi: roi(400, 100, 60, 0)}, {}]};
  const lines = roiLines(ours, [roi(403, 104, 58, 0.25), roi(100, 101, 50, 0.5)]);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /subject 0 .*centre 1\.00 px, side 0\.00 px, rotation 0\.0000 apart/);
  assert.match(lines[1], /subject 1 .*centre 5\.00 px, side 2\.00 px, rotation -0\.2500 apart/);
  assert.match(roiLines(ours, [])[0], /MediaPipe made none/);
});
