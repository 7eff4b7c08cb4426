/**
 * `ostree fsck`: verify every object reachable from every (non-partial) commit, as upstream
 * 2022.7 does: metadata objects re-hash to their names, parse, are in normal form and pass the
 * structure checks (dirtree names, checksum sizes, dirmeta mode); content objects re-hash
 * (bare: the real file metadata, bare-user: the user.ostreemeta xattr, archive: the inflated
 * .filez) to their names. Content hashing runs on a pool of worker threads that take work from
 * a shared atomic counter (see maint-worker.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { Worker } from 'node:worker_threads';
import * as libc from '../native/libc.js';
import { OstreeError, isErrno } from '../errors.js';
import { serialize, Variant } from '../glib/gvariant.js';
import {
  BARE_USER_XATTR, S_IFLNK, S_IFMT, S_IFREG, isSymlinkMode, parseArchiveHeader, parseBareUserMeta,
  parseCommit, parseCommitMeta, parseDirMeta, parseDirTree, serializeCommit, serializeDirMeta,
  serializeFileHeader, sha256hex, sortXattrs, validateFilename,
  type CommitObject, type DirTree, type FileHeader, type ObjectType, type Xattr,
} from './objects.js';
import type { RepoMode } from './content.js';
import type { Repo } from './repo.js';

// ---------------------------------------------------------------------------------------------
// Worker pool (shared with pull-local)

export interface PoolFailure { index: number; code?: string; message: string }

export interface PoolOptions<R> {
  job: 'fsck' | 'pull';
  ctx: unknown;
  items: string[];
  /** Threads (default min(4, CPUs)); <= 1 runs in this thread. */
  workers?: number | undefined;
  init: () => R;
  merge: (a: R, b: R) => R;
  /** Stop handing out work after the first failure. */
  stopOnFailure?: boolean;
  onProgress?: (done: number, total: number) => void;
}

const BATCH = 8;
/**
 * fsck hands content objects to the pool while it walks the trees, in chunks that start small
 * (the workers get going as soon as the walk reaches the first files) and grow to this size.
 */
const STREAM_CHUNK = 256;
const STREAM_FIRST_CHUNK = 16;
/** Below this many items, worker start-up costs more than it saves. */
const POOL_MIN_ITEMS = 200;

type JobFn = (ctx: never, item: string, acc: never) => void | Promise<void>;

async function loadJob(job: 'fsck' | 'pull'): Promise<JobFn> {
  if (job === 'fsck') return fsckContentJob as JobFn;
  const m = await import('./pull/local.js');
  return m.pullJob as JobFn;
}

/**
 * Run `job` over `items`, in worker threads when worthwhile. Failures carry the item index;
 * the per-thread results are merged.
 */
export async function runPool<R>(o: PoolOptions<R>): Promise<{ result: R; failures: PoolFailure[] }> {
  return startPool(o, o.items.length).run(o.items);
}

export interface StartedPool<R> {
  /**
   * Hand over more items (indices continue after the earlier ones).  With workers they start on
   * them at once, so the caller can keep producing (fsck: walking the metadata) meanwhile.
   */
  push(items: readonly string[]): void;
  /** No more items: wait until all are done. */
  finish(): Promise<{ result: R; failures: PoolFailure[] }>;
  /** push(items) + finish() */
  run(items: readonly string[]): Promise<{ result: R; failures: PoolFailure[] }>;
  /** Stop the workers without collecting (error paths); harmless after finish(). */
  cancel(): Promise<void>;
}

/**
 * Start the workers now (their start-up overlaps whatever the caller does next, e.g. walking
 * the metadata) and stream the items to them with push(); finish() collects. `expected` sizes
 * the pool (no workers below POOL_MIN_ITEMS; then everything runs in this thread at finish()).
 *
 * Protocol: every worker gets every pushed chunk ({items}) and finally {end: true}; they claim
 * index ranges with compare-and-swap on a shared counter, never beyond what they have received.
 */
export function startPool<R>(o: Omit<PoolOptions<R>, 'items'>, expected: number): StartedPool<R> {
  const shared = new Int32Array(new SharedArrayBuffer(12)); // [next, done, abort]
  const nWorkers = Math.min(o.workers ?? Math.min(4, Math.max(1, os.availableParallelism())), Math.ceil(expected / BATCH));
  const useWorkers = nWorkers > 1 && expected >= POOL_MIN_ITEMS;
  const workers: Worker[] = [];
  const replies: Array<Promise<{ result: R; failures: PoolFailure[] }>> = [];
  const all: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  if (o.onProgress) {
    timer = setInterval(() => o.onProgress!(Atomics.load(shared, 1), all.length), 200);
    timer.unref();
  }
  if (useWorkers) {
    const url = new URL('./maint-worker.js', import.meta.url);
    for (let i = 0; i < nWorkers; i++) {
      const w = new Worker(url, { workerData: { job: o.job, ctx: o.ctx, shared, stopOnFailure: o.stopOnFailure === true } });
      workers.push(w);
      replies.push(new Promise((resolve, reject) => {
        w.once('message', (m: { result: R; failures: PoolFailure[] }) => resolve(m));
        w.once('error', reject);
        w.once('exit', (code) => reject(new OstreeError('EIO', `maintenance worker exited with code ${code} before answering`)));
      }));
      replies[i]!.catch(() => { /* observed in finish() */ });
    }
  }
  const pool: StartedPool<R> = {
    push(items) {
      if (items.length === 0) return;
      for (const it of items) all.push(it);
      if (useWorkers) {
        const chunk = items.slice();
        for (const w of workers) w.postMessage({ items: chunk });
      }
    },
    async finish() {
      try {
        if (!useWorkers) {
          const acc = o.init();
          const failures = await runLoop(await loadJob(o.job), o.ctx, all, shared, acc, o.stopOnFailure === true);
          return { result: acc, failures };
        }
        for (const w of workers) w.postMessage({ end: true });
        const rs = await Promise.all(replies);
        let result = o.init();
        const failures: PoolFailure[] = [];
        for (const r of rs) { result = o.merge(result, r.result); failures.push(...r.failures); }
        failures.sort((a, b) => a.index - b.index);
        return { result, failures };
      } finally {
        if (timer) clearInterval(timer);
        await Promise.all(workers.map((w) => w.terminate()));
      }
    },
    run(items) { pool.push(items); return pool.finish(); },
    async cancel() {
      if (timer) clearInterval(timer);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
  return pool;
}

/** The loop the main thread runs when there are no workers: take BATCH items at a time. */
export async function runLoop(fn: JobFn, ctx: unknown, items: string[], shared: Int32Array, acc: unknown, stopOnFailure: boolean): Promise<PoolFailure[]> {
  const failures: PoolFailure[] = [];
  for (;;) {
    if (Atomics.load(shared, 2) !== 0) break;
    const start = Atomics.add(shared, 0, BATCH);
    if (start >= items.length) break;
    const end = Math.min(items.length, start + BATCH);
    await runRange(fn, ctx, items, start, end, acc, failures, shared, stopOnFailure);
  }
  return failures;
}

async function runRange(fn: JobFn, ctx: unknown, items: string[], start: number, end: number, acc: unknown,
  failures: PoolFailure[], shared: Int32Array, stopOnFailure: boolean): Promise<void> {
  for (let i = start; i < end; i++) {
    try {
      const r = fn(ctx as never, items[i]!, acc as never);
      if (r) await r;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      failures.push({ index: i, code: err.code, message: err.message ?? String(e) });
      if (stopOnFailure) Atomics.store(shared, 2, 1);
    }
  }
  Atomics.add(shared, 1, end - start);
}

/**
 * A worker's loop over a growing item list (see startPool): claim [next, next+BATCH) capped at
 * the items received so far; when caught up, wait for the next chunk; stop after `end`.
 */
export async function runStreamLoop(fn: JobFn, ctx: unknown, feed: { items: string[]; ended: boolean; next(): Promise<void> },
  shared: Int32Array, acc: unknown, stopOnFailure: boolean): Promise<PoolFailure[]> {
  const failures: PoolFailure[] = [];
  for (;;) {
    if (Atomics.load(shared, 2) !== 0) break;
    const have = feed.items.length;
    const start = Atomics.load(shared, 0);
    if (start >= have) {
      if (feed.ended) break;
      await feed.next();
      continue;
    }
    const end = Math.min(have, start + BATCH);
    if (Atomics.compareExchange(shared, 0, start, end) !== start) continue; // another worker won
    await runRange(fn, ctx, feed.items, start, end, acc, failures, shared, stopOnFailure);
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------
// Content objects

export interface FsckContentContext { repoPath: string; mode: RepoMode }

const OTHER_MODE_BITS = ~(S_IFMT | 0o7777) >>> 0;

/** ostree_validate_structureof_file_mode */
function checkFileMode(mode: number): void {
  const t = mode & S_IFMT;
  if (t !== S_IFREG && t !== S_IFLNK) throw new OstreeError('ECORRUPT', `Invalid file metadata mode ${mode}; not a valid file type`);
  if ((mode & OTHER_MODE_BITS) !== 0) throw new OstreeError('ECORRUPT', `Invalid mode ${mode}; invalid bits in mode`);
}

let readBuf: Buffer | null = null;
const CHUNK = 1024 * 1024;
const ARCHIVE_INLINE_MAX = 8 * 1024 * 1024;

function fdXattrs(fd: number): Xattr[] {
  const names = libc.flistxattr(fd);
  if (names.length === 0) return [];
  const out: Xattr[] = [];
  for (const n of names) { const v = libc.fgetxattr(fd, n); if (v !== null) out.push([n, v]); }
  return sortXattrs(out);
}

/**
 * sha256(header ‖ file data) from `fd`.  Reads exactly `size` bytes (from fstat) in chunks of up
 * to CHUNK — no extra read to find EOF; a file that is shorter than its stat size throws (it is
 * being modified or is damaged), one that grew since fstat hashes as its stat size (it was not
 * the object anyway).
 */
function hashFd(fd: number, headerBytes: Buffer, size: number): string {
  const h = createHash('sha256').update(headerBytes);
  const buf = (readBuf ??= Buffer.allocUnsafe(CHUNK));
  let left = size;
  while (left > 0) {
    const n = fs.readSync(fd, buf, 0, Math.min(left, buf.length), null);
    if (n === 0) throw new OstreeError('ECORRUPT', `file object shrank while being read (${size - left} of ${size} bytes)`);
    h.update(n === buf.length ? buf : buf.subarray(0, n));
    left -= n;
  }
  return h.digest('hex');
}

function compare(expected: string, actual: string): void {
  if (expected !== actual) throw new OstreeError('ECORRUPT', `Corrupted file object; checksum expected='${expected}' actual='${actual}'`);
}

function missing(checksum: string): OstreeError {
  return new OstreeError('ENOENT', `Object missing: ${checksum}.file`);
}

/**
 * Verify one content object of a repository; throws OstreeError ENOENT when it is missing,
 * ECORRUPT when it does not hash to its name or is malformed.
 */
export function fsckContentObject(ctx: FsckContentContext, checksum: string): void | Promise<void> {
  const { mode } = ctx;
  const objName = `${checksum}.file`;
  // (string concatenation: path.join per object is measurable at 30k objects)
  const p = `${ctx.repoPath}/objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${mode === 'archive' ? 'filez' : 'file'}`;
  if (mode === 'archive') return fsckArchive(p, checksum, objName);
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw missing(checksum);
    if (!isErrno(e, 'ELOOP')) throw e;
    if (mode === 'bare-user') throw new OstreeError('ECORRUPT', `${objName}: is a symlink, bare-user objects are regular files`);
    // A symlink object (bare, bare-user-only).
    const st = fs.lstatSync(p);
    const header: FileHeader = {
      uid: mode === 'bare' ? st.uid : 0, gid: mode === 'bare' ? st.gid : 0, mode: st.mode, rdev: 0,
      symlinkTarget: fs.readlinkSync(p), xattrs: mode === 'bare' ? sortXattrs(libc.lgetxattrs(p)) : [],
    };
    checkFileMode(header.mode);
    compare(checksum, sha256hex(serializeFileHeader(header)));
    return;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new OstreeError('ECORRUPT', `${objName}: not a regular file or symlink`);
    let header: FileHeader;
    if (mode === 'bare') {
      header = { uid: st.uid, gid: st.gid, mode: st.mode, rdev: 0, symlinkTarget: '', xattrs: fdXattrs(fd) };
    } else if (mode === 'bare-user-only') {
      header = { uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: '', xattrs: [] };
    } else {
      const raw = libc.fgetxattr(fd, BARE_USER_XATTR);
      if (raw === null) throw new OstreeError('ECORRUPT', `${objName}: missing ${BARE_USER_XATTR} xattr`);
      const m = parseBareUserMeta(raw, objName);
      if (isSymlinkMode(m.mode)) {
        let t = fs.readFileSync(fd);
        if (t.length > 0 && t[t.length - 1] === 0) t = t.subarray(0, -1);
        header = { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: t.toString('utf8'), xattrs: m.xattrs };
        checkFileMode(header.mode);
        compare(checksum, sha256hex(serializeFileHeader(header)));
        return;
      }
      header = { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: '', xattrs: m.xattrs };
    }
    checkFileMode(header.mode);
    compare(checksum, hashFd(fd, serializeFileHeader(header), st.size));
  } finally {
    fs.closeSync(fd);
  }
}

function fsckArchive(p: string, checksum: string, objName: string): void | Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw missing(checksum);
    throw e;
  }
  let size: number;
  let body: Buffer | null = null;
  let header: FileHeader;
  let dataOffset: number;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new OstreeError('ECORRUPT', `${objName}: not a regular file`);
    if (st.size < 8) throw new OstreeError('ECORRUPT', `${objName}: truncated archive object (${st.size} bytes)`);
    if (st.size <= ARCHIVE_INLINE_MAX) {
      const all = Buffer.allocUnsafe(st.size);
      let got = 0;
      while (got < st.size) { const n = fs.readSync(fd, all, got, st.size - got, got); if (n === 0) break; got += n; }
      const parsed = parseArchiveHeader(all.subarray(0, got), objName);
      header = parsed.header; size = Number(parsed.size); dataOffset = parsed.headerLength;
      body = all.subarray(dataOffset, got);
    } else {
      const head = Buffer.alloc(8);
      fs.readSync(fd, head, 0, 8, 0);
      const len = head.readUInt32BE(0);
      if (len > 16 * 1024 * 1024 || 8 + len > st.size) throw new OstreeError('ECORRUPT', `${objName}: invalid archive header length ${len}`);
      const hb = Buffer.alloc(8 + len);
      fs.readSync(fd, hb, 0, 8 + len, 0);
      const parsed = parseArchiveHeader(hb, objName);
      header = parsed.header; size = Number(parsed.size); dataOffset = parsed.headerLength;
    }
  } finally {
    fs.closeSync(fd);
  }
  checkFileMode(header.mode);
  const hdr = serializeFileHeader(header);
  if (isSymlinkMode(header.mode)) { compare(checksum, sha256hex(hdr)); return; }
  if (body !== null) {
    let data: Buffer;
    try {
      data = zlib.inflateRawSync(body);
    } catch (e) {
      throw new OstreeError('ECORRUPT', `${objName}: corrupted compressed data: ${(e as Error).message}`);
    }
    if (data.length !== size) throw new OstreeError('ECORRUPT', `${objName}: size ${data.length} of the inflated data differs from the header's ${size}`);
    compare(checksum, createHash('sha256').update(hdr).update(data).digest('hex'));
    return;
  }
  return (async () => {
    const h = createHash('sha256').update(hdr);
    let total = 0;
    try {
      for await (const c of fs.createReadStream(p, { start: dataOffset, highWaterMark: CHUNK }).pipe(zlib.createInflateRaw())) {
        h.update(c as Buffer);
        total += (c as Buffer).length;
      }
    } catch (e) {
      throw new OstreeError('ECORRUPT', `${objName}: corrupted compressed data: ${(e as Error).message}`);
    }
    if (total !== size) throw new OstreeError('ECORRUPT', `${objName}: size ${total} of the inflated data differs from the header's ${size}`);
    compare(checksum, h.digest('hex'));
  })();
}

export function fsckContentJob(ctx: FsckContentContext, checksum: string, acc: { checked: number }): void | Promise<void> {
  acc.checked++;
  return fsckContentObject(ctx, checksum);
}

// ---------------------------------------------------------------------------------------------
// Metadata objects

const OTHER_DIR_BITS = ~(S_IFMT | 0o7777) >>> 0;

/**
 * Verify a metadata object's checksum, structure and normal form; return the parsed object.
 * Throws ENOENT if missing, ECORRUPT otherwise (message prefixed like upstream's).
 */
export function fsckMetadataObject(repo: Repo, checksum: string, type: 'commit' | 'dirtree' | 'dirmeta' | 'commitmeta'): CommitObject | DirTree | null {
  const name = `${checksum}.${type}`;
  let data: Buffer;
  try {
    data = fs.readFileSync(repo.objectPath(checksum, type));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `Object missing: ${name}`);
    throw e;
  }
  try {
    if (type === 'commitmeta') { parseCommitMeta(data, name); return null; }
    const actual = sha256hex(data);
    if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object; checksum expected='${checksum}' actual='${actual}'`);
    let re: Buffer;
    let parsed: CommitObject | DirTree | null;
    if (type === 'commit') {
      const c = parseCommit(data, name);
      if (c.metadata.some(([k]) => k === '')) throw new OstreeError('ECORRUPT', `${name}: Empty metadata key`);
      re = serializeCommit(c);
      parsed = c;
    } else if (type === 'dirtree') {
      return parseDirTree(data, name);
    } else {
      const m = parseDirMeta(data, name);
      if ((m.mode & OTHER_DIR_BITS) !== 0) throw new OstreeError('ECORRUPT', `${name}: Invalid mode ${m.mode}; invalid bits in mode`);
      re = serializeDirMeta(m);
      parsed = null;
    }
    if (!re.equals(data)) throw new OstreeError('ECORRUPT', `${name}: Not normal form`);
    return parsed;
  } catch (e) {
    if (e instanceof OstreeError) throw new OstreeError('ECORRUPT', `fsck ${name}: ${e.message}`, { cause: e });
    throw new OstreeError('ECORRUPT', `fsck ${name}: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// The whole-repository check

export interface FsckOptions {
  /** Don't print progress/info lines. */
  quiet?: boolean;
  /** Delete corrupted objects (and mark their commits partial). */
  delete?: boolean;
  /** Report every corrupted object instead of stopping at the first. */
  all?: boolean;
  /** Replace commits whose parent is missing with tombstones (upstream semantics: deletes the commit). */
  addTombstones?: boolean;
  /** Check ref bindings of the commits refs point to. */
  verifyBindings?: boolean;
  workers?: number;
}

export interface FsckReporter {
  /** stdout lines (info and progress). */
  info(line: string): void;
  /** stderr lines (problems that don't stop the check). */
  warn(line: string): void;
}

export interface FsckResult {
  refsChecked: number;
  commitsVerified: number;
  objectsChecked: number;
  partialCommits: number;
  missing: string[];
  corrupted: Array<{ object: string; message: string }>;
  markedPartial: string[];
  deleted: string[];
  tombstoned: string[];
}

interface RefEntry { name: string; file: string; collection?: string }

function listRefFiles(repoPath: string): { refs: RefEntry[]; collectionRefs: RefEntry[] } {
  const refs: RefEntry[] = [];
  const collectionRefs: RefEntry[] = [];
  const walk = (dir: string, rel: string, push: (name: string, file: string) => void): void => {
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, r, push);
      else push(r, p);
    }
  };
  walk(path.join(repoPath, 'refs', 'heads'), '', (name, file) => refs.push({ name, file }));
  let remotes: string[] = [];
  try { remotes = fs.readdirSync(path.join(repoPath, 'refs', 'remotes')).sort(); } catch { /* none */ }
  for (const r of remotes) walk(path.join(repoPath, 'refs', 'remotes', r), '', (name, file) => refs.push({ name: `${r}:${name}`, file }));
  let cols: string[] = [];
  try { cols = fs.readdirSync(path.join(repoPath, 'refs', 'mirrors')).sort(); } catch { /* none */ }
  for (const c of cols) walk(path.join(repoPath, 'refs', 'mirrors', c), '', (name, file) => collectionRefs.push({ name, file, collection: c }));
  return { refs, collectionRefs };
}

function readRefChecksum(e: RefEntry): string {
  let text: string;
  try { text = fs.readFileSync(e.file, 'utf8'); } catch (err) {
    throw new OstreeError('EIO', `Loading commit for ref ${e.name}: cannot read ref file ${e.file}: ${(err as Error).message}`);
  }
  const c = text.trim();
  if (!/^[0-9a-f]{64}$/.test(c)) {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text.replace(/\n$/, '');
    throw new OstreeError('ECORRUPT', `Loading commit for ref ${e.name}: ref file ${e.file} holds garbage, not a commit checksum: ${JSON.stringify(shown)}`);
  }
  return c;
}

function commitState(repoPath: string, checksum: string): 'normal' | 'partial' | 'fsck-partial' {
  let fd: number;
  try { fd = fs.openSync(path.join(repoPath, 'state', `${checksum}.commitpartial`), 'r'); } catch { return 'normal'; }
  try {
    const b = Buffer.alloc(1);
    return fs.readSync(fd, b, 0, 1, 0) === 1 && b[0] === 0x66 /* 'f' */ ? 'fsck-partial' : 'partial';
  } finally { fs.closeSync(fd); }
}

function markFsckPartial(repoPath: string, checksum: string): boolean {
  fs.mkdirSync(path.join(repoPath, 'state'), { recursive: true });
  try {
    const fd = fs.openSync(path.join(repoPath, 'state', `${checksum}.commitpartial`), 'wx', 0o644);
    try { fs.writeSync(fd, 'f'); } finally { fs.closeSync(fd); }
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw e;
  }
}

function listCommitObjects(repoPath: string): string[] {
  const out: string[] = [];
  const objdir = path.join(repoPath, 'objects');
  let subs: string[] = [];
  try { subs = fs.readdirSync(objdir); } catch { return out; }
  for (const sub of subs.sort()) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const f of fs.readdirSync(path.join(objdir, sub)).sort()) {
      if (f.length === 62 + 7 && f.endsWith('.commit') && /^[0-9a-f]{62}$/.test(f.slice(0, 62))) out.push(sub + f.slice(0, 62));
    }
  }
  return out;
}

/** Run the check. Throws OstreeError (ECORRUPT) on corruption, after reporting what it found. */
export async function fsckRepo(repo: Repo, options: FsckOptions = {}, reporter: FsckReporter = { info: () => {}, warn: () => {} }): Promise<FsckResult> {
  const info = (l: string): void => { if (!options.quiet) reporter.info(l); };
  const res: FsckResult = {
    refsChecked: 0, commitsVerified: 0, objectsChecked: 0, partialCommits: 0, missing: [], corrupted: [],
    markedPartial: [], deleted: [], tombstoned: [],
  };
  let foundCorruption = false;

  // A corrupted object: stop (default), report and go on (--all), or delete it (--delete).
  // Returns true when the object must now be treated as missing.
  const onCorrupt = (objName: string, message: string): boolean => {
    res.corrupted.push({ object: objName, message });
    if (options.delete) {
      reporter.warn(message);
      const { checksum, type } = splitName(objName);
      try { fs.unlinkSync(repo.objectPath(checksum, type)); res.deleted.push(objName); } catch { /* already gone */ }
      return true;
    }
    if (options.all) { foundCorruption = true; reporter.warn(message); return false; }
    throw new OstreeError('ECORRUPT', message);
  };

  // Content workers start now: their start-up overlaps the ref and metadata checks.
  const pool = startPool<{ checked: number }>({
    job: 'fsck', ctx: { repoPath: repo.path, mode: repo.mode } satisfies FsckContentContext, workers: options.workers,
    init: () => ({ checked: 0 }), merge: (a, b) => ({ checked: a.checked + b.checked }),
  }, estimateObjects(repo.path));
  try {
    // 1. Refs.
    info('Validating refs...');
    const { refs, collectionRefs } = listRefFiles(repo.path);
    const checkRef = (e: RefEntry): void => {
      const c = readRefChecksum(e);
      res.refsChecked++;
      try {
        fsckMetadataObject(repo, c, 'commit');
      } catch (err) {
        const oe = err as OstreeError;
        if (oe.code === 'ENOENT') {
          reporter.warn(`Object missing: ${c}.commit`);
          throw new OstreeError('ENOENT', `Loading commit for ref ${e.collection ? `(${e.collection}, ${e.name})` : e.name}: No such metadata object ${c}.commit`);
        }
        if (onCorrupt(`${c}.commit`, oe.message)) {
          throw new OstreeError('ENOENT', `Loading commit for ref ${e.name}: No such metadata object ${c}.commit`);
        }
      }
    };
    for (const e of refs) checkRef(e);
    info('Validating refs in collections...');
    for (const e of collectionRefs) checkRef(e);

    // 2. Commits.
    info('Enumerating commits...');
    const commits: string[] = [];
    let nFsckPartial = 0;
    const toTombstone: string[] = [];
    for (const c of listCommitObjects(repo.path)) {
      const st = commitState(repo.path, c);
      if (options.addTombstones) {
        try {
          const obj = parseCommit(fs.readFileSync(repo.objectPath(c, 'commit')), `${c}.commit`);
          if (obj.parent && !repo.hasObjectSync(obj.parent, 'commit')) toTombstone.push(c);
        } catch { /* reported by the verification below */ }
      }
      if (st !== 'normal') {
        res.partialCommits++;
        if (st === 'fsck-partial') nFsckPartial++;
      } else {
        commits.push(c);
      }
    }

    // 3. Metadata: walk every commit (checking each metadata object once), collect content.
    info(`Verifying content integrity of ${commits.length} commit objects...`);
    // Walk order positions (for reporting problems in traversal order) are counted, not stored
    // as names: 30k `<checksum>.file` strings and their hashing were a good part of the walk.
    const seenMeta = new Set<string>();   // `<checksum>.<type>` of metadata objects
    const seenFiles = new Set<string>();  // content checksums
    let total = 0;                        // objects visited so far = next walk position
    const problems: Array<{ name: string; code: string; message: string; pos: number }> = [];
    const files: string[] = [];
    const filePos: number[] = [];         // walk position of files[i]
    let pushed = 0; // files[0, pushed) are with the pool already
    let chunk = STREAM_FIRST_CHUNK;
    const visitMeta = (checksum: string, type: 'commit' | 'dirtree' | 'dirmeta'): CommitObject | DirTree | null | undefined => {
      const name = `${checksum}.${type}`;
      if (seenMeta.has(name)) return undefined;
      seenMeta.add(name);
      const pos = total++;
      try {
        return fsckMetadataObject(repo, checksum, type);
      } catch (e) {
        const oe = e as OstreeError;
        problems.push({ name, code: oe.code ?? 'EIO', message: oe.message, pos });
        return undefined;
      }
    };
    const walkTree = (tree: string): void => {
      const t = visitMeta(tree, 'dirtree') as DirTree | undefined;
      if (!t) return;
      for (const f of t.files) {
        const cs = f.checksum;
        if (!seenFiles.has(cs)) { seenFiles.add(cs); files.push(cs); filePos.push(total++); }
      }
      if (files.length - pushed >= chunk) {
        pool.push(files.slice(pushed));
        pushed = files.length;
        chunk = Math.min(STREAM_CHUNK, chunk * 2);
      }
      for (const d of t.dirs) { visitMeta(d.metaChecksum, 'dirmeta'); walkTree(d.treeChecksum); }
    };
    for (const c of commits) {
      const obj = visitMeta(c, 'commit') as CommitObject | undefined;
      if (!obj) continue;
      visitMeta(obj.rootMeta, 'dirmeta');
      walkTree(obj.rootTree);
    }
    if (total > 0) reporter.info(`fsck objects (1/${total}) ${Math.floor(100 / total)}%`); // printed even with --quiet, as upstream

    // 4. Content, in parallel.
    pool.push(files.slice(pushed));
    const checked = await pool.finish();
    for (const f of checked.failures) problems.push({ name: `${files[f.index]}.file`, code: f.code ?? 'EIO', message: f.message, pos: f.index >= 0 ? filePos[f.index]! : -1 });
    res.objectsChecked = total;
    res.commitsVerified = commits.length;

    // 5. Report, in traversal order, naming the commits each problem object belongs to.
    if (problems.length > 0) {
      problems.sort((a, b) => a.pos - b.pos);
      const parents = commitsContaining(repo, commits, new Set(problems.map((p) => p.name)));
      for (const p of problems) {
        const owners = parents.get(p.name) ?? [];
        const inCommits = owners.length > 0 ? `In commits ${owners.join(', ')}: ` : '';
        let isMissing = p.code === 'ENOENT';
        if (!isMissing) {
          const { checksum, type } = splitName(p.name);
          const msg = type === 'file' ? `${inCommits}fsck content object ${checksum}: ${p.message}` : `${inCommits}${p.message}`;
          isMissing = onCorrupt(p.name, msg);
          if (!isMissing) continue;
        } else {
          res.missing.push(p.name);
          reporter.warn(owners.length > 0 ? `Object missing in commits ${owners.join(', ')}: ${p.name}` : `Object missing: ${p.name}`);
        }
        foundCorruption = true;
        if (!p.name.endsWith('.commit')) {
          for (const c of owners) {
            if (markFsckPartial(repo.path, c)) { reporter.warn(`Marking commit as partial: ${c}`); res.markedPartial.push(c); }
          }
        }
      }
    }
    if (total > 0) reporter.info(`fsck objects (${total}/${total}) 100%`);

    // 6. Tombstones / partial commits, and the verdict.
    if (options.addTombstones) {
      for (const c of toTombstone) {
        reporter.info(`Adding tombstone for commit ${c}`);
        repo.config.set('core', 'tombstone-commits', 'true');
        await repo.saveConfig();
        const tomb = serialize('a{sv}', [['commit', new Variant('ay', Buffer.from(`${c}\0`))]], { bigEndian: true });
        const tp = `${repo.path}/objects/${c.slice(0, 2)}/${c.slice(2)}.commit-tombstone`;
        fs.writeFileSync(`${tp}.tmp-${process.pid}`, tomb, { mode: 0o644 });
        fs.renameSync(`${tp}.tmp-${process.pid}`, tp);
        fs.unlinkSync(repo.objectPath(c, 'commit'));
        res.tombstoned.push(c);
      }
    } else if (res.partialCommits > 0) {
      reporter.info(`${res.partialCommits} partial commits not verified`);
    }
    if (foundCorruption) throw new OstreeError('ECORRUPT', 'Repository corruption encountered');
    if (nFsckPartial > 0) throw new OstreeError('ECORRUPT', `${res.partialCommits} partial commits from fsck-detected corruption`);
    reporter.info(`object fsck of ${commits.length} commits completed successfully - no errors found.`);
    return res;
  } finally {
    await pool.cancel(); // error paths: no worker may outlive the check
  }
}

/** Rough number of loose objects (one sample fan-out directory x 256), to size the pool early. */
function estimateObjects(repoPath: string): number {
  for (const sub of ['00', '80', 'ff', '7f']) {
    try { return fs.readdirSync(path.join(repoPath, 'objects', sub)).length * 256; } catch { /* try another */ }
  }
  return 0;
}

function splitName(name: string): { checksum: string; type: ObjectType } {
  const i = name.indexOf('.');
  return { checksum: name.slice(0, i), type: name.slice(i + 1) as ObjectType };
}

/** For each wanted object name, the (sorted) commits whose tree reaches it. */
function commitsContaining(repo: Repo, commits: string[], wanted: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (n: string, c: string): void => { if (wanted.has(n)) { const l = out.get(n) ?? []; if (!l.includes(c)) l.push(c); out.set(n, l); } };
  const treeCache = new Map<string, DirTree | null>();
  const loadTree = (t: string): DirTree | null => {
    if (treeCache.has(t)) return treeCache.get(t)!;
    let v: DirTree | null = null;
    try { v = parseDirTree(fs.readFileSync(repo.objectPath(t, 'dirtree')), t); } catch { v = null; }
    treeCache.set(t, v);
    return v;
  };
  for (const c of [...commits].sort()) {
    add(`${c}.commit`, c);
    let obj: CommitObject;
    try { obj = parseCommit(fs.readFileSync(repo.objectPath(c, 'commit')), c); } catch { continue; }
    add(`${obj.rootMeta}.dirmeta`, c);
    const visited = new Set<string>();
    const walk = (t: string): void => {
      if (visited.has(t)) return;
      visited.add(t);
      add(`${t}.dirtree`, c);
      const dt = loadTree(t);
      if (!dt) return;
      for (const f of dt.files) add(`${f.checksum}.file`, c);
      for (const d of dt.dirs) { add(`${d.metaChecksum}.dirmeta`, c); walk(d.treeChecksum); }
    };
    walk(obj.rootTree);
  }
  return out;
}
