/**
 * The Secure Boot chain Debian signs, taken from its packages (not installed on the host):
 * `shim-signed` (shimx64.efi, signed by Microsoft's UEFI CA, carrying Debian's CA) and
 * `grub-efi-amd64-signed` (grubx64.efi, signed by Debian).  `apt-get download` into VM_CACHE_DIR,
 * `dpkg-deb -x` beside it; fetched once per machine, like the kernel.  (The kernel package the
 * image uses, linux-image-*-amd64, is Debian's signed one: caches.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, mkdirp, rmrf, run } from './common.js';
import { done, phase } from './progress.js';

export interface EfiChain {
  /** \EFI\BOOT\BOOTX64.EFI */
  shim: string;
  /** \EFI\BOOT\grubx64.efi */
  grub: string;
  /** the .deb files (their names carry the versions) */
  debs: string[];
}

const PACKAGES = [
  { pkg: 'shim-signed', file: 'usr/lib/shim/shimx64.efi.signed' },
  { pkg: 'grub-efi-amd64-signed', file: 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed' },
] as const;

function cachedDeb(pkg: string): string | null {
  let names: string[];
  try { names = fs.readdirSync(CACHE_DIR); } catch { return null; }
  const deb = names.filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')).sort().at(-1);
  return deb ? path.join(CACHE_DIR, deb) : null;
}

/** The cached .debs of the chain (null if one is not downloaded yet): an image input. */
export function cachedEfiDebs(): Array<string | null> {
  return PACKAGES.map(({ pkg }) => cachedDeb(pkg));
}

async function extracted(deb: string, file: string): Promise<string> {
  const dir = deb.replace(/\.deb$/, '.x');
  const out = path.join(dir, file);
  if (!fs.existsSync(out)) {
    rmrf(dir);
    await run('dpkg-deb', ['-x', deb, dir + '.tmp']);
    fs.renameSync(dir + '.tmp', dir);
  }
  if (!fs.existsSync(out)) throw new Error(`${path.basename(deb)} has no ${file}`);
  return out;
}

/** Shim and GRUB, signed, from the cache (downloaded on the first run). */
export async function ensureEfiChain(): Promise<EfiChain> {
  const missing = PACKAGES.filter(({ pkg }) => !cachedDeb(pkg)).map(({ pkg }) => pkg);
  if (missing.length > 0) {
    mkdirp(CACHE_DIR);
    await phase('signed EFI boot chain', async () => {
      await run('apt-get', ['download', ...missing], { cwd: CACHE_DIR });
    }, `apt-get download ${missing.join(' ')} (first run only; cached afterwards)`);
  }
  const debs = PACKAGES.map(({ pkg }) => {
    const d = cachedDeb(pkg);
    if (!d) throw new Error(`apt-get download ${pkg} left no .deb in ${CACHE_DIR}`);
    return d;
  });
  const [shim, grub] = await Promise.all(PACKAGES.map(({ file }, i) => extracted(debs[i]!, file)));
  if (missing.length === 0) done('signed EFI boot chain', `cached: ${debs.map((d) => path.basename(d)).join(', ')}`);
  return { shim: shim!, grub: grub!, debs };
}
