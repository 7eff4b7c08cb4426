/**
 * Small filesystem helpers: THE size-bounded reader of every file parsed whole (repository
 * metadata objects, refs and configs, summaries, BLS entries, origins; never a FIFO), atomic
 * file and symlink replacement, os-release parsing.  Whole-tree
 * operations (rm -rf, tree copies) are in util/tree.ts, so the `admin status` path does not
 * load them.  Synchronous on purpose: the sysroot callers hold the sysroot lock and run one step
 * after the other, and the order of these calls is the crash-safety argument (see
 * sysroot/write.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno, type ErrorCode } from '../errors.js';
import { formatSize } from './format-size.js';

let tmpCounter = 0;

/**
 * A suffix for temporary names: unique within this process (pid + counter) and unlikely to
 * collide with a crashed writer's leftovers (random part).  Not node:crypto: loading it costs
 * start-up time, and these names need no secrecy.
 */
export function tmpSuffix(): string {
  return `${process.pid.toString(36)}${(tmpCounter++).toString(36)}${Math.floor(Math.random() * 0x7fffffff).toString(36)}`;
}

/** lstat that returns null for a missing path. */
export function lstatOrNull(p: string): fs.Stats | null {
  try { return fs.lstatSync(p); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return null; throw e; }
}

/** stat (following symlinks) that returns null for a missing path or a dangling link. */
export function statOrNull(p: string): fs.Stats | null {
  try { return fs.statSync(p); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return null; throw e; }
}

export function readlinkOrNull(p: string): string | null {
  try { return fs.readlinkSync(p); } catch (e) { if (isErrno(e, 'ENOENT')) return null; throw e; }
}


/** `a FIFO`, `a directory`, … for error messages about what sits where a file should be. */
export function fileKind(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isFile()) return 'a regular file';
  return `of unknown type 0${(st.mode & 0o170000).toString(8)}`;
}

export interface BoundedReadOptions {
  /** What the file is, for the error message (`BLS entry`, `Origin file`, `Object X.commit`). */
  what: string;
  /** Follow a symlink at `p` (default true; the size bound applies to what it points at). */
  follow?: boolean;
  /** The code of the errors this raises (default ECORRUPT; a configuration file: ECONFIG). */
  code?: ErrorCode;
  /** What to do about a bad file, ending the messages (default: remove or replace it). */
  advice?: string;
  /** A directory at `p` counts as missing (a ref name that is a prefix of other refs). */
  directoryIsMissing?: boolean;
  /** Return the first `maxBytes` of a larger file instead of refusing it (a ref file: its
   *  first bytes already show it is garbage, and the message quotes them). */
  truncate?: boolean;
}

/**
 * THE bounded reader: every file we parse whole (repository metadata objects, refs, key files,
 * summaries, BLS entries, origins, ...) is read here.  The size is checked against `maxBytes`
 * (fstat, before any read): a file we parse must not take the process's memory with it.
 * Anything but a regular file is refused without being read: the open is non-blocking, so a
 * FIFO never waits for a writer (a socket fails to open: ENXIO).  Returns null when `p` does
 * not exist (ENOENT, or ENOTDIR: a path component is a file).
 */
export function readFileBounded(p: string, maxBytes: number, opts: BoundedReadOptions): Buffer | null {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (opts.follow === false ? fs.constants.O_NOFOLLOW : 0);
  const code = opts.code ?? 'ECORRUPT';
  const notRegular = (kind: string): OstreeError =>
    new OstreeError(code, `${opts.what} ${p} is ${kind}, not a regular file; ${opts.advice ?? 'remove or replace it'}`, { path: p });
  let fd: number;
  try {
    fd = fs.openSync(p, flags);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return null;
    if (isErrno(e, 'ELOOP')) throw notRegular('a symbolic link');
    if (isErrno(e, 'ENXIO')) throw notRegular('a socket');
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      if (opts.directoryIsMissing && st.isDirectory()) return null;
      throw notRegular(fileKind(st));
    }
    if (opts.truncate && st.size >= maxBytes) {
      const head = Buffer.allocUnsafe(maxBytes);
      let got = 0;
      for (let r = 1; r > 0 && got < maxBytes; got += r) r = fs.readSync(fd, head, got, maxBytes - got, null);
      return head.subarray(0, got);
    }
    if (st.size > maxBytes) {
      throw new OstreeError(code, `${opts.what} ${p} is ${formatSize(st.size)}, more than the limit of ${formatSize(maxBytes)}; ${opts.advice ?? 'remove or repair it'}`, { path: p });
    }
    // One byte more than fstat said: a file that grows while it is read is refused, not
    // read past the bound.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) throw new OstreeError(code, `${opts.what} ${p} changed size while being read; try again`, { path: p });
    }
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** A temporary name next to `target` (same directory, so a rename can replace it). */
export function tmpName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${tmpSuffix()}`);
}

/**
 * Write `data` to `target` through a temporary file in the same directory and rename it into
 * place.  With `sync`, the file is fsync'ed before the rename.
 */
export function writeFileAtomic(target: string, data: string | Buffer, options: { mode?: number; sync?: boolean } = {}): void {
  const tmp = tmpName(target);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, options.mode ?? 0o644);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    if (options.mode !== undefined) fs.fchmodSync(fd, options.mode);
    if (options.sync) fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Make `linkPath` a symlink to `target`, atomically replacing whatever is there. */
export function symlinkAtomic(target: string, linkPath: string): void {
  const tmp = `${linkPath}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, linkPath);
}

/** Set the mtime (and atime) of `p` to now. */
export function touchNow(p: string): void {
  const now = new Date();
  fs.utimesSync(p, now, now);
}

/** mkdir -p with a mode for newly created directories (not applied to existing ones). */
export function mkdirp(p: string, mode = 0o755): void {
  fs.mkdirSync(p, { recursive: true, mode });
}

/** Shell-style unquoting of an os-release value (`"a b"`, `'a'`, backslash escapes). */
export function shellUnquote(v: string): string {
  let out = '';
  let i = 0;
  while (i < v.length) {
    const c = v[i]!;
    if (c === "'") {
      const end = v.indexOf("'", i + 1);
      if (end < 0) { out += v.slice(i + 1); break; }
      out += v.slice(i + 1, end); i = end + 1; continue;
    }
    if (c === '"') {
      i++;
      while (i < v.length && v[i] !== '"') {
        if (v[i] === '\\' && i + 1 < v.length && '"\\$`\n'.includes(v[i + 1]!)) { out += v[i + 1]; i += 2; continue; }
        out += v[i]; i++;
      }
      i++; continue;
    }
    if (c === '\\' && i + 1 < v.length) { out += v[i + 1]; i += 2; continue; }
    out += c; i++;
  }
  return out;
}

/** Parse os-release text into a map (KEY=value lines, shell-unquoted). */
export function parseOsRelease(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    m.set(line.slice(0, eq), shellUnquote(line.slice(eq + 1)));
  }
  return m;
}
