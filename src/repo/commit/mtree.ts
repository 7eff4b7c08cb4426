/**
 * The tree a commit is assembled in (upstream's OstreeMutableTree): every `--tree=` source
 * (a directory, a commit, a tar archive) is laid over the same tree in order; a later file
 * replaces an earlier one, directories merge, and a file never silently replaces a directory
 * (or the reverse).
 *
 * A subtree taken from a stored commit stays lazy (just its dirtree checksum) until a later
 * source changes something inside it, so `--tree=ref=` of a large commit reads only the
 * dirtrees it must merge. Writing goes bottom-up with an explicit stack (no recursion limit).
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import { serializeDirMeta, type DirMeta } from '../objects/dirmeta.js';
import { serializeDirTree } from '../objects/dirtree.js';
import { objectPath } from '../layout.js';
import { sha256hex } from '../objects/checksum.js';
import { loadDirTree, writeMetadataObject, type RepoCore, type RepoLocation } from '../store.js';

/** A file of the tree: its content checksum, or a slot a content writer fills in later. */
export interface FileSlot { checksum?: string }

export class MutableTree {
  /** The dirmeta: its checksum (stored or written), or the value to write. */
  meta: string | DirMeta | undefined;
  private filesMap = new Map<string, FileSlot>();
  private dirsMap = new Map<string, MutableTree>();
  /** Contents not read yet: a stored dirtree. */
  private lazyTree: string | undefined;

  constructor(private readonly repo: RepoLocation) {}

  /** A subtree standing for the stored dirtree `tree` with dirmeta `meta`, read on first change. */
  static fromStored(repo: RepoLocation, tree: string, meta: string): MutableTree {
    const t = new MutableTree(repo);
    t.lazyTree = tree;
    t.meta = meta;
    return t;
  }

  /** Read the stored contents this subtree stands for, if not done yet. */
  private materialize(): void {
    if (this.lazyTree === undefined) return;
    const dt = loadDirTree(this.repo, this.lazyTree);
    this.lazyTree = undefined;
    for (const f of dt.files) this.filesMap.set(f.name, { checksum: f.checksum });
    for (const d of dt.dirs) this.dirsMap.set(d.name, MutableTree.fromStored(this.repo, d.treeChecksum, d.metaChecksum));
  }

  /** The stored dirtree this subtree still stands for unchanged, if any. */
  get storedTree(): string | undefined { return this.lazyTree; }

  /** True when nothing has been put in this tree (nor does it stand for stored contents). */
  get isEmpty(): boolean {
    return this.lazyTree === undefined && this.filesMap.size === 0 && this.dirsMap.size === 0;
  }

  /** Make this (empty) tree stand for the stored dirtree `tree` (upstream's fill-empty fast path). */
  fillFromStored(tree: string): void {
    if (!this.isEmpty) throw new OstreeError('EINVAL', 'internal: filling a tree that is not empty');
    this.lazyTree = tree;
  }

  get files(): ReadonlyMap<string, FileSlot> { this.materialize(); return this.filesMap; }
  get dirs(): ReadonlyMap<string, MutableTree> { this.materialize(); return this.dirsMap; }

  /** Put the file `name` in this directory (replacing a file of that name, never a directory). */
  replaceFile(name: string, slot: FileSlot): void {
    this.materialize();
    if (this.dirsMap.has(name)) throw new OstreeError('EEXIST', `Can't replace directory with file: ${name}`);
    this.filesMap.set(name, slot);
  }

  /** The subdirectory `name`, made empty when absent (never replacing a file). */
  ensureDir(name: string): MutableTree {
    this.materialize();
    if (this.filesMap.has(name)) throw new OstreeError('EEXIST', `Can't replace file with directory: ${name}`);
    let d = this.dirsMap.get(name);
    if (!d) { d = new MutableTree(this.repo); this.dirsMap.set(name, d); }
    return d;
  }

  /** Remove the entry `name` (file or directory), if there. */
  remove(name: string): void {
    this.materialize();
    this.filesMap.delete(name);
    this.dirsMap.delete(name);
  }

  /** The entry at a relative path (`a/b`), or undefined. */
  lookup(relPath: string): { dir: MutableTree } | { file: FileSlot } | undefined {
    const parts = relPath.split('/').filter((p) => p !== '');
    let cur: MutableTree = this;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const sub = cur.dirs.get(name);
      if (sub) { cur = sub; continue; }
      const f = cur.files.get(name);
      return f && i === parts.length - 1 ? { file: f } : undefined;
    }
    return { dir: cur };
  }
}

/** Directory metadata to use for a directory no source described (tar parents). */
export type DefaultMeta = () => DirMeta;

/** One metadata object written for the tree (for counters and `--generate-sizes`). */
export interface MetadataWritten { type: 'dirtree' | 'dirmeta'; checksum: string; size: number; isNew: boolean }
type OnMetadata = (m: MetadataWritten) => void;

/**
 * Lay the stored tree `tree`/`meta` over `target` (`--tree=ref=`, `--base`): its files replace
 * files of the same name, its directories merge. An empty target just stands for the stored
 * tree (nothing is read).
 */
export function overlayStored(repo: RepoLocation, target: MutableTree, tree: string, meta: string): void {
  const stack: Array<{ target: MutableTree; tree: string; meta: string }> = [{ target, tree, meta }];
  while (stack.length > 0) {
    const job = stack.pop()!;
    job.target.meta = job.meta;
    if (job.target.isEmpty) { job.target.fillFromStored(job.tree); continue; }
    const dt = loadDirTree(repo, job.tree);
    for (const f of dt.files) job.target.replaceFile(f.name, { checksum: f.checksum });
    for (const d of dt.dirs) stack.push({ target: job.target.ensureDir(d.name), tree: d.treeChecksum, meta: d.metaChecksum });
  }
}

/**
 * Writes the metadata objects of one tree: each object hashed once and its final name looked up
 * once (to tell `on` whether it is new); a dirmeta already written by this writer (most
 * directories share their ownership, mode and xattrs) is not serialized, hashed or looked up again.
 */
class MetadataWriter {
  private readonly dirmetas = new Map<string, { checksum: string; size: number }>();

  constructor(private readonly repo: RepoCore, private readonly on?: OnMetadata) {}

  dirMeta(meta: DirMeta): string {
    // (without xattrs the three numbers are the whole object: no need to serialize it to know it)
    const plain = meta.xattrs.length === 0;
    let data = plain ? null : serializeDirMeta(meta);
    const key = data === null ? `${meta.uid}:${meta.gid}:${meta.mode}` : data.toString('latin1');
    const known = this.dirmetas.get(key);
    if (known !== undefined) {
      this.on?.({ type: 'dirmeta', checksum: known.checksum, size: known.size, isNew: false });
      return known.checksum;
    }
    data ??= serializeDirMeta(meta);
    const checksum = this.write('dirmeta', data);
    this.dirmetas.set(key, { checksum, size: data.length });
    return checksum;
  }

  write(type: 'dirtree' | 'dirmeta', data: Buffer): string {
    const checksum = sha256hex(data);
    const isNew = !fs.lstatSync(objectPath(this.repo.path, checksum, type, this.repo.mode), { throwIfNoEntry: false });
    if (isNew) writeMetadataObject(this.repo, type, data, checksum);
    this.on?.({ type, checksum, size: data.length, isNew });
    return checksum;
  }
}

/**
 * Write every dirtree and dirmeta of `root`, children first, and return the root's checksums.
 * Every file slot must be filled; a directory without metadata gets `defaultMeta()`.
 */
export function writeMutableTree(repo: RepoCore, root: MutableTree, on?: OnMetadata, defaultMeta?: DefaultMeta): { tree: string; meta: string } {
  const order: MutableTree[] = [];
  const stack: MutableTree[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    order.push(t);
    if (t.storedTree !== undefined) continue;
    for (const d of t.dirs.values()) stack.push(d);
  }
  const writer = new MetadataWriter(repo, on);
  const result = new Map<MutableTree, { tree: string; meta: string }>();
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    result.set(t, writeOne(writer, t, result, defaultMeta));
  }
  return result.get(root)!;
}

function writeOne(writer: MetadataWriter, t: MutableTree, done: Map<MutableTree, { tree: string; meta: string }>, defaultMeta?: DefaultMeta): { tree: string; meta: string } {
  let meta = t.meta;
  if (meta === undefined) {
    if (!defaultMeta) throw new OstreeError('EINVAL', 'internal: a directory of the commit has no metadata');
    meta = defaultMeta();
  }
  const metaChecksum = typeof meta === 'string' ? meta : writer.dirMeta(meta);
  const lazy = t.storedTree;
  if (lazy !== undefined) return { tree: lazy, meta: metaChecksum };
  const files = [...t.files].map(([name, slot]) => {
    if (slot.checksum === undefined) throw new OstreeError('EIO', `internal: file '${name}' was not stored`);
    return { name, checksum: slot.checksum };
  });
  const dirs = [...t.dirs].map(([name, d]) => {
    const w = done.get(d)!;
    return { name, treeChecksum: w.tree, metaChecksum: w.meta };
  });
  return { tree: writer.write('dirtree', serializeDirTree({ files, dirs })), meta: metaChecksum };
}
