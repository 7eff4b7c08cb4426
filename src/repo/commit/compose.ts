/**
 * A commit assembled from sources, as `ostree commit` does it: an optional `--base` commit,
 * then each `--tree=dir=`, `--tree=ref=` and `--tree=tar=` laid over one MutableTree in order
 * (mtree.ts), the commit modifier applied on the way (modifier.ts), the content objects written
 * by the writer pool, the trees written bottom-up, and the commit object (commit.ts). Returns
 * the checksum and upstream's transaction counters (`--table-output`).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { forgetStagingDirs, readContentHeaderSync, type ContentWriteContext } from '../content.js';
import { modeTraits } from '../modes/mode.js';
import { isSymlinkMode } from '../objects/common.js';
import { objectPath, tmpDir } from '../layout.js';
import { loadCommit, type RepoCore } from '../store.js';
import { resolveRev } from '../refs.js';
import { writeCommit, type CommitProgress, type CommitTreeOptions } from './commit.js';
import { scanDevino } from './devino.js';
import { CommitModifier } from './modifier.js';
import { MutableTree, overlayStored, writeMutableTree, type MetadataWritten } from './mtree.js';
import { overlayStoredModified } from './stored.js';
import { ContentWriterPool } from './pool.js';
import { sizesVariant, SIZES_KEY, type SizeEntry } from './sizes.js';
import { cleanStaleTmp, walkDirectory, type WalkSession } from './tree.js';
import { importTarArchive } from './tar.js';

export type CommitSource = { kind: 'dir'; path: string } | { kind: 'ref'; rev: string } | { kind: 'tar'; path: string };

export interface ComposeOptions extends CommitTreeOptions {
  /** `--base=REV`: start from this commit's tree (no modifier applies to it). */
  base?: string;
  /** `--statoverride=FILE` and `--skip-list=FILE`. */
  statoverride?: string;
  skipList?: string;
  /** `--mode-ro-executables`. */
  roExecutables?: boolean;
  /** `--link-checkout-speedup`, and `-I, --devino-canonical` (which implies it). */
  linkCheckoutSpeedup?: boolean;
  devinoCanonical?: boolean;
  /** `--consume`: remove each committed directory source once the commit is written. */
  consume?: boolean;
  /** `--tar-autocreate-parents` and `--tar-pathname-filter=REGEX,REPLACEMENT`. */
  tarAutocreateParents?: boolean;
  tarPathnameFilter?: { regex: RegExp; replacement: string };
  /** `--generate-sizes` (archive repositories only, as upstream). */
  generateSizes?: boolean;
  /** Where upstream's warnings go (unmatched statoverride and skip-list paths). */
  warn?: (line: string) => void;
}

/** Upstream's transaction statistics, printed by `commit --table-output`. */
export interface CommitStats {
  metadataTotal: number;
  metadataWritten: number;
  contentTotal: number;
  contentWritten: number;
  cacheHits: number;
  contentBytesWritten: number;
}

function writeContext(repo: RepoCore, o: ComposeOptions): ContentWriteContext {
  const ctx: ContentWriteContext = {
    repoPath: repo.path, mode: repo.mode,
    noXattrs: o.noXattrs === true || repo.config.getBoolean('core', 'disable-xattrs', false),
    canonicalPermissions: o.canonicalPermissions === true,
    roExecutables: o.roExecutables === true,
  };
  if (o.ownerUid !== undefined) ctx.ownerUid = o.ownerUid;
  if (o.ownerGid !== undefined) ctx.ownerGid = o.ownerGid;
  return ctx;
}

function modifierFor(repo: RepoCore, o: ComposeOptions): CommitModifier {
  if (o.canonicalPermissions && (o.ownerUid ?? 0) > 0) throw new OstreeError('EINVAL', 'Cannot specify both --canonical-permissions and non-zero --owner-uid');
  if (o.canonicalPermissions && (o.ownerGid ?? 0) > 0) throw new OstreeError('EINVAL', 'Cannot specify both --canonical-permissions and non-zero --owner-gid');
  return new CommitModifier({
    ...(o.ownerUid !== undefined ? { ownerUid: o.ownerUid } : {}),
    ...(o.ownerGid !== undefined ? { ownerGid: o.ownerGid } : {}),
    roExecutables: o.roExecutables === true,
    canonical: o.canonicalPermissions === true || modeTraits(repo.mode).canonical,
  }, { ...(o.statoverride !== undefined ? { statoverride: o.statoverride } : {}), ...(o.skipList !== undefined ? { skipList: o.skipList } : {}) });
}

/**
 * Whether upstream's `ostree commit` creates a commit modifier for these options (then a
 * `--tree=ref=` tree is rewritten entry by entry under it, stored.ts; else taken as stored).
 */
function hasModifier(repo: RepoCore, o: ComposeOptions): boolean {
  return o.ownerUid !== undefined || o.ownerGid !== undefined || o.statoverride !== undefined || o.skipList !== undefined
    || o.noXattrs === true || o.roExecutables === true || o.canonicalPermissions === true || modeTraits(repo.mode).canonical
    || o.consume === true || o.devinoCanonical === true || o.generateSizes === true;
}

/** Kernel version of the assembled tree (usr/lib/modules/KVER/vmlinuz, else boot/vmlinuz-KVER). */
function kernelVersionOf(root: MutableTree): string {
  const mods = root.lookup('usr/lib/modules');
  if (mods && 'dir' in mods) {
    for (const k of [...mods.dir.dirs.keys()].sort()) if (mods.dir.dirs.get(k)!.files.has('vmlinuz')) return k;
  }
  const boot = root.lookup('boot');
  if (boot && 'dir' in boot) {
    for (const b of [...boot.dir.files.keys()].sort()) if (b.startsWith('vmlinuz-')) return b.slice('vmlinuz-'.length);
  }
  throw new OstreeError('ENOENT', 'No such file or directory: no kernel found (expected usr/lib/modules/KVER/vmlinuz or boot/vmlinuz-KVER)');
}

/** Archived and unpacked sizes of the file objects of the commit (archive repositories). */
function fileSizes(repo: RepoCore, checksums: Iterable<string>): SizeEntry[] {
  const out: SizeEntry[] = [];
  for (const c of new Set(checksums)) {
    const archived = fs.statSync(objectPath(repo.path, c, 'file', repo.mode)).size;
    const stored = readContentHeaderSync(repo.path, repo.mode, c);
    // (a symlink's unpacked size is its target's length, as lstat reports it to upstream)
    const unpacked = isSymlinkMode(stored.header.mode) ? Buffer.byteLength(stored.header.symlinkTarget) : stored.size;
    out.push({ checksum: c, archived, unpacked, type: 'file' });
  }
  return out;
}

/**
 * Upstream's fault hook OSTREE_REPO_TEST_ERROR=pre-commit: fail after the objects are written,
 * before the commit, leaving the transaction's staging directory (`staging-BOOTID-…`, boot id
 * from OSTREE_BOOTID when set) in REPO/tmp as a failed upstream transaction does.
 */
function failIfTestError(repo: RepoCore): void {
  const flags = (process.env['OSTREE_REPO_TEST_ERROR'] ?? '').split(/[,;:\s]+/);
  if (!flags.includes('pre-commit')) return;
  const bootId = process.env['OSTREE_BOOTID'] ?? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  fs.mkdirSync(path.join(tmpDir(repo.path), `staging-${bootId}-${randomBytes(6).toString('hex')}`), { mode: 0o755 });
  throw new OstreeError('EFAULT_INJECTED', 'OSTREE_REPO_TEST_ERROR_PRE_COMMIT');
}

/** Remove the writers' staging directories of this process (empty unless a writer failed). */
function dropStaging(repo: RepoCore): void {
  for (const n of fs.readdirSync(tmpDir(repo.path))) {
    if (n.startsWith(`commit-${process.pid}-`) && n.endsWith('-staging')) fs.rmSync(path.join(tmpDir(repo.path), n), { recursive: true, force: true });
  }
  forgetStagingDirs();
}

/** Lay every source over `root`; directory files are left for the writers (session.files). */
async function addSources(repo: RepoCore, root: MutableTree, sources: CommitSource[], s: WalkSession, o: ComposeOptions): Promise<void> {
  for (const src of sources) {
    if (src.kind === 'dir') walkDirectory(s, path.resolve(src.path), root);
    else if (src.kind === 'ref') {
      const c = resolveRev(repo, src.rev);
      if (c === null) throw new OstreeError('ENOENT', `Refspec '${src.rev}' not found`);
      const commit = loadCommit(repo, c);
      if (hasModifier(repo, o)) await overlayStoredModified(s, repo, root, commit.rootTree, commit.rootMeta);
      else overlayStored(repo, root, commit.rootTree, commit.rootMeta);
    } else {
      await importTarArchive(repo, src.path, root, s, {
        autocreateParents: o.tarAutocreateParents === true, ...(o.tarPathnameFilter ? { pathnameFilter: o.tarPathnameFilter } : {}),
      });
    }
  }
}

/** Commit `sources` (in order) and return the commit checksum and the counters. The caller holds the repository lock. */
export async function commitSources(repo: RepoCore, sources: CommitSource[], o: ComposeOptions = {}): Promise<{ checksum: string; stats: CommitStats }> {
  const modifier = modifierFor(repo, o);
  fs.mkdirSync(tmpDir(repo.path), { recursive: true });
  cleanStaleTmp(repo.path);
  const ctx = writeContext(repo, o);
  const progress: CommitProgress = { filesScanned: 0, filesWritten: 0, walkDone: false };
  const report = o.progress;
  const nWorkers = o.workers ?? Math.min(4, Math.max(1, os.availableParallelism()));
  const pool = new ContentWriterPool(ctx, nWorkers, (n) => { progress.filesWritten += n; report?.(progress); });
  const devinoCanonical = o.devinoCanonical === true;
  const s: WalkSession = {
    ctx, modifier, pool, progress, files: [], storedDirect: [], cacheHits: 0, devinoCanonical,
    ...(o.linkCheckoutSpeedup || devinoCanonical ? { devino: scanDevino(repo.path) } : {}),
    // upstream adopts consumed files in bare-user-only always, in bare when nothing modifies them
    adopt: o.consume === true && (repo.mode === 'bare-user-only' || (repo.mode === 'bare' && !modifier.changesEntries && !ctx.noXattrs)),
    ...(report ? { report } : {}),
  };
  const root = new MutableTree(repo);
  if (o.base !== undefined) {
    const c = resolveRev(repo, o.base);
    if (c === null) throw new OstreeError('ENOENT', `Refspec '${o.base}' not found`);
    const bc = loadCommit(repo, c);
    overlayStored(repo, root, bc.rootTree, bc.rootMeta);
  }
  try {
    try {
      await addSources(repo, root, sources, s, o);
      modifier.checkAllMatched(o.warn ?? ((l) => { process.stderr.write(`${l}\n`); }));
    } catch (e) {
      await pool.abort();
      throw e;
    }
    progress.walkDone = true;
    report?.(progress);
    await pool.run(s.files);
  } finally {
    await pool.abort();
    dropStaging(repo);
  }
  failIfTestError(repo);
  const sizes = o.generateSizes && repo.mode === 'archive';
  const metadata: MetadataWritten[] = [];
  const written = writeMutableTree(repo, root, (m) => metadata.push(m));
  let sizeEntries: SizeEntry[] | undefined;
  if (sizes) {
    sizeEntries = [
      ...fileSizes(repo, [...s.files.map((f) => f.checksum!), ...s.storedDirect]),
      ...metadata.map((m) => ({ checksum: m.checksum, archived: m.size, unpacked: m.size, type: m.type })),
    ];
  }
  const extra = sizeEntries && sizeEntries.length > 0 ? [[SIZES_KEY, sizesVariant(sizeEntries)] as const] : [];
  const checksum = await writeCommit(repo, written.tree, written.meta, { ...o, trailingMetadata: extra.map(([k, v]) => [k, v]) }, o.bootable ? kernelVersionOf(root) : undefined);
  if (o.consume) for (const src of sources) if (src.kind === 'dir') fs.rmSync(path.resolve(src.path), { recursive: true, force: true });
  return {
    checksum,
    stats: {
      metadataTotal: metadata.length + 1, metadataWritten: metadata.filter((m) => m.isNew).length + 1,
      contentTotal: s.files.length, contentWritten: pool.written.objects, cacheHits: s.cacheHits, contentBytesWritten: pool.written.bytes,
    },
  };
}
