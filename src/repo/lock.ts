/**
 * The repository lock, REPO/.lock: shared for writers (commit, pull), exclusive for prune. An
 * OFD lock, as upstream (libglnx) takes it, so our writers and prunes and upstream's exclude
 * each other; flock only where OFD locks are unsupported. Nested calls reuse the lock held.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../native/libc.js';
import { OstreeError } from '../errors.js';
import type { KeyFile } from '../glib/keyfile.js';

export class RepoLock {
  private level: 0 | 1 | 2 = 0;
  private depth = 0;

  constructor(private readonly repoPath: string, private readonly config: KeyFile) {}

  /** Run `fn` holding the lock (shared or exclusive); nested calls reuse the held lock. */
  async with<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    const want = exclusive ? 2 : 1;
    if (!this.config.getBoolean('core', 'locking', true) || (this.depth > 0 && this.level >= want)) {
      this.depth++;
      try { return await fn(); } finally { this.depth--; }
    }
    if (this.depth > 0) throw new OstreeError('ESTATE', 'cannot upgrade a shared repository lock to exclusive');
    const fd = await this.acquire(exclusive);
    this.level = want;
    this.depth = 1;
    try {
      return await fn();
    } finally {
      this.depth = 0;
      this.level = 0;
      fs.closeSync(fd); // closing the file description releases the lock
    }
  }

  private async acquire(exclusive: boolean): Promise<number> {
    const fd = fs.openSync(path.join(this.repoPath, '.lock'), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NONBLOCK, 0o640);
    const timeout = Number(this.config.get('core', 'lock-timeout-secs') ?? '300') * 1000;
    const start = Date.now();
    try {
      for (;;) {
        try {
          libc.lockFd(fd, { exclusive, wait: false });
          return fd;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code !== 'EWOULDBLOCK' && code !== 'EAGAIN') throw e;
          if (Date.now() - start >= timeout) {
            throw new OstreeError('EBUSY', `repository '${this.repoPath}' is locked by another process (waited ${timeout / 1000}s)`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }
}
