/**
 * When a built image may be reused: everything that decides the image's content is an input, each
 * input is hashed on its own (so a rebuild can say which one changed), and the image's key is the
 * hash of them all.  An image is reused only while every input hashes the same.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_DIR } from './common.js';
import { baseTarballPath, findKernelDeb } from './caches.js';
import { cachedEfiDebs } from './efi-chain.js';

/**
 * Bump to force a rebuild of every image when the recipe changes in a way its compiled files do
 * not show (they are hashed too).
 */
const RECIPE_VERSION = 2;

/**
 * The compiled modules that build the image (scenarios and launcher changes keep the image).  Not
 * caches.js: what it fetches is an input by itself (`base`, `kernel`).
 */
const RECIPE_MODULES = ['image.js', 'tree.js', 'disk.js', 'esp.js', 'names.js'];

export type Inputs = Record<string, string>;

/** What each input is, for the "rebuilding: … changed" line. */
const LABELS: Record<string, string> = {
  cli: 'the compiled CLI (dist/src)',
  nodeModules: 'the npm packages (package-lock.json)',
  node: 'the Node binary',
  boot: 'boot/',
  guest: 'vm-harness/guest/',
  recipe: 'the image recipe (vm-harness)',
  base: 'the cached Debian base tree',
  kernel: 'the cached kernel package',
  grub: "the host's GRUB",
  efi: 'the cached signed shim and GRUB packages',
  options: 'OSTREE_CLI or the kernel arguments',
};

/** Hash of a directory's files (paths, kinds, exec bits, contents), walked with an explicit stack. */
function hashTree(root: string, skip: (rel: string) => boolean = () => false): string {
  const h = createHash('sha256');
  if (!fs.existsSync(root)) return 'missing';
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    // Reverse onto the stack so the walk (and so the hash) follows sorted order.
    for (const e of entries.reverse()) {
      const r = path.join(rel, e.name);
      if (skip(r)) continue;
      const abs = path.join(root, r);
      if (e.isDirectory()) { h.update(`d ${r}\0`); stack.push(r); }
      else if (e.isSymbolicLink()) h.update(`l ${r} ${fs.readlinkSync(abs)}\0`);
      else if (e.isFile()) {
        h.update(`f ${r} ${(fs.statSync(abs).mode & 0o111) !== 0 ? 'x' : '-'}\0`);
        h.update(fs.readFileSync(abs));
      }
    }
  }
  return h.digest('hex');
}

function hashFiles(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${path.basename(f)}\0`);
    try { h.update(fs.readFileSync(f)); } catch { h.update('missing'); }
  }
  return h.digest('hex');
}

/** A large cached file is named by its content (name, size, mtime): hashing it would take seconds. */
function identity(file: string | null): string {
  if (!file) return 'missing';
  try {
    const st = fs.statSync(file);
    return `${path.basename(file)} ${st.size} ${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export function imageInputs(extraKargs: string[]): Inputs {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {
    cli: hashTree(path.join(PROJECT_DIR, 'dist/src'), (r) => r.endsWith('.map')),
    nodeModules: hashFiles([path.join(PROJECT_DIR, 'package-lock.json')]),
    node: `${process.version} ${identity(process.execPath)}`,
    boot: hashTree(path.join(PROJECT_DIR, 'boot')),
    guest: hashTree(path.join(PROJECT_DIR, 'vm-harness/guest')),
    recipe: `${RECIPE_VERSION} ${hashFiles(RECIPE_MODULES.map((m) => path.join(here, m)))}`,
    base: identity(baseTarballPath()),
    kernel: identity(findKernelDeb()),
    grub: hashFiles(['/usr/lib/grub/i386-pc/modinfo.sh', '/usr/lib/grub/i386-pc/boot.img', '/usr/lib/grub/i386-pc/kernel.img']),
    efi: cachedEfiDebs().map(identity).join(', '),
    options: JSON.stringify({ ostreeCli: process.env['OSTREE_CLI'] ?? 'ours', extraKargs }),
  };
}

export function keyOf(inputs: Inputs): string {
  const h = createHash('sha256');
  for (const k of Object.keys(inputs).sort()) h.update(`${k}=${inputs[k]}\n`);
  return h.digest('hex').slice(0, 16);
}

/** The inputs that differ, described for a person. */
export function changedInputs(before: Inputs, now: Inputs): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...names].filter((k) => before[k] !== now[k]).map((k) => LABELS[k] ?? k);
}
