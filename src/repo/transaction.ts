/**
 * A repository transaction's staging directory, as upstream allocates it
 * (ostree_repo_prepare_transaction / commit_transaction): `REPO/tmp/staging-<boot-id>-XXXXXX`,
 * locked through `REPO/tmp/<name>-lock` (a glnx lock file) while in use.  An unlocked directory
 * of this boot is reused; a committed transaction removes its own directory and every unlocked
 * staging directory of *other* boots (what an interrupted transaction of an earlier boot left).
 * `OSTREE_REPO_TEST_ERROR=pre-commit` fails the commit before anything is published, leaving
 * the staging directory behind (upstream's test hook).
 *
 * Used here for ref updates that upstream makes in a transaction (the sysroot's deployment
 * refs); the boot id is `$OSTREE_BOOTID` or the kernel's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OstreeError, isErrno } from '../errors.js';
import { lockFd, unlockFd } from '../native/lock.js';
import { tmpDir } from './layout.js';

const STAGING_PREFIX = 'staging-';

function bootId(): string {
  const env = process.env['OSTREE_BOOTID'];
  if (env) return env;
  try { return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { return 'unknown'; }
}

/** `OSTREE_REPO_TEST_ERROR` names `flag` (comma-separated, as upstream's debug keys). */
export function repoTestError(flag: string): boolean {
  return (process.env['OSTREE_REPO_TEST_ERROR'] ?? '').split(',').map((s) => s.trim()).includes(flag);
}

interface HeldDir { name: string; fd: number; kind: 'ofd' | 'flock' }

/** Lock `<name>-lock` in tmp without waiting; null when another process holds it. */
function tryLock(tmp: string, name: string): HeldDir | null {
  const fd = fs.openSync(path.join(tmp, `${name}-lock`), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    return { name, fd, kind: lockFd(fd, { exclusive: true, wait: false }) };
  } catch (e) {
    fs.closeSync(fd);
    if (isErrno(e, 'EWOULDBLOCK') || isErrno(e, 'EAGAIN') || isErrno(e, 'EACCES')) return null;
    throw e;
  }
}

/** Unlock and remove the lock file, as glnx_release_lock_file does for an exclusive lock. */
function release(tmp: string, held: HeldDir): void {
  fs.rmSync(path.join(tmp, `${held.name}-lock`), { force: true });
  unlockFd(held.fd, held.kind);
  fs.closeSync(held.fd);
}

function isDir(p: string): boolean {
  try { return fs.lstatSync(p).isDirectory(); } catch { return false; }
}

/** This boot's staging directory: an unlocked one reused, else a new one. */
function allocate(tmp: string, prefix: string): HeldDir {
  for (const n of fs.readdirSync(tmp)) {
    if (!n.startsWith(prefix) || n.endsWith('-lock') || !isDir(path.join(tmp, n))) continue;
    const held = tryLock(tmp, n);
    if (!held) continue;
    const now = new Date();
    fs.utimesSync(path.join(tmp, n), now, now); // not "old" for a concurrent cleanup
    return held;
  }
  for (;;) {
    const name = `${prefix}${randomBytes(4).toString('base64url').slice(0, 6)}`;
    try { fs.mkdirSync(path.join(tmp, name), { mode: 0o755 }); } catch (e) { if (isErrno(e, 'EEXIST')) continue; throw e; }
    const held = tryLock(tmp, name);
    if (held) return held;
  }
}

/** Remove the unlocked staging directories of other boots. */
function cleanupOtherBoots(tmp: string, ownPrefix: string): void {
  for (const n of fs.readdirSync(tmp)) {
    if (!n.startsWith(STAGING_PREFIX) || n.startsWith(ownPrefix) || n.endsWith('-lock') || !isDir(path.join(tmp, n))) continue;
    const held = tryLock(tmp, n);
    if (!held) continue;
    try { fs.rmSync(path.join(tmp, n), { recursive: true, force: true }); } finally { release(tmp, held); }
  }
}

/**
 * Run `publish` (the transaction's visible writes, e.g. refs) inside a staging transaction of
 * the repository at `repoPath` (see the file comment).
 */
export async function withTransaction<T>(repoPath: string, publish: () => Promise<T>): Promise<T> {
  const tmp = tmpDir(repoPath);
  fs.mkdirSync(tmp, { recursive: true, mode: 0o755 });
  const prefix = `${STAGING_PREFIX}${bootId()}-`;
  const held = allocate(tmp, prefix);
  try {
    if (repoTestError('pre-commit')) throw new OstreeError('EIO', 'OSTREE_REPO_TEST_ERROR_PRE_COMMIT specified');
    const result = await publish();
    fs.rmSync(path.join(tmp, held.name), { recursive: true, force: true });
    cleanupOtherBoots(tmp, prefix);
    return result;
  } finally {
    release(tmp, held);
  }
}
