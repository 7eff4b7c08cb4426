/**
 * src/repo/store.ts: the one metadata object reader (every walker, fsck, prune, pull and
 * checkout read through it). What sits in an object's place is never waited on, and its size
 * is checked before it is read whole.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isOstreeError } from '../../src/errors.js';
import { objectPath } from '../../src/repo/layout.js';
import { MAX_METADATA_SIZE } from '../../src/repo/objects/common.js';
import { loadCommitIfPresent, readMetadataObject, readMetadataObjectIfPresent, type RepoLocation } from '../../src/repo/store.js';
import { tempDir } from '../common/tmp.js';

const base = tempDir('store-');
after(() => fs.rmSync(base, { recursive: true, force: true }));
const repo: RepoLocation = { path: base, mode: 'bare-user' };
const csum = (c: string): string => c.repeat(64);

function place(checksum: string, type: 'commit' | 'dirtree', make: (p: string) => void): string {
  const p = objectPath(repo.path, checksum, type, repo.mode);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  make(p);
  return p;
}

test('readMetadataObject: FIFOs, directories, symlinks and oversized objects are refused unread; missing is ENOENT', () => {
  place(csum('a'), 'dirtree', (p) => execFileSync('mkfifo', [p]));
  assert.throws(() => readMetadataObject(repo, csum('a'), 'dirtree'), (e: unknown) => isOstreeError(e, 'ECORRUPT') && /Object a+\.dirtree .* is a FIFO, not a regular file; the repository is corrupt/.test(e.message));
  place(csum('b'), 'dirtree', (p) => fs.mkdirSync(p));
  assert.throws(() => readMetadataObject(repo, csum('b'), 'dirtree'), /is a directory, not a regular file/);
  place(csum('c'), 'dirtree', (p) => fs.symlinkSync('/etc/passwd', p));
  assert.throws(() => readMetadataObject(repo, csum('c'), 'dirtree'), /is a symbolic link, not a regular file/);
  // Sparse: refused from fstat, never read.
  place(csum('d'), 'commit', (p) => { fs.closeSync(fs.openSync(p, 'w')); fs.truncateSync(p, MAX_METADATA_SIZE + 1); });
  assert.throws(() => readMetadataObject(repo, csum('d'), 'commit'), (e: unknown) => isOstreeError(e, 'ECORRUPT') && /is 134\.2\u00a0MB, more than the limit of 134\.2\u00a0MB/.test(e.message));
  place(csum('e'), 'commit', (p) => fs.writeFileSync(p, Buffer.alloc(100, 1)));
  assert.equal(readMetadataObject(repo, csum('e'), 'commit').length, 100);
  assert.throws(() => readMetadataObject(repo, csum('f'), 'commit'), (e: unknown) => isOstreeError(e, 'ENOENT') && /No such metadata object f+\.commit in repository/.test(e.message));
  assert.equal(readMetadataObjectIfPresent(repo, csum('f'), 'commit'), null);
  assert.equal(loadCommitIfPresent(repo, csum('f')), null);
  assert.throws(() => readMetadataObject(repo, csum('f'), 'file'), (e: unknown) => isOstreeError(e, 'EINVAL'));
});
