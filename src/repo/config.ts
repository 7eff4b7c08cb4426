/**
 * REPO/config (a GKeyFile: `[core]` repo_version and mode, remotes, options) and the other
 * key files a repository reads (remotes.d/*.conf): read with a size bound and without blocking
 * on a FIFO, written at a temporary name, flushed unless core.fsync=false, and renamed into place.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../errors.js';
import { KeyFile } from '../glib/keyfile.js';
import { readFileBounded } from '../util/fs.js';
import { configPath } from './layout.js';
import { modeFromConfig, type RepoMode } from './modes/mode.js';

/** Larger key files are refused unread: configs are a few hundred bytes. */
export const MAX_KEYFILE_SIZE = 1024 * 1024;

/** The text of a key file, or null if it does not exist (util/fs.ts's bounded reader, so a
 *  FIFO is never waited on). ECONFIG if it is not a regular file, is larger than
 *  MAX_KEYFILE_SIZE, or cannot be read. */
export function readKeyFileText(p: string): string | null {
  try {
    const data = readFileBounded(p, MAX_KEYFILE_SIZE, { what: 'Configuration file', code: 'ECONFIG', advice: 'remove or replace it' });
    return data === null ? null : data.toString('utf8');
  } catch (e) {
    if (e instanceof OstreeError) throw e;
    throw new OstreeError('ECONFIG', `cannot read '${p}': ${(e as Error).message}`, { path: p, cause: e });
  }
}

/** Parse REPO/config: ENOENT when there is no repository, ECONFIG when it is not valid. */
export function readRepoConfig(repoPath: string): { config: KeyFile; mode: RepoMode } {
  const p = configPath(repoPath);
  const text = readKeyFileText(p);
  if (text === null) throw new OstreeError('ENOENT', `no repository at '${repoPath}' (missing ${p}; create one with 'ostree init')`, { path: repoPath });
  const kf = KeyFile.parse(text, p);
  const version = kf.get('core', 'repo_version');
  if (version !== '1') throw new OstreeError('ECONFIG', `${p}: unsupported core.repo_version '${version ?? ''}' (expected 1)`);
  return { config: kf, mode: modeFromConfig(kf.get('core', 'mode'), p) };
}

/** Replace key file `p` with `kf` (a temporary name in the same directory, then rename). */
export function writeKeyFile(p: string, kf: KeyFile, sync: boolean): void {
  const tmp = `${p}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    try {
      fs.writeSync(fd, kf.toString());
      if (sync) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, p);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
