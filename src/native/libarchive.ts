/**
 * The system's libarchive (libarchive.so.13), bound with koffi: what upstream's `commit
 * --tree=tar=` reads (any format and compression libarchive knows: tar, cpio, gzip, xz...) and
 * what `export` writes (GNU tar, as upstream). Using the same library as upstream keeps the
 * formats accepted and the bytes written the same. Loaded on first use; `available()` says
 * whether the library is there (the `libarchive` feature of `ostree --version`).
 *
 * Errors are OstreeErrors carrying libarchive's own message.
 */
import { createRequire } from 'node:module';
import type * as KoffiNS from 'koffi';
import { OstreeError } from '../errors.js';

type Fn = (...args: any[]) => any;

interface Lib {
  koffi: typeof KoffiNS;
  readNew: Fn; readSupportFilterAll: Fn; readSupportFormatAll: Fn; readSupportFormatRaw: Fn;
  readOpenFilename: Fn; readOpenFd: Fn; readNextHeader: Fn; readData: Fn; readFree: Fn; errorString: Fn;
  entryPathname: Fn; entryHardlink: Fn; entrySymlink: Fn; entryMode: Fn; entryUid: Fn; entryGid: Fn; entrySize: Fn;
  entryXattrReset: Fn; entryXattrNext: Fn;
  writeNew: Fn; writeSetFormatGnutar: Fn; writeAddFilterNone: Fn; writeOpenFilename: Fn; writeOpenFd: Fn;
  writeHeader: Fn; writeData: Fn; writeFinishEntry: Fn; writeClose: Fn; writeFree: Fn;
  entryNew2: Fn; entryFree: Fn; entryUpdatePathnameUtf8: Fn; entrySetTime: Record<'a' | 'c' | 'm', Fn>;
  entrySetUid: Fn; entrySetGid: Fn; entrySetMode: Fn; entrySetSize: Fn; entrySetSymlink: Fn; entryXattrAdd: Fn;
}

const ARCHIVE_EOF = 1;
const ARCHIVE_OK = 0;
const ARCHIVE_WARN = -20;

let cache: Lib | null | undefined;

function load(): Lib | null {
  if (cache !== undefined) return cache;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof KoffiNS;
    const l = koffi.load('libarchive.so.13');
    cache = {
      koffi,
      readNew: l.func('void *archive_read_new()'),
      readSupportFilterAll: l.func('int archive_read_support_filter_all(void *a)'),
      readSupportFormatAll: l.func('int archive_read_support_format_all(void *a)'),
      readSupportFormatRaw: l.func('int archive_read_support_format_raw(void *a)'),
      readOpenFilename: l.func('int archive_read_open_filename(void *a, const char *name, size_t block)'),
      readOpenFd: l.func('int archive_read_open_fd(void *a, int fd, size_t block)'),
      readNextHeader: l.func('int archive_read_next_header(void *a, _Out_ void **entry)'),
      readData: l.func('intptr_t archive_read_data(void *a, void *buf, size_t size)'),
      readFree: l.func('int archive_read_free(void *a)'),
      errorString: l.func('const char *archive_error_string(void *a)'),
      entryPathname: l.func('const char *archive_entry_pathname(void *e)'),
      entryHardlink: l.func('const char *archive_entry_hardlink(void *e)'),
      entrySymlink: l.func('const char *archive_entry_symlink(void *e)'),
      entryMode: l.func('uint32_t archive_entry_mode(void *e)'),
      entryUid: l.func('int64_t archive_entry_uid(void *e)'),
      entryGid: l.func('int64_t archive_entry_gid(void *e)'),
      entrySize: l.func('int64_t archive_entry_size(void *e)'),
      entryXattrReset: l.func('int archive_entry_xattr_reset(void *e)'),
      entryXattrNext: l.func('int archive_entry_xattr_next(void *e, _Out_ const char **name, _Out_ void **value, _Out_ size_t *size)'),
      writeNew: l.func('void *archive_write_new()'),
      writeSetFormatGnutar: l.func('int archive_write_set_format_gnutar(void *a)'),
      writeAddFilterNone: l.func('int archive_write_add_filter_none(void *a)'),
      writeOpenFilename: l.func('int archive_write_open_filename(void *a, const char *name)'),
      writeOpenFd: l.func('int archive_write_open_fd(void *a, int fd)'),
      writeHeader: l.func('int archive_write_header(void *a, void *e)'),
      writeData: l.func('intptr_t archive_write_data(void *a, const void *buf, size_t size)'),
      writeFinishEntry: l.func('int archive_write_finish_entry(void *a)'),
      writeClose: l.func('int archive_write_close(void *a)'),
      writeFree: l.func('int archive_write_free(void *a)'),
      entryNew2: l.func('void *archive_entry_new2(void *a)'),
      entryFree: l.func('void archive_entry_free(void *e)'),
      entryUpdatePathnameUtf8: l.func('int archive_entry_update_pathname_utf8(void *e, const char *p)'),
      entrySetTime: {
        a: l.func('void archive_entry_set_atime(void *e, int64_t s, long ns)'),
        c: l.func('void archive_entry_set_ctime(void *e, int64_t s, long ns)'),
        m: l.func('void archive_entry_set_mtime(void *e, int64_t s, long ns)'),
      },
      entrySetUid: l.func('void archive_entry_set_uid(void *e, int64_t uid)'),
      entrySetGid: l.func('void archive_entry_set_gid(void *e, int64_t gid)'),
      entrySetMode: l.func('void archive_entry_set_mode(void *e, uint32_t mode)'),
      entrySetSize: l.func('void archive_entry_set_size(void *e, int64_t size)'),
      entrySetSymlink: l.func('void archive_entry_set_symlink(void *e, const char *target)'),
      entryXattrAdd: l.func('void archive_entry_xattr_add_entry(void *e, const char *name, const void *value, size_t size)'),
    };
  } catch {
    cache = null;
  }
  return cache;
}

/** Whether libarchive could be loaded. */
export function available(): boolean { return load() !== null; }

function lib(): Lib {
  const l = load();
  if (!l) throw new OstreeError('EIO', 'This version of ostree is not compiled with libarchive support (libarchive.so.13 could not be loaded)');
  return l;
}

function fail(l: Lib, a: unknown, what: string): never {
  const msg = l.errorString(a) as string | null;
  throw new OstreeError('EIO', msg ?? `libarchive: ${what} failed`);
}

/** One entry's header, as the archive states it. */
export interface ArchiveEntryInfo {
  pathname: string;
  hardlink: string | null;
  symlink: string | null;
  /** File type and permission bits (st_mode). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  xattrs: Array<[string, Buffer]>;
}

/** Reading an archive entry by entry (any format and filter libarchive supports). */
export class ArchiveReader {
  private a: unknown;
  private readonly l: Lib;

  /** Open the file at `file`, or standard input for '-'. */
  constructor(file: string) {
    this.l = lib();
    this.a = this.l.readNew();
    this.l.readSupportFilterAll(this.a);
    this.l.readSupportFormatAll(this.a);
    const r = file === '-' ? this.l.readOpenFd(this.a, 0, 10240) : this.l.readOpenFilename(this.a, file, 10240);
    if (r !== ARCHIVE_OK) { try { fail(this.l, this.a, 'open'); } finally { this.close(); } }
  }

  /** The next entry's header, or null at the end. */
  next(): ArchiveEntryInfo | null {
    const out: unknown[] = [null];
    const r = this.l.readNextHeader(this.a, out) as number;
    if (r === ARCHIVE_EOF) return null;
    if (r !== ARCHIVE_OK && r !== ARCHIVE_WARN) fail(this.l, this.a, 'reading a header');
    const e = out[0];
    const l = this.l;
    const xattrs: Array<[string, Buffer]> = [];
    l.entryXattrReset(e);
    for (;;) {
      const name: unknown[] = [null];
      const value: unknown[] = [null];
      const size: unknown[] = [0];
      if (l.entryXattrNext(e, name, value, size) !== ARCHIVE_OK) break;
      const n = Number(size[0]);
      xattrs.push([name[0] as string, n > 0 ? Buffer.from(l.koffi.decode(value[0], 'uint8_t', n) as number[]) : Buffer.alloc(0)]);
    }
    return {
      pathname: (l.entryPathname(e) as string | null) ?? '',
      hardlink: l.entryHardlink(e) as string | null,
      symlink: l.entrySymlink(e) as string | null,
      mode: l.entryMode(e) as number,
      uid: Number(l.entryUid(e)),
      gid: Number(l.entryGid(e)),
      size: Number(l.entrySize(e)),
      xattrs,
    };
  }

  /** The current entry's data, chunk by chunk (`buf` is reused: copy what you keep). */
  *data(buf: Buffer = Buffer.allocUnsafe(64 * 1024)): Generator<Buffer, void, void> {
    for (;;) {
      const n = Number(this.l.readData(this.a, buf, buf.length));
      if (n < 0) fail(this.l, this.a, 'reading data');
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  }

  close(): void {
    if (this.a) { this.l.readFree(this.a); this.a = null; }
  }
}

/** One entry to write. `mode` carries the file type; `size` is for regular files. */
export interface ArchiveEntryOut {
  pathname: string; mode: number; uid: number; gid: number; mtime: number;
  size?: number; symlink?: string; xattrs?: Array<[string, Buffer]>;
}

/** Writing a GNU tar archive (upstream's `export` format: gnutar, no compression). */
export class GnuTarWriter {
  private a: unknown;
  private readonly l: Lib;

  /** To the file `file`, or to the open descriptor `fd` (standard output). */
  constructor(target: { file: string } | { fd: number }) {
    this.l = lib();
    this.a = this.l.writeNew();
    if (this.l.writeSetFormatGnutar(this.a) !== ARCHIVE_OK) fail(this.l, this.a, 'gnutar');
    if (this.l.writeAddFilterNone(this.a) !== ARCHIVE_OK) fail(this.l, this.a, 'filter');
    const r = 'file' in target ? this.l.writeOpenFilename(this.a, target.file) : this.l.writeOpenFd(this.a, target.fd);
    if (r !== ARCHIVE_OK) fail(this.l, this.a, 'open');
  }

  /** Write an entry's header (then its data with `data`, for a regular file). */
  header(h: ArchiveEntryOut): void {
    const l = this.l;
    const e = l.entryNew2(this.a);
    try {
      l.entryUpdatePathnameUtf8(e, h.pathname);
      for (const k of ['c', 'm', 'a'] as const) l.entrySetTime[k](e, h.mtime, 0);
      l.entrySetUid(e, h.uid);
      l.entrySetGid(e, h.gid);
      l.entrySetMode(e, h.mode);
      for (const [n, v] of h.xattrs ?? []) l.entryXattrAdd(e, n, v, v.length);
      if (h.symlink !== undefined) l.entrySetSymlink(e, h.symlink);
      if (h.size !== undefined) l.entrySetSize(e, h.size);
      if (l.writeHeader(this.a, e) !== ARCHIVE_OK) fail(l, this.a, 'writing a header');
    } finally {
      l.entryFree(e);
    }
  }

  data(chunk: Buffer): void {
    const r = Number(this.l.writeData(this.a, chunk, chunk.length));
    if (r !== chunk.length) fail(this.l, this.a, `writing ${chunk.length} bytes`);
  }

  finishEntry(): void {
    if (this.l.writeFinishEntry(this.a) !== ARCHIVE_OK) fail(this.l, this.a, 'finishing an entry');
  }

  close(): void {
    if (!this.a) return;
    const r = this.l.writeClose(this.a);
    this.l.writeFree(this.a);
    this.a = null;
    if (r !== ARCHIVE_OK) throw new OstreeError('EIO', 'libarchive: closing the archive failed');
  }
}
