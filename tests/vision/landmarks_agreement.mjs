// How osprey's landmarks are judged against MediaPipe's: the same number of
// subjects, and per matched subject the median over points of the (x, y)
// distance within a fraction of the ROI size. The ROI size is the longer side
// of the bounding box of MediaPipe's landmarks for that subject (unclipped:
// points MediaPipe places outside the image count too).

export function roiSize(landmarks) {
  const xs = landmarks.map((p) => p[0]);
  const ys = landmarks.map((p) => p[1]);
  return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// Median over points of the distance in the image plane (z is not compared).
export function medianDistance(a, b) {
  if (a.length !== b.length) throw new Error(`${a.length} landmarks against ${b.length}`);
  return median(a.map((p, i) => Math.hypot(p[0] - b[i][0], p[1] - b[i][1])));
}

// Pairs each MediaPipe subject with the osprey subject nearest to it, by the
// distance between landmark centroids, nearest pairs first.
export function matchSubjects(ours, theirs) {
  const centroid = (l) => [0, 1].map((k) => l.reduce((s, p) => s + p[k], 0) / l.length);
  const pairs = [];
  for (const [i, o] of ours.entries()) {
    for (const [j, t] of theirs.entries()) {
      const [a, b] = [centroid(o.landmarks), centroid(t.landmarks)];
      pairs.push({i, j, d: Math.hypot(a[0] - b[0], a[1] - b[1])});
    }
  }
  pairs.sort((p, q) => p.d - q.d);
  const usedOurs = new Set();
  const usedTheirs = new Set();
  const matched = [];
  for (const p of pairs) {
    if (usedOurs.has(p.i) || usedTheirs.has(p.j)) continue;
    usedOurs.add(p.i);
    usedTheirs.add(p.j);
    matched.push([ours[p.i], theirs[p.j]]);
  }
  return matched;
}

// Compares one image's results; returns {ok, lines} with one line per check.
export function compareImage(ours, theirs, tolerance) {
  const name = `${theirs.pipeline} ${theirs.file}`;
  const {width: w, height: h} = theirs.image;
  if (ours.image?.width !== w || ours.image?.height !== h) {
    return {ok: false, lines: [`${name}: osprey reads ${ours.image?.width}x${ours.image?.height}, MediaPipe ${w}x${h}`]};
  }
  const n = ours.subjects?.length ?? 0;
  if (n !== theirs.subjects.length) {
    return {ok: false, lines: [`${name}: osprey finds ${n} subject(s), MediaPipe ${theirs.subjects.length}`]};
  }
  if (n === 0) return {ok: true, lines: [`${name}: no subject in either`]};
  let ok = true;
  const lines = [];
  for (const [k, [o, t]] of matchSubjects(ours.subjects, theirs.subjects).entries()) {
    let line;
    if (o.landmarks.length !== t.landmarks.length) {
      ok = false;
      line = `osprey gives ${o.landmarks.length} landmarks, MediaPipe ${t.landmarks.length}: FAIL`;
    } else {
      const err = medianDistance(o.landmarks, t.landmarks);
      const roi = roiSize(t.landmarks);
      const pass = err <= tolerance * roi;
      ok &&= pass;
      const pct = ((100 * err) / roi).toFixed(2);
      line = `median ${err.toFixed(2)} px of ROI ${roi.toFixed(1)} px = ${pct}% (limit ${100 * tolerance}%): ${pass ? 'ok' : 'FAIL'}`;
    }
    const side = t.handedness ? ` (MediaPipe: ${t.handedness}, osprey: ${o.handedness ?? '-'})` : '';
    lines.push(`${name} subject ${k}${side}: ${line}`);
  }
  return {ok, lines};
}

// Where a disagreement starts: for each osprey subject, its ROI against the
// nearest (by centre) ROI MediaPipe made from its detections (the oracle's
// --debug output `rois`; each {center, size, rotation} in pixels).
export function roiLines(ours, rois) {
  const lines = [];
  for (const [k, s] of (ours.subjects ?? []).entries()) {
    if (!s.roi) continue;
    const fmt = (r) =>
      `centre (${r.center.map((v) => v.toFixed(2)).join(', ')}) side ${r.size[0].toFixed(2)} rotation ${r.rotation.toFixed(4)}`;
    const off = (r) => Math.hypot(r.center[0] - s.roi.center[0], r.center[1] - s.roi.center[1]);
    const nearest = [...(rois ?? [])].sort((a, b) => off(a) - off(b))[0];
    if (!nearest) {
      lines.push(`  subject ${k} ROI: osprey ${fmt(s.roi)}; MediaPipe made none from its detections`);
      continue;
    }
    const dSide = s.roi.size[0] - nearest.size[0];
    const dRot = s.roi.rotation - nearest.rotation;
    lines.push(
      `  subject ${k} ROI: osprey ${fmt(s.roi)}, MediaPipe ${fmt(nearest)}: centre ${off(nearest).toFixed(2)} px, ` +
        `side ${dSide.toFixed(2)} px, rotation ${dRot.toFixed(4)} apart`,
    );
  }
  return lines;
}
