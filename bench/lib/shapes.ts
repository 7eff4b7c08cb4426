/**
 * The tree shapes the benchmark runs every operation on, so that no result holds for one tree
 * only. Each shape is a complete OS tree (usr/, usr/etc, a kernel in usr/lib/modules) that
 * `admin deploy` accepts, cached under $BENCH_DIR/tree-s<scale>-<shape>:
 *
 *   small  many small files: 40k files of 0-2 KB in 2,500 directories (at BENCH_SCALE=1)
 *   mixed  20k files, 60% under 4 KB, the rest 4-500 KB, ~800 MB in 200 directories
 *   real   the guest image's tree: the debootstrap root the VM harness caches
 *          ($VM_CACHE_DIR/debootstrap-*.tar.zst: its /usr, its /etc as /usr/etc), not scaled;
 *          BENCH_REAL_TREE=/some/usr uses that directory as /usr instead
 *
 * Generated content is deterministic (a seeded PRNG, AES-CTR keystreams), so every run and both
 * tools see the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log, rmrf } from './proc.js';

export interface TreeInfo { files: number; dirs: number; symlinks: number; bytes: number }
export interface Shape { name: string; root: string; info: TreeInfo; describe: string }

const SHAPE_VERSION = 2;
export const KVER = '6.1.0-bench';

/** mulberry32: small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY = createHash('sha256').update('ostree-ts-bench').digest().subarray(0, 16);
const ZEROS = Buffer.alloc(1 << 20);

/** `size` deterministic pseudo-random bytes for stream `n`. */
export function randomBytes(n: number, size: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(n >>> 0, 0);
  const c = createCipheriv('aes-128-ctr', KEY, iv);
  const parts: Buffer[] = [];
  for (let left = size; left > 0; left -= ZEROS.length) parts.push(c.update(ZEROS.subarray(0, Math.min(left, ZEROS.length))));
  return Buffer.concat(parts);
}

const WORDS = ['alpha', 'boot', 'config', 'daemon', 'font', 'glib', 'header', 'icon', 'journal', 'kernel', 'locale',
  'module', 'network', 'python', 'runtime', 'share', 'theme', 'udev', 'vendor', 'xdg', 'yaml', 'zlib'];

function textBytes(rnd: () => number, size: number): Buffer {
  let s = '';
  while (s.length < size) s += `${WORDS[Math.floor(rnd() * WORDS.length)]}${rnd() < 0.1 ? '\n' : ' '}`;
  return Buffer.from(s.slice(0, size));
}

function logUniform(rnd: () => number, lo: number, hi: number): number {
  return Math.floor(Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo))));
}

interface GenSpec { seed: number; dirs: number; files: number; size: (rnd: () => number) => number; symlinks: number; maxDepth: number }

/** A generated tree under `root` (made here). */
function generate(root: string, spec: GenSpec): TreeInfo {
  const rnd = prng(spec.seed);
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  const dirs: string[] = [''];
  const depth = new Map<string, number>([['', 0]]);
  for (let i = 1; i < spec.dirs; i++) {
    let parent = dirs[Math.floor(rnd() * dirs.length)]!;
    if ((depth.get(parent) ?? 0) >= spec.maxDepth) parent = '';
    const rel = parent ? `${parent}/${WORDS[i % WORDS.length]}-${i}` : `${WORDS[i % WORDS.length]}-${i}`;
    fs.mkdirSync(path.join(root, rel), { mode: rnd() < 0.03 ? 0o700 : 0o755 });
    dirs.push(rel);
    depth.set(rel, (depth.get(parent) ?? 0) + 1);
  }
  let bytes = 0;
  const rels: string[] = [];
  for (let i = 0; i < spec.files; i++) {
    const d = dirs[Math.floor(rnd() * dirs.length)]!;
    const rel = `${d ? d + '/' : ''}f${i}.${['so', 'py', 'h', 'txt', 'conf', 'png', 'mo'][i % 7]}`;
    const r = rnd();
    const mode = r < 0.1 ? 0o755 : r < 0.12 ? 0o600 : 0o644;
    const size = spec.size(rnd);
    const data = rnd() < 0.3 ? textBytes(rnd, size) : randomBytes(0x1000000 + i, size);
    fs.writeFileSync(path.join(root, rel), data, { mode });
    fs.chmodSync(path.join(root, rel), mode);
    bytes += size;
    rels.push(rel);
  }
  for (let i = 0; i < spec.symlinks; i++) {
    const d = dirs[Math.floor(rnd() * dirs.length)]!;
    const f = rels[Math.floor(rnd() * rels.length)]!;
    const target = rnd() < 0.7 ? path.relative(path.join('/', d), path.join('/', f)) : `/usr/lib/missing-${i}.so`;
    fs.symlinkSync(target, path.join(root, d, `l${i}`));
  }
  return { files: spec.files, dirs: spec.dirs, symlinks: spec.symlinks, bytes };
}

/** The parts every OS tree needs for `admin deploy`: a kernel, an initramfs, /usr/etc, os-release. */
function addOsParts(root: string): void {
  const mod = path.join(root, 'usr', 'lib', 'modules', KVER);
  fs.mkdirSync(mod, { recursive: true });
  fs.writeFileSync(path.join(mod, 'vmlinuz'), randomBytes(0x40000001, 4 << 20), { mode: 0o644 });
  fs.writeFileSync(path.join(mod, 'initramfs.img'), randomBytes(0x40000002, 2 << 20), { mode: 0o644 });
  const etc = path.join(root, 'usr', 'etc');
  fs.mkdirSync(etc, { recursive: true });
  const osr = path.join(root, 'usr', 'lib', 'os-release');
  if (!fs.existsSync(osr)) fs.writeFileSync(osr, 'NAME="Bench OS"\nID=benchos\nVERSION_ID=1\n');
  for (const [n, v] of [['hostname', 'benchos\n'], ['fstab', '# empty\n']] as const) {
    if (!fs.existsSync(path.join(etc, n))) fs.writeFileSync(path.join(etc, n), v);
  }
  for (const d of ['bin', 'lib', 'sbin']) {
    if (!fs.existsSync(path.join(root, d)) && fs.existsSync(path.join(root, 'usr', d))) fs.symlinkSync(`usr/${d}`, path.join(root, d));
  }
}

function scaled(n: number, scale: number, min: number): number {
  return Math.max(min, Math.round(n * scale));
}

function buildSmall(root: string, scale: number): TreeInfo {
  const info = generate(path.join(root, 'usr', 'share', 'bench'), {
    seed: 0x5a11, dirs: scaled(2500, scale, 10), files: scaled(40000, scale, 100), symlinks: scaled(2000, scale, 5), maxDepth: 6,
    size: (rnd) => (rnd() < 0.02 ? 0 : logUniform(rnd, 16, 2048)),
  });
  addOsParts(root);
  return info;
}

function buildMixed(root: string, scale: number): TreeInfo {
  const info = generate(path.join(root, 'usr', 'share', 'bench'), {
    seed: 0x3113ed, dirs: scaled(200, scale, 8), files: scaled(20000, scale, 100), symlinks: scaled(200, scale, 4), maxDepth: 4,
    size: (rnd) => (rnd() < 0.6 ? (rnd() < 0.01 ? 0 : logUniform(rnd, 32, 4095)) : logUniform(rnd, 4096, 500 * 1024)),
  });
  addOsParts(root);
  return info;
}

function countTree(root: string): TreeInfo {
  const info: TreeInfo = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { info.dirs++; walk(p); } else if (e.isSymbolicLink()) info.symlinks++;
      else if (e.isFile()) { info.files++; info.bytes += fs.lstatSync(p).size; }
    }
  };
  walk(root);
  return info;
}

function buildReal(root: string): TreeInfo {
  const explicit = process.env['BENCH_REAL_TREE'];
  fs.mkdirSync(root, { recursive: true });
  if (explicit) {
    execFileSync('cp', ['-a', path.resolve(explicit), path.join(root, 'usr')]);
  } else {
    const cache = process.env['VM_CACHE_DIR'] ?? '/var/cache/ostree-ts-vm';
    const tarball = fs.existsSync(cache) ? fs.readdirSync(cache).find((n) => /^debootstrap-.*\.tar\.zst$/.test(n)) : undefined;
    if (!tarball) throw new Error(`no guest tree: no debootstrap-*.tar.zst in ${cache} (run make vm-demo once, or set BENCH_REAL_TREE=/usr)`);
    execFileSync('tar', ['--zstd', '-xpf', path.join(cache, tarball), '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', root, './usr', './etc']);
    fs.rmSync(path.join(root, 'usr', 'etc'), { recursive: true, force: true });
    fs.renameSync(path.join(root, 'etc'), path.join(root, 'usr', 'etc'));
  }
  addOsParts(root);
  return countTree(root);
}

const BUILDERS: Record<string, { describe: string; scaled: boolean; build: (root: string, scale: number) => TreeInfo }> = {
  small: { describe: 'many small files (0-2 KB)', scaled: true, build: buildSmall },
  mixed: { describe: 'mixed: 60% < 4 KB, rest 4-500 KB', scaled: true, build: buildMixed },
  real: { describe: "the guest image's /usr and /etc", scaled: false, build: (root) => buildReal(root) },
};

export const SHAPE_NAMES = Object.keys(BUILDERS);

/** Shape `name` at `scale`, built once into `work` (reused while its stamp matches). */
export function prepareShape(work: string, name: string, scale: number): Shape {
  const b = BUILDERS[name];
  if (!b) throw new Error(`unknown shape '${name}' (known: ${SHAPE_NAMES.join(', ')})`);
  const id = b.scaled ? `tree-s${scale}-${name}` : `tree-${name}${process.env['BENCH_REAL_TREE'] ? '-custom' : ''}`;
  const root = path.join(work, id);
  const stamp = `${root}.stamp.json`;
  try {
    const s = JSON.parse(fs.readFileSync(stamp, 'utf8')) as { version: number; info: TreeInfo; src?: string };
    if (s.version === SHAPE_VERSION && fs.existsSync(root) && s.src === (process.env['BENCH_REAL_TREE'] ?? '')) {
      return { name, root, info: s.info, describe: b.describe };
    }
  } catch { /* build it */ }
  log(`building shape ${name} in ${root} ...`);
  rmrf(root);
  fs.rmSync(stamp, { force: true });
  const t0 = Date.now();
  const info = b.build(root, scale);
  log(`shape ${name}: ${info.files} files, ${info.dirs} dirs, ${info.symlinks} symlinks, ${(info.bytes / 1048576).toFixed(0)} MB (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  fs.writeFileSync(stamp, JSON.stringify({ version: SHAPE_VERSION, info, src: process.env['BENCH_REAL_TREE'] ?? '' }));
  return { name, root, info, describe: b.describe };
}

/** Regular files of `root` (relative paths, sorted), for picking which ones an update changes. */
export function regularFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile() && !r.startsWith('usr/lib/modules/')) out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

/**
 * An overlay directory for `ostree commit --tree=ref=BASE --tree=dir=OVERLAY`: a fraction of
 * `tree`'s regular files with new contents (same size, mode and owner); the directories on the
 * way keep the tree's modes and owners so the overlay changes nothing else. Returns the count.
 */
export function makeOverlay(tree: string, files: string[], out: string, seed: number, fraction: number): number {
  rmrf(out);
  const rnd = prng(seed);
  const picked = files.filter(() => rnd() < fraction);
  const copyDirMeta = (rel: string): void => {
    const st = fs.lstatSync(path.join(tree, rel));
    const p = path.join(out, rel);
    fs.mkdirSync(p, { recursive: true });
    fs.chownSync(p, st.uid, st.gid);
    fs.chmodSync(p, st.mode & 0o7777);
  };
  copyDirMeta('');
  for (const [i, rel] of picked.entries()) {
    const parts = rel.split('/');
    for (let k = 1; k < parts.length; k++) copyDirMeta(parts.slice(0, k).join('/'));
    const st = fs.lstatSync(path.join(tree, rel));
    const p = path.join(out, rel);
    fs.writeFileSync(p, randomBytes(seed * 1000003 + i, Math.max(1, st.size)));
    fs.chownSync(p, st.uid, st.gid);
    fs.chmodSync(p, st.mode & 0o7777);
  }
  return picked.length;
}
