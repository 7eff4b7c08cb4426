/**
 * Scratch directories of a layering transaction, in the repository's tmp/ (same filesystem as
 * the objects, and removed by whoever made them; a crashed run's are named after its pid).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Repo } from '../repo/repo.js';

export function workDir(repo: Repo, what: string): string {
  const tmp = path.join(repo.path, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const d = path.join(tmp, `apt-ostree-${process.pid}-${what}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(d, { mode: 0o700 });
  return d;
}
