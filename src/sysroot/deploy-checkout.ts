/**
 * The checkout `admin deploy` makes of a commit into a new deployment directory (§1.3 step 1):
 * a hardlink farm of the repository's objects, as `Repo.checkout(csum, dir, {whiteouts: true})`
 * makes it, but specialised for that one case so it costs little more than the link(2) calls:
 *
 * - only `bare` and `bare-user-only` repositories, where every file (and, for `bare`, every
 *   symlink) object is hardlinked as is, with no per-file header to read;
 * - paths built by concatenation, dirtrees decoded with fsck's allocation-light strict parser
 *   (names validated: no '/', '.', '..', sorted), dirmetas decoded once per checksum;
 * - directory metadata applied after the directory is filled (post-order), as Repo.checkout:
 *   owner, xattrs (unless core.disable-xattrs), mode, mtime 0;
 * - `.ostree-wh.NAME` entries become overlayfs whiteouts (char device 0:0 named NAME).
 *
 * Anything else — other repo modes, or a hardlink the kernel refuses (EXDEV, EMLINK, EPERM) —
 * falls back to Repo.checkout (after removing the partial tree), which copies where needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import * as libc from '../../native-bindings/libc.js';
import type { Repo } from '../repo/repo.js';
import type { DirMeta } from '../repo/objects.js';
import { rmrf } from './fsutil.js';

const WHITEOUT_PREFIX = '.ostree-wh.';
const S_IFCHR = 0o020000;

class NeedFallback extends Error {}

/** What the last checkoutDeployment call did (for tests and tracing). */
export let lastDeployCheckout: 'fast' | 'fallback' | 'generic' = 'generic';

/** Check out commit `csum` of `repo` into `dest` (which must not exist) for a deployment. */
export async function checkoutDeployment(repo: Repo, csum: string, dest: string): Promise<void> {
  if (repo.mode !== 'bare' && repo.mode !== 'bare-user-only') {
    lastDeployCheckout = 'generic';
    await repo.checkout(csum, dest, { whiteouts: true });
    return;
  }
  const abs = path.resolve(dest);
  try {
    const { parseCommit, parseDirMeta } = await import('../repo/objects.js');
    const { parseDirTreeStrict } = await import('../repo/fsck.js');
    const { rememberCommitClosure } = await import('../repo/prune.js');
    const fc = new FastCheckout(repo, parseDirMeta, parseDirTreeStrict);
    fc.run(parseCommit(readObject(repo, csum, 'commit'), `commit ${csum}`), abs);
    // The checkout read the commit's whole tree: the cleanup's prune can reuse that walk.
    fc.reachable.add(`${csum}.commit`);
    rememberCommitClosure(repo, csum, fc.reachable);
    lastDeployCheckout = 'fast';
  } catch (e) {
    if (!(e instanceof NeedFallback)) throw e;
    rmrf(abs);
    lastDeployCheckout = 'fallback';
    await repo.checkout(csum, abs, { whiteouts: true });
  }
}

function objectFile(repo: Repo, checksum: string, ext: string): string {
  return `${repo.path}/objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${ext}`;
}

function readObject(repo: Repo, checksum: string, type: 'commit' | 'dirtree' | 'dirmeta'): Buffer {
  try {
    return fs.readFileSync(objectFile(repo, checksum, type));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${checksum}.${type} not found in repository ${repo.path}`);
    throw e;
  }
}

class FastCheckout {
  private readonly metas = new Map<string, DirMeta>();
  private readonly finalizers: Array<[string, DirMeta]> = [];
  private readonly xattrs: boolean;
  /** Every object the checkout used, as prune names them (`<checksum>.<type>`). */
  readonly reachable = new Set<string>();

  constructor(
    private readonly repo: Repo,
    private readonly parseDirMeta: (data: Buffer, name: string) => DirMeta,
    private readonly parseDirTree: (data: Buffer, name: string) => { files: Array<{ name: string; checksum: string }>; dirs: Array<{ name: string; treeChecksum: string; metaChecksum: string }> },
  ) {
    this.xattrs = !repo.config.getBoolean('core', 'disable-xattrs', false);
  }

  run(commit: { rootTree: string; rootMeta: string }, dest: string): void {
    try {
      fs.mkdirSync(dest, { mode: 0o700 });
    } catch (e) {
      if (isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `checkout destination '${dest}' already exists`);
      throw e;
    }
    this.reachable.add(`${commit.rootMeta}.dirmeta`);
    this.dir(commit.rootTree, commit.rootMeta, dest);
    // Post-order: a read-only directory gets its mode only after it was filled.
    for (const [dir, m] of this.finalizers) {
      fs.lchownSync(dir, m.uid, m.gid);
      if (this.xattrs) for (const [n, v] of m.xattrs) libc.lsetxattr(dir, n, v);
      fs.chmodSync(dir, m.mode & 0o7777);
      fs.utimesSync(dir, 0, 0); // as upstream: checked-out directories get mtime 0
    }
  }

  private meta(checksum: string): DirMeta {
    let m = this.metas.get(checksum);
    if (!m) {
      m = this.parseDirMeta(readObject(this.repo, checksum, 'dirmeta'), `${checksum}.dirmeta`);
      this.metas.set(checksum, m);
    }
    return m;
  }

  private dir(tree: string, metaChecksum: string, dest: string): void {
    const m = this.meta(metaChecksum);
    const t = this.parseDirTree(readObject(this.repo, tree, 'dirtree'), `${tree}.dirtree`);
    const repoObjects = `${this.repo.path}/objects/`;
    const reachable = this.reachable;
    reachable.add(`${tree}.dirtree`);
    for (const f of t.files) {
      const name = f.name;
      reachable.add(`${f.checksum}.file`);
      if (name.startsWith(WHITEOUT_PREFIX)) {
        libc.mknod(`${dest}/${name.slice(WHITEOUT_PREFIX.length)}`, S_IFCHR | 0, 0);
        continue;
      }
      const obj = `${repoObjects}${f.checksum.slice(0, 2)}/${f.checksum.slice(2)}.file`;
      try {
        fs.linkSync(obj, `${dest}/${name}`);
      } catch (e) {
        if (isErrno(e, 'ENOENT') && !fs.existsSync(obj)) throw new OstreeError('ENOENT', `object ${f.checksum}.file (for '${name}') not found in repository`);
        if (isErrno(e, 'EXDEV') || isErrno(e, 'EMLINK') || isErrno(e, 'EPERM')) throw new NeedFallback();
        throw e;
      }
    }
    for (const d of t.dirs) {
      reachable.add(`${d.metaChecksum}.dirmeta`);
      const p = `${dest}/${d.name}`;
      fs.mkdirSync(p, { mode: 0o700 });
      this.dir(d.treeChecksum, d.metaChecksum, p);
    }
    this.finalizers.push([dest, m]);
  }
}
