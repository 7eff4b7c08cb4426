/**
 * Writing a commit object for a stored root (dirtree + dirmeta): parent, metadata (given order,
 * then the ref and collection bindings; `--bootable` adds the kernel version, as upstream through a
 * GVariantDict), the optional detached metadata (`.commitmeta`), and the branch update. Used by
 * commitTree (tree.ts) and by `commit --tree=ref=REV`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { Variant } from '../../glib/gvariant.js';
import { glibDictOrder } from '../../glib/ghash-order.js';
import { serializeCommit, type CommitObject } from '../objects/commit.js';
import { serializeCommitMeta } from '../objects/commitmeta.js';
import { objectPath, tmpName } from '../layout.js';
import { repoCollectionId } from '../collections.js';
import { parseRefspec, resolveRev, setRef } from '../refs.js';
import { hasObject, loadCommit, syncRepo, writeMetadataObject, type RepoCore } from '../store.js';

export interface CommitTreeOptions {
  branch?: string;
  subject?: string;
  body?: string;
  /** Commit metadata, kept in this order (upstream keeps insertion order). */
  metadata?: Array<[string, Variant]>;
  /** Seconds since the epoch; default now. */
  timestamp?: bigint;
  /** undefined: the branch's current commit; null: no parent (orphan). */
  parent?: string | null;
  noXattrs?: boolean;
  ownerUid?: number;
  ownerGid?: number;
  /** Write the bindings (`ostree.ref-binding`, `ostree.collection-binding`): default true when
   *  a branch or bindRefs are given; false for `--no-bindings`. */
  bindings?: boolean;
  /** More refs for `ostree.ref-binding` (`--bind-ref`). */
  bindRefs?: string[];
  /** `--bootable`: add ostree.linux (kernel version found in the tree) and ostree.bootable, via a
   *  GVariantDict as upstream (which reorders the keys in GHashTable order). */
  bootable?: boolean;
  /** `--canonical-permissions`: uid/gid 0, permissions masked with 0755, no xattrs. */
  canonicalPermissions?: boolean;
  /** Detached metadata (`.commitmeta`, not part of the checksum), e.g. `--add-detached-metadata-string`. */
  detachedMetadata?: Array<[string, Variant]>;
  /** `--keep-metadata=KEY`: copy these keys from the parent's metadata (after `metadata`). */
  keepMetadata?: string[];
  /** Added after everything else (upstream appends `ostree.sizes` last). */
  trailingMetadata?: Array<[string, Variant]>;
  /** `--skip-if-unchanged`: if the tree equals the parent's, write nothing and return the parent. */
  skipIfUnchanged?: boolean;
  /** Threads writing content objects, the calling one included (default: min(4, CPUs)). */
  workers?: number;
  /** Called as files are found and stored (for a terminal progress line); cheap to call often. */
  progress?: (p: CommitProgress) => void;
  /** Runs once the commit (and its detached metadata) is stored, before the branch moves: signing
   *  (`--gpg-sign`, `--sign`), so a commit whose signing fails leaves the branch where it was. */
  beforeRefUpdate?: (checksum: string) => Promise<void>;
}

export interface CommitProgress {
  /** Regular files and symlinks found so far by the walk. */
  filesScanned: number;
  /** Of those, how many are stored as content objects. */
  filesWritten: number;
  /** True once the whole tree has been walked (filesScanned is then the total). */
  walkDone: boolean;
}

/** Kernel version of a tree (usr/lib/modules/KVER/vmlinuz, else boot/vmlinuz-KVER), as upstream --bootable. */
export function findKernelVersion(root: string): string {
  const mods = path.join(root, 'usr/lib/modules');
  let names: string[] = [];
  try { names = fs.readdirSync(mods).sort(); } catch { /* none */ }
  for (const k of names) if (fs.existsSync(path.join(mods, k, 'vmlinuz'))) return k;
  let boot: string[] = [];
  try { boot = fs.readdirSync(path.join(root, 'boot')).sort(); } catch { /* none */ }
  for (const b of boot) if (b.startsWith('vmlinuz-')) return b.slice('vmlinuz-'.length);
  throw new OstreeError('EINVAL', `--bootable: no kernel found in '${root}' (expected usr/lib/modules/KVER/vmlinuz or boot/vmlinuz-KVER)`);
}

/** The ref binding upstream's `commit` writes: the branch as given and each `--bind-ref`, sorted
 *  (an orphan without --bind-ref gets an empty list). */
function refBinding(options: CommitTreeOptions): string[] {
  const refs = [...(options.branch !== undefined ? [options.branch] : []), ...(options.bindRefs ?? [])];
  return refs.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The commit's metadata, built as upstream's `commit`: the given entries, then the bindings
 *  (`ostree.ref-binding`; `ostree.collection-binding` = core.collection-id unless given), then
 *  for --bootable the kernel keys, all reordered as the GVariantDict upstream ends. */
function commitMetadata(repo: RepoCore, options: CommitTreeOptions, parent: string | null, kernelVersion: string | undefined): Array<[string, Variant]> {
  let metadata = [...(options.metadata ?? []), ...keptMetadata(repo, options.keepMetadata ?? [], parent)];
  const has = (key: string): boolean => metadata.some(([k]) => k === key);
  const bindings = options.bindings ?? (options.branch !== undefined || options.bindRefs !== undefined);
  if (bindings) {
    if (!has('ostree.ref-binding')) metadata.push(['ostree.ref-binding', new Variant('as', refBinding(options))]);
    const collectionId = repoCollectionId(repo);
    if (collectionId !== null && !has('ostree.collection-binding')) metadata.push(['ostree.collection-binding', new Variant('s', collectionId)]);
  }
  if (options.bootable) {
    if (kernelVersion === undefined) throw new OstreeError('EINVAL', 'bootable commits need the kernel version');
    metadata.push(['ostree.linux', new Variant('s', kernelVersion)]);
    metadata.push(['ostree.bootable', new Variant('b', true)]);
    metadata = glibDictOrder(metadata);
  }
  return [...metadata, ...(options.trailingMetadata ?? [])];
}

/** `--keep-metadata`: the parent's values of `keys`, each required (upstream's messages). */
function keptMetadata(repo: RepoCore, keys: string[], parent: string | null): Array<[string, Variant]> {
  if (keys.length === 0) return [];
  if (parent === null) throw new OstreeError('EINVAL', 'Either --branch or --parent must be specified when using --keep-metadata');
  const pm = loadCommit(repo, parent).metadata;
  return keys.map((k) => {
    const found = pm.find(([name]) => name === k);
    if (!found) throw new OstreeError('ENOENT', `Missing metadata key '${k}' from commit '${parent}'`);
    return [k, found[1]];
  });
}

/**
 * Write a commit object for an already stored root and update the branch. `kernelVersion` is
 * required with `bootable`. The caller holds the repository lock.
 */
export async function writeCommit(repo: RepoCore, rootTree: string, rootMeta: string, options: CommitTreeOptions = {}, kernelVersion?: string): Promise<string> {
  if (options.branch !== undefined) parseRefspec(options.branch);
  if (!hasObject(repo, rootTree, 'dirtree') || !hasObject(repo, rootMeta, 'dirmeta')) {
    throw new OstreeError('ENOENT', `root ${rootTree}.dirtree / ${rootMeta}.dirmeta not found in repository`);
  }
  let parent: string | null;
  if (options.parent === null) parent = null;
  else if (options.parent !== undefined) {
    parent = resolveRev(repo, options.parent);
    if (parent === null) throw new OstreeError('ENOENT', `Refspec '${options.parent}' not found`);
  } else parent = options.branch !== undefined ? resolveRev(repo, options.branch) : null;
  const metadata = commitMetadata(repo, options, parent, kernelVersion);
  if (metadata.some(([k]) => k === '')) throw new OstreeError('EINVAL', 'Empty metadata key');
  if (options.skipIfUnchanged && parent !== null && hasObject(repo, parent, 'commit')) {
    const pc = loadCommit(repo, parent);
    if (pc.rootTree === rootTree && pc.rootMeta === rootMeta) return parent;
  }
  const commit: CommitObject = {
    metadata,
    parent,
    related: [],
    subject: options.subject ?? '',
    body: options.body ?? '',
    // (a date before 1970 wraps around as in upstream's guint64)
    timestamp: BigInt.asUintN(64, options.timestamp ?? defaultTimestamp()),
    rootTree,
    rootMeta,
  };
  const csum = writeMetadataObject(repo, 'commit', serializeCommit(commit));
  if (options.detachedMetadata && options.detachedMetadata.length > 0) writeDetachedMetadata(repo, csum, options.detachedMetadata);
  if (options.beforeRefUpdate) await options.beforeRefUpdate(csum);
  syncRepo(repo);
  if (options.branch !== undefined) await setRef(repo, options.branch, csum);
  return csum;
}

/**
 * The time of a commit without an explicit timestamp: SOURCE_DATE_EPOCH when set (reproducible
 * builds; read as strtoll does, with upstream's errors), else now.
 */
export function defaultTimestamp(env: NodeJS.ProcessEnv = process.env): bigint {
  const v = env['SOURCE_DATE_EPOCH'];
  if (v === undefined) return BigInt(Math.floor(Date.now() / 1000));
  const m = /^\s*([+-]?\d+)/.exec(v);
  if (!m) throw new OstreeError('EINVAL', 'Failed to convert SOURCE_DATE_EPOCH');
  const n = BigInt(m[1]!);
  if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) throw new OstreeError('EINVAL', 'Parsing SOURCE_DATE_EPOCH: Numerical result out of range');
  return n;
}

/** Replace (or with null remove) a commit's detached metadata (`.commitmeta`), crash-safely. An
 *  empty dictionary is written as upstream writes it (an empty file), so a pull sees that the
 *  signatures are gone rather than finding no detached metadata and keeping its own. */
export function writeDetachedMetadata(repo: RepoCore, checksum: string, metadata: Array<[string, Variant]> | null): void {
  const final = objectPath(repo.path, checksum, 'commitmeta', repo.mode);
  if (metadata === null) { fs.rmSync(final, { force: true }); return; }
  const tmp = tmpName(repo.path, 'meta');
  fs.writeFileSync(tmp, serializeCommitMeta(metadata), { mode: 0o644, flag: 'wx' });
  try {
    fs.mkdirSync(path.dirname(final), { recursive: true });
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
