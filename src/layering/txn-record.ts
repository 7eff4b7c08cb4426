/**
 * The running transaction's record, `/run/apt-ostree/transaction` (or beside a sysroot that is
 * not the running system): its pid, so `status` can say `State: busy` and `cancel` can stop it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SysrootState } from '../sysroot/state.js';
import { mkdirp, writeFileAtomic } from '../util/fs.js';

export function transactionRecordPath(sysroot: SysrootState): string {
  const dir = sysroot.path === '/' ? '/run/apt-ostree' : path.join(sysroot.path, 'ostree/apt-ostree-run');
  return path.join(dir, 'transaction');
}

export function startTransaction(sysroot: SysrootState): void {
  const p = transactionRecordPath(sysroot);
  mkdirp(path.dirname(p));
  writeFileAtomic(p, `${process.pid}\n`, { mode: 0o644 });
}

export function endTransaction(sysroot: SysrootState): void {
  fs.rmSync(transactionRecordPath(sysroot), { force: true });
}

/** The pid of a live transaction, or null. */
export function activeTransaction(sysroot: SysrootState): number | null {
  let pid: number;
  try { pid = Number(fs.readFileSync(transactionRecordPath(sysroot), 'utf8').trim()); } catch { return null; }
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try { process.kill(pid, 0); return pid; } catch { return null; }
}
