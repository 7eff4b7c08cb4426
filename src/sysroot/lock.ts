/**
 * The sysroot lock `ostree/lock` (upstream ostree-sysroot.c, libglnx glnx_make_lock_file):
 * an exclusive OFD lock on the whole file (flock(2) only where the kernel lacks OFD locks), so
 * ours and upstream's `ostree admin` exclude each other.  The holder unlinks the file on
 * release, as upstream does; a waiter that locked a file already unlinked retries.
 */
import * as fs from 'node:fs';
import { OstreeError, isErrno } from '../errors.js';
import { lockFd, unlockFd } from '../native/lock.js';

/** A held sysroot lock (the file is created 0600). */
export class SysrootLock {
  private constructor(private readonly lockPath: string, private fd: number, private readonly kind: 'ofd' | 'flock') {}

  /**
   * As upstream (libglnx glnx_make_lock_file): an exclusive OFD lock on the whole of
   * `ostree/lock` (flock(2) only where the kernel lacks OFD locks), so ours and upstream's
   * `ostree admin` exclude each other.  Non-blocking attempts every 100 ms; `onWait` every 3 s.
   */
  static async acquire(lockPath: string, options: { wait?: boolean; onWait?: () => void }): Promise<SysrootLock> {
    const wait = options.wait ?? true;
    let lastNotice = 0;
    for (;;) {
      const fd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_NOFOLLOW, 0o600);
      let kind: 'ofd' | 'flock' | null = null;
      try {
        kind = lockFd(fd, { exclusive: true, wait: false });
      } catch (e) {
        if (!(isErrno(e, 'EWOULDBLOCK') || isErrno(e, 'EAGAIN'))) { fs.closeSync(fd); throw e; }
      }
      if (kind !== null) {
        // The previous holder unlinked the file while we waited: lock the new one instead.
        if (fs.fstatSync(fd).nlink === 0) { fs.closeSync(fd); continue; }
        return new SysrootLock(lockPath, fd, kind);
      }
      fs.closeSync(fd);
      if (!wait) throw new OstreeError('EBUSY', `The sysroot lock ${lockPath} is held by another process; try again when it finishes`);
      const now = Date.now();
      if (now - lastNotice >= 3000) { options.onWait?.(); lastNotice = now; }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  release(): void {
    if (this.fd < 0) return;
    // Exclusive holder: unlink first (waiters see nlink 0 and retry), then unlock.
    try { fs.unlinkSync(this.lockPath); } catch { /* already gone */ }
    try { unlockFd(this.fd, this.kind); } catch { /* closing drops it anyway */ }
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
