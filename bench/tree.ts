/**
 * The deterministic tree the benches commit, check out and pull (bench/run.ts, bench/pull.ts):
 * about 30k files and 1 GB at scale 1, small text and random files, a few large ones, symlinks.
 */
import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prng } from './lib/shapes.js';

function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}

// The PRNG is the bench shapes' own (one generator of random trees' randomness for every bench).
export { prng };

export const KEY = createHash('sha256').update('ostree-ts-bench').digest().subarray(0, 16);
export const ZEROS = Buffer.alloc(1 << 20);

/** Deterministic pseudo-random bytes for file number `n` (AES-CTR keystream). */
export function writeRandomFile(file: string, n: number, size: number, mode: number): void {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(n, 0);
  const c = createCipheriv('aes-128-ctr', KEY, iv);
  const fd = fs.openSync(file, 'w', mode);
  try {
    let left = size;
    while (left > 0) {
      const chunk = Math.min(left, ZEROS.length);
      fs.writeSync(fd, c.update(ZEROS.subarray(0, chunk)));
      left -= chunk;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(file, mode);
}

export const WORDS = ['alpha', 'boot', 'config', 'daemon', 'etc', 'font', 'glib', 'header', 'icon', 'journal',
  'kernel', 'locale', 'module', 'network', 'ostree', 'python', 'query', 'runtime', 'share', 'theme',
  'udev', 'vendor', 'wayland', 'xdg', 'yaml', 'zlib'];

export function textContent(rnd: () => number, size: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  while (len < size) {
    const w = `${WORDS[Math.floor(rnd() * WORDS.length)]}${rnd() < 0.1 ? '\n' : ' '}`;
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

export interface TreeInfo { path: string; files: number; dirs: number; symlinks: number; bytes: number; generated: boolean }

export function generateTree(root: string, scale: number): TreeInfo {
  const rnd = prng(0x05ee7ee5);
  const nDirs = Math.max(8, Math.round(1500 * scale));
  const nSmall = Math.max(20, Math.round(26000 * scale));
  const nMedium = Math.max(4, Math.round(3950 * scale));
  const nLarge = Math.max(1, Math.round(50 * scale));
  const nLinks = Math.max(4, Math.round(1500 * scale));
  rmrf(root);
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, 0o755);

  const dirs: string[] = [''];
  const depth = new Map<string, number>([['', 0]]);
  for (let i = 1; i < nDirs; i++) {
    let parent = dirs[Math.floor(rnd() * dirs.length)]!;
    if ((depth.get(parent) ?? 0) >= 7) parent = '';
    const name = `${WORDS[Math.floor(rnd() * WORDS.length)]}-${i}`;
    const rel = parent ? `${parent}/${name}` : name;
    fs.mkdirSync(path.join(root, rel), { mode: rnd() < 0.03 ? 0o700 : 0o755 });
    dirs.push(rel);
    depth.set(rel, (depth.get(parent) ?? 0) + 1);
  }

  let bytes = 0;
  let files = 0;
  const fileRels: string[] = [];
  const smallContents: Buffer[] = [];
  const pickMode = (): number => { const r = rnd(); return r < 0.1 ? 0o755 : r < 0.12 ? 0o600 : 0o644; };
  const place = (prefix: string, i: number): string => {
    const d = dirs[Math.floor(rnd() * dirs.length)]!;
    const name = `${prefix}${i}.${['so', 'py', 'h', 'txt', 'conf', 'png', 'mo'][Math.floor(rnd() * 7)]}`;
    return d ? `${d}/${name}` : name;
  };

  for (let i = 0; i < nSmall; i++) {
    const rel = place('s', i);
    const mode = pickMode();
    const r = rnd();
    let size: number;
    let content: Buffer;
    if (r < 0.01) {
      content = Buffer.alloc(0);
    } else if (r < 0.04 && smallContents.length > 0) {
      content = smallContents[Math.floor(rnd() * smallContents.length)]!; // duplicate content
    } else {
      size = Math.floor(Math.exp(Math.log(64) + rnd() * (Math.log(16384) - Math.log(64))));
      if (rnd() < 0.5) {
        content = textContent(rnd, size);
      } else {
        const iv = Buffer.alloc(16); iv.writeUInt32BE(0x10000000 + i, 0);
        content = createCipheriv('aes-128-ctr', KEY, iv).update(ZEROS.subarray(0, size));
      }
      if (smallContents.length < 2000) smallContents.push(content);
    }
    fs.writeFileSync(path.join(root, rel), content, { mode });
    fs.chmodSync(path.join(root, rel), mode);
    bytes += content.length;
    files++;
    fileRels.push(rel);
  }
  for (let i = 0; i < nMedium; i++) {
    const rel = place('m', i);
    const size = Math.floor(16384 + rnd() * rnd() * 600 * 1024);
    writeRandomFile(path.join(root, rel), 0x20000000 + i, size, pickMode());
    bytes += size;
    files++;
    fileRels.push(rel);
  }
  for (let i = 0; i < nLarge; i++) {
    const rel = place('L', i);
    const size = Math.floor((1 + rnd() * 13) * 1024 * 1024);
    writeRandomFile(path.join(root, rel), 0x30000000 + i, size, 0o644);
    bytes += size;
    files++;
    fileRels.push(rel);
  }
  let symlinks = 0;
  for (let i = 0; i < nLinks; i++) {
    const d = dirs[Math.floor(rnd() * dirs.length)]!;
    const r = rnd();
    let target: string;
    if (r < 0.6) {
      const f = fileRels[Math.floor(rnd() * fileRels.length)]!;
      target = path.relative(path.join('/', d), path.join('/', f)) || '.';
    } else if (r < 0.8) {
      target = `/usr/lib/${WORDS[Math.floor(rnd() * WORDS.length)]}.so.${i}`;
    } else if (r < 0.9) {
      target = `dangling-${i}`;
    } else {
      target = '..';
    }
    fs.symlinkSync(target, path.join(root, d, `l${i}`));
    symlinks++;
  }
  return { path: root, files, dirs: nDirs, symlinks, bytes, generated: true };
}
