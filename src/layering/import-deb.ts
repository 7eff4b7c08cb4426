/**
 * Importing a .deb as its own commit on `apt-ostree/pkg/<name>/<version.arch>`: the files as
 * the real `dpkg-deb -x` unpacks them, after the usr-merge (/bin, /sbin, /lib* -> /usr/...),
 * /etc moved to /usr/etc, and /var turned into a tmpfiles.d snippet (var-tmpfiles.ts). A
 * package already imported (same ref, same .deb sha256) is not imported again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { Variant, type Repo } from '../repo/repo.js';
import { rmrf } from '../util/tree.js';
import { mkdirp } from '../util/fs.js';
import type { DebInfo } from './deb.js';
import { runChecked } from './exec.js';
import { META_PKG_ARCH, META_PKG_NAME, META_PKG_VERSION, pkgRef } from './names.js';
import { varToTmpfiles } from './var-tmpfiles.js';
import { workDir } from './workdir.js';

const META_PKG_SHA256 = 'apt-ostree.pkg.sha256';
const USR_MERGED = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** Move `src` into `dst`, merging directories; a file in both places is a packaging error. */
function mergeMove(src: string, dst: string): void {
  const d = fs.lstatSync(dst, { throwIfNoEntry: false });
  if (!d) { mkdirp(path.dirname(dst)); fs.renameSync(src, dst); return; }
  const s = fs.lstatSync(src);
  if (!(d.isDirectory() && s.isDirectory())) {
    throw new OstreeError('ECORRUPT', `Package ships both ${src} and ${dst} (usr-merge conflict)`);
  }
  for (const n of fs.readdirSync(src)) mergeMove(path.join(src, n), path.join(dst, n));
  fs.rmdirSync(src);
}

/** Reshape an unpacked package into the layout of an OSTree commit. */
export function ostreeifyPackageTree(root: string, name: string): void {
  for (const top of USR_MERGED) {
    const p = path.join(root, top);
    if (fs.lstatSync(p, { throwIfNoEntry: false })?.isDirectory()) mergeMove(p, path.join(root, 'usr', top));
  }
  const etc = path.join(root, 'etc');
  if (fs.lstatSync(etc, { throwIfNoEntry: false })) mergeMove(etc, path.join(root, 'usr/etc'));
  varToTmpfiles(root, `usr/lib/tmpfiles.d/apt-ostree-pkg-${name}.conf`);
}

function storedSha256(repo: Repo, csum: string): string | null {
  const v = repo.loadCommitSync(csum).metadata.find(([k]) => k === META_PKG_SHA256)?.[1];
  return v && v.type === 's' ? (v.value as string) : null;
}

/** The package's commit (imported now unless the ref already holds this very .deb). */
export async function importDeb(repo: Repo, deb: DebInfo): Promise<{ ref: string; checksum: string; imported: boolean }> {
  const ref = pkgRef(deb.name, deb.version, deb.arch);
  const existing = await repo.resolveRevOptional(ref);
  if (existing !== null && storedSha256(repo, existing) === deb.sha256) return { ref, checksum: existing, imported: false };
  const dir = workDir(repo, `import-${deb.name}`);
  try {
    const root = path.join(dir, 'root');
    fs.mkdirSync(root, { mode: 0o755 });
    await runChecked('dpkg-deb', ['-x', deb.path, root], `Unpacking ${deb.path}`, 'ECORRUPT', { timeoutMs: 300_000 });
    fs.chmodSync(root, 0o755);
    ostreeifyPackageTree(root, deb.name);
    const { checksum } = await repo.commit([{ kind: 'dir', path: root }], {
      branch: ref, parent: null, subject: `${deb.name} ${deb.version} ${deb.arch}`,
      metadata: [
        [META_PKG_NAME, new Variant('s', deb.name)], [META_PKG_VERSION, new Variant('s', deb.version)],
        [META_PKG_ARCH, new Variant('s', deb.arch)], [META_PKG_SHA256, new Variant('s', deb.sha256)],
      ],
    });
    return { ref, checksum, imported: true };
  } finally {
    rmrf(dir);
  }
}
