/**
 * Local .deb files given to `install ./x.deb` or `override replace`: kept in the stateroot's
 * /var/lib/apt-ostree/local (named by sha256) so that upgrade and rebase can install them again
 * on a new base, as rpm-ostree keeps them for `requested-local`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import { staterootVarRel } from '../sysroot/layout.js';
import { mkdirp } from '../util/fs.js';
import { nevra, readDeb, type DebInfo } from './deb.js';
import type { LocalRef } from './layer-origin.js';

export function localStore(sysroot: Sysroot, stateroot: string): string {
  return sysroot.abs(path.join(staterootVarRel(stateroot), 'lib/apt-ostree/local'));
}

export function aptCacheDir(sysroot: Sysroot, stateroot: string): string {
  return sysroot.abs(path.join(staterootVarRel(stateroot), 'cache/apt-ostree'));
}

/** Read `file` and keep a copy in the store; returns the stored package. */
export async function storeLocalDeb(sysroot: Sysroot, stateroot: string, file: string): Promise<{ deb: DebInfo; ref: LocalRef }> {
  const deb = await readDeb(file);
  const dir = localStore(sysroot, stateroot);
  mkdirp(dir);
  const dest = path.join(dir, `${deb.sha256}.deb`);
  if (!fs.existsSync(dest)) {
    fs.copyFileSync(file, `${dest}.tmp`);
    fs.renameSync(`${dest}.tmp`, dest);
  }
  return { deb: { ...deb, path: dest }, ref: { sha256: deb.sha256, nevra: nevra(deb) } };
}

/** The stored .debs for these origin entries (ENOENT naming one that is gone). */
export async function loadLocalDebs(sysroot: Sysroot, stateroot: string, refs: LocalRef[]): Promise<DebInfo[]> {
  const out: DebInfo[] = [];
  for (const r of refs) {
    const p = path.join(localStore(sysroot, stateroot), `${r.sha256}.deb`);
    if (!fs.existsSync(p)) throw new OstreeError('ENOENT', `The local package ${r.nevra} (${p}) is no longer stored; install it again from its file`);
    out.push(await readDeb(p));
  }
  return out;
}

/** True for an argument naming a file rather than a package (`./x.deb`, `/tmp/y.deb`). */
export function isDebPath(arg: string): boolean {
  return arg.endsWith('.deb') || arg.includes('/');
}
