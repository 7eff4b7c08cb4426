/**
 * Repositories for the CLI and inspect tests: a small real commit, and the shapes only a corrupt
 * repository can hold (object files whose content does not match their name): a parent chain
 * that loops and a dirtree that contains itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { objectPath } from '../../src/repo/layout.js';
import { serializeCommit } from '../../src/repo/objects/commit.js';
import { serializeDirTree } from '../../src/repo/objects/dirtree.js';
import { type ObjectType } from '../../src/repo/objects/common.js';
import { Repo, type RepoMode } from '../../src/repo/repo.js';

/** A repository at `dir` with one commit on `main` of a small tree (a file, a directory, a symlink). */
export async function smallRepo(dir: string, mode: RepoMode = 'archive'): Promise<{ repo: Repo; commit: string }> {
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'sub/deeper'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'file'), 'hello\n');
  fs.writeFileSync(path.join(tree, 'sub/deeper/leaf'), 'leaf\n');
  fs.symlinkSync('file', path.join(tree, 'link'));
  const repo = await Repo.create(path.join(dir, 'repo'), mode);
  repo.config.set('core', 'fsync', 'false'); // test data: speed over durability
  await repo.saveConfig();
  const commit = await repo.commitTree(tree, { branch: 'main', subject: 'small', timestamp: 1_700_000_000n });
  return { repo, commit };
}

/** Store `data` as object `checksum` of `type`, whatever its real checksum (a corrupt object). */
export function writeRawObject(repo: Repo, checksum: string, type: ObjectType, data: Buffer): void {
  const p = objectPath(repo.path, checksum, type, repo.mode);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

/** Commits X → Y → X (each names the other as parent), ref `loop` → X. */
export async function loopingHistory(repo: Repo, base: string): Promise<{ x: string; y: string }> {
  const c = await repo.loadCommit(base);
  const x = 'a1'.repeat(32);
  const y = 'b2'.repeat(32);
  writeRawObject(repo, x, 'commit', serializeCommit({ ...c, parent: y, subject: 'x' }));
  writeRawObject(repo, y, 'commit', serializeCommit({ ...c, parent: x, subject: 'y' }));
  await repo.setRef('loop', x);
  return { x, y };
}

/** A dirtree T whose directory `again` is T itself, under commit C; ref `selfish` → C. */
export async function selfContainingTree(repo: Repo, base: string): Promise<{ tree: string; commit: string }> {
  const c = await repo.loadCommit(base);
  const tree = 'c3'.repeat(32);
  const commit = 'd4'.repeat(32);
  writeRawObject(repo, tree, 'dirtree', serializeDirTree({ files: [], dirs: [{ name: 'again', treeChecksum: tree, metaChecksum: c.rootMeta }] }));
  writeRawObject(repo, commit, 'commit', serializeCommit({ ...c, parent: null, rootTree: tree }));
  await repo.setRef('selfish', commit);
  return { tree, commit };
}
