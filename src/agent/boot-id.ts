/**
 * An identifier of the current boot: a random one kept in `/run` (a tmpfs, new at every boot;
 * OSTREE_TS_RUN_DIR moves it in tests, as for the rest of the sysroot code).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runDir } from '../sysroot/layout.js';
import { mkdirp, writeFileAtomic } from '../util/fs.js';

export function runBootId(): string {
  const f = path.join(runDir(), 'ostree-agent', 'boot-id');
  try { return fs.readFileSync(f, 'utf8').trim(); } catch { /* first call of this boot */ }
  mkdirp(path.dirname(f), 0o755);
  const id = randomUUID();
  writeFileAtomic(f, id + '\n');
  return id;
}
