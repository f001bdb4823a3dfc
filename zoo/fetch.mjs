#!/usr/bin/env node
// Fetches the model zoo and sample media listed in zoo/models.json into the
// local cache ($OSPREY_CACHE, default ~/.cache/osprey):
//
//   CACHE/npm/<tarball>.tgz      npm tarballs (kept; checked against `integrity`)
//   CACHE/models/NAME.tflite     models
//   CACHE/files/NAME             other assets (label maps)
//   CACHE/media/NAME             sample images/videos from Debian packages
//   CACHE/onnx/NAME.onnx         ONNX models (osprey converts them; see docs/onnx.md)
//
// usage:
//   node zoo/fetch.mjs [--only NAME...]   fetch everything (or just NAMEs;
//                                         'models', 'files', 'media', 'onnx' select groups)
//   node zoo/fetch.mjs --path NAME...     print cached path(s), fetching first if needed
//
// Idempotent and quiet: targets already present with the right sha256 are left
// alone and nothing is printed.  One line per file actually fetched (on stderr
// with --path so stdout carries only paths).  Any mismatch is a one-line error
// and exit status 1.  Writes are atomic (temp file + rename).
//
// npm tarballs come from `npm pack`; media from `apt-get download` of the
// pinned Debian package version (the .deb is deleted after extraction).
// No npm dependencies.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import {spawnSync} from 'node:child_process';
import {fileURLToPath, pathToFileURL} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MANIFEST_PATH = path.join(HERE, 'models.json');

export class FetchError extends Error {}

export function cacheDir() {
  return path.resolve(process.env.OSPREY_CACHE || path.join(os.homedir(), '.cache', 'osprey'));
}

export function loadManifest(file = MANIFEST_PATH) {
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  const entries = [];
  for (const e of m.models ?? []) entries.push({...e, kind: 'models', file: `${e.name}.tflite`});
  for (const e of m.files ?? []) entries.push({...e, kind: 'files', file: e.name});
  for (const e of m.media ?? []) entries.push({...e, kind: 'media', file: e.name});
  for (const e of m.onnx_models ?? []) entries.push({...e, kind: 'onnx', file: `${e.name}.onnx`});
  return {raw: m, entries};
}

export function targetPath(entry, cache = cacheDir()) {
  return path.join(cache, entry.kind, entry.file);
}

/** Resolves NAMEs (model stem, file name or group name) to manifest entries. */
export function select(entries, names) {
  if (!names || names.length === 0) return entries;
  const out = [];
  for (const n of names) {
    const group = entries.filter((e) => e.kind === n);
    const hit = group.length ? group
      : entries.filter((e) => e.name === n || e.file === n || `${e.kind}/${e.file}` === n);
    if (hit.length === 0) throw new FetchError(`unknown zoo entry '${n}' (see zoo/models.json)`);
    for (const e of hit) if (!out.includes(e)) out.push(e);
  }
  return out;
}

// ---------------------------------------------------------------- helpers

function hashFile(file, algo) {
  const h = crypto.createHash(algo);
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h;
}
const sha256File = (f) => hashFile(f, 'sha256').digest('hex');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

function integrityOk(file, integrity) {
  const m = /^(sha512|sha384|sha256|sha1)-(.+)$/.exec(integrity ?? '');
  if (!m) throw new FetchError(`bad integrity string '${integrity}' in manifest`);
  return hashFile(file, m[1]).digest('base64') === m[2];
}

/** True when `file` exists with the expected size and sha256. */
function isValid(file, entry) {
  let st;
  try {
    st = fs.statSync(file);
  } catch {
    return false;
  }
  return st.isFile() && st.size === entry.size && sha256File(file) === entry.sha256;
}

function atomicWrite(dest, bytes) {
  fs.mkdirSync(path.dirname(dest), {recursive: true});
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-${process.pid}`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, dest);
  } catch (e) {
    fs.rmSync(tmp, {force: true});
    throw e;
  }
}

function mkTemp(cache) {
  fs.mkdirSync(cache, {recursive: true});
  return fs.mkdtempSync(path.join(cache, '.tmp-fetch-'));
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts});
  if (r.error) throw new FetchError(`cannot run ${cmd}: ${r.error.code ?? r.error.message}`);
  return r;
}

function lastLine(text) {
  const lines = String(text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}

// Installs the verified bytes of one entry, checking size and sha256 first.
function install(entry, bytes, cache, source, log) {
  if (bytes.length !== entry.size || sha256(bytes) !== entry.sha256) {
    throw new FetchError(`${entry.kind}/${entry.file}: checksum mismatch from ${source} `
      + `(got ${bytes.length} bytes sha256 ${sha256(bytes)}, manifest says ${entry.size} bytes sha256 ${entry.sha256})`);
  }
  const dest = targetPath(entry, cache);
  atomicWrite(dest, bytes);
  log(`fetched ${entry.kind}/${entry.file} (${bytes.length} bytes, ${source})`);
}

// ---------------------------------------------------------------- npm

function tarballName(pkg, version) {
  return `${pkg.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

// Returns the path of the verified tarball in CACHE/npm, downloading it with
// `npm pack` if it is missing or does not match its integrity.
export function ensureTarball(pkg, version, integrity, cache = cacheDir()) {
  const dir = path.join(cache, 'npm');
  const dest = path.join(dir, tarballName(pkg, version));
  if (fs.existsSync(dest) && integrityOk(dest, integrity)) return dest;
  fs.mkdirSync(dir, {recursive: true});
  const tmp = mkTemp(cache);
  try {
    const spec = `${pkg}@${version}`;
    const r = run('npm', ['pack', spec, '--pack-destination', tmp, '--json', '--ignore-scripts', '--loglevel=error'], {cwd: tmp});
    if (r.status !== 0) throw new FetchError(`npm pack ${spec} failed: ${lastLine(r.stderr) || `exit ${r.status}`}`);
    const got = fs.readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    if (got.length !== 1) throw new FetchError(`npm pack ${spec}: expected one tarball, found ${got.length}`);
    const file = path.join(tmp, got[0]);
    if (!integrityOk(file, integrity)) {
      throw new FetchError(`npm tarball ${spec} does not match its pinned integrity ${integrity}`);
    }
    fs.renameSync(file, dest);
    return dest;
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

function fetchNpmGroup(entries, cache, log) {
  const {package: pkg, version, integrity} = entries[0];
  const spec = `${pkg}@${version}`;
  for (const e of entries) {
    if (e.integrity !== integrity) throw new FetchError(`manifest lists two integrities for ${spec}`);
  }
  const tgz = ensureTarball(pkg, version, integrity, cache);
  const tmp = mkTemp(cache);
  try {
    const members = [...new Set(entries.map((e) => e.path))];
    const r = run('tar', ['-xzf', tgz, '-C', tmp, '--', ...members]);
    if (r.status !== 0) throw new FetchError(`extracting ${members.join(', ')} from ${path.basename(tgz)} failed: ${lastLine(r.stderr)}`);
    for (const e of entries) {
      const src = path.join(tmp, e.path);
      let bytes = fs.readFileSync(src);
      if (e.bundle) {
        const {start, end} = e.bundle;
        if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= bytes.length && start < end)) {
          throw new FetchError(`${e.kind}/${e.file}: bundle range [${start}, ${end}) is outside ${e.path} (${bytes.length} bytes)`);
        }
        bytes = bytes.subarray(start, end);
      }
      install(e, bytes, cache, spec, log);
    }
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

// ---------------------------------------------------------------- Debian

function aptDownload(pkg, version, dir) {
  const spec = `${pkg}=${version}`;
  const attempt = () => run('apt-get', ['download', '-q', spec], {cwd: dir});
  let r = attempt();
  if (r.status !== 0) {
    // Usually the package lists are missing or stale: refresh once and retry.
    const u = run('apt-get', ['update', '-q']);
    if (u.status !== 0) throw new FetchError(`apt-get download ${spec} failed (${lastLine(r.stderr)}); apt-get update failed: ${lastLine(u.stderr)}`);
    r = attempt();
    if (r.status !== 0) throw new FetchError(`apt-get download ${spec} failed: ${lastLine(r.stderr) || `exit ${r.status}`}`);
  }
  const debs = fs.readdirSync(dir).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new FetchError(`apt-get download ${spec}: expected one .deb, found ${debs.length}`);
  return path.join(dir, debs[0]);
}

// dpkg-deb --fsys-tarfile DEB | tar -x -C DIR -- MEMBERS...  (only the members
// are written to disk; the package's full file system is never unpacked)
function extractDeb(deb, dir, members) {
  const script = 'set -o pipefail; dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" -- "${@:3}"';
  const r = run('bash', ['-c', script, 'extract-deb', deb, dir, ...members]);
  if (r.status !== 0) {
    throw new FetchError(`extracting ${members.join(', ')} from ${path.basename(deb)} failed: ${lastLine(r.stderr) || `exit ${r.status}`}`);
  }
}

function fetchDebGroup(entries, cache, log) {
  const {deb: pkg, deb_version: version, deb_sha256: debSha} = entries[0];
  const spec = `${pkg}=${version}`;
  const tmp = mkTemp(cache);
  try {
    const dl = fs.mkdtempSync(path.join(tmp, 'deb-'));
    const deb = aptDownload(pkg, version, dl);
    if (debSha && sha256File(deb) !== debSha) {
      throw new FetchError(`${path.basename(deb)} does not match its pinned sha256 ${debSha}`);
    }
    const out = fs.mkdtempSync(path.join(tmp, 'x-'));
    const members = [...new Set(entries.map((e) => e.path))];
    extractDeb(deb, out, members);
    fs.rmSync(deb, {force: true});
    for (const e of entries) {
      install(e, fs.readFileSync(path.join(out, e.path)), cache, `debian ${spec}`, log);
    }
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

// ---------------------------------------------------------------- driver

/**
 * Makes sure every entry is present and valid in the cache.
 * @param {object[]} entries manifest entries (from loadManifest().entries)
 * @param {{cache?: string, log?: (line: string) => void}} [opts]
 * @returns {number} number of files fetched
 */
export function ensure(entries, {cache = cacheDir(), log = (l) => console.log(l)} = {}) {
  const missing = entries.filter((e) => !isValid(targetPath(e, cache), e));
  const groups = new Map();
  for (const e of missing) {
    let key;
    if (e.package) key = `npm:${e.package}@${e.version}`;
    else if (e.deb) key = `deb:${e.deb}=${e.deb_version}`;
    else throw new FetchError(`${e.kind}/${e.file}: manifest entry has neither package nor deb`);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(e);
  }
  let n = 0;
  const counted = (l) => { n++; log(l); };
  for (const [key, group] of groups) {
    if (key.startsWith('npm:')) fetchNpmGroup(group, cache, counted);
    else fetchDebGroup(group, cache, counted);
  }
  return n;
}

/** Returns cached paths for NAMEs, fetching them first when needed. */
export function pathsFor(names, opts = {}) {
  const {entries} = loadManifest();
  const sel = select(entries, names);
  ensure(sel, opts);
  return sel.map((e) => targetPath(e, opts.cache ?? cacheDir()));
}

function usage() {
  return 'usage: node zoo/fetch.mjs [--only NAME...] | --path NAME...\n'
    + '  NAME: a model name (e.g. pose_landmark_full), a file/media name (e.g. astronaut.png),\n'
    + '        or a group: models, files, media, onnx';
}

function main(argv) {
  let mode = 'fetch';
  const names = [];
  for (const a of argv) {
    if (a === '--only') mode = 'fetch';
    else if (a === '--path') mode = 'path';
    else if (a === '-h' || a === '--help') {
      console.log(usage());
      return;
    } else if (a.startsWith('-')) throw new FetchError(`unknown option ${a}\n${usage()}`);
    else names.push(a);
  }
  if (mode === 'path' && names.length === 0) throw new FetchError(`--path needs a NAME\n${usage()}`);
  if (argv.includes('--only') && names.length === 0) throw new FetchError(`--only needs a NAME\n${usage()}`);
  const {entries} = loadManifest();
  const sel = select(entries, names);
  if (mode === 'path') {
    ensure(sel, {log: (l) => process.stderr.write(`${l}\n`)});
    for (const e of sel) console.log(targetPath(e));
  } else {
    ensure(sel);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    const msg = e instanceof FetchError ? e.message : String(e?.message ?? e).split('\n')[0];
    process.stderr.write(`fetch: ${msg}\n`);
    process.exit(1);
  }
}
