/**
 * Boot Loader Specification entry files (`/boot/loader.N/entries/ostree-*.conf`), modelled
 * on upstream's OstreeBootconfigParser.
 *
 * Parsing: the file is split on '\n'; only lines whose first byte is an ASCII letter count;
 * each is split at the first space or tab into key and value (the value is everything after
 * that one separator, verbatim); a line with no separator is ignored.  A second and later
 * `initrd` line is an overlay initrd; any other repeated key: the last one wins (keeping the
 * position of the first).  Unknown keys are kept, so rewriting an entry preserves keys other
 * tools added.
 *
 * Serializing: `title version options devicetree linux initrd` (those that are set), then one
 * `initrd` line per overlay initrd, then every other key in insertion order; each line
 * `key value\n`.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { KernelArgs, splitKernelArgs } from './kargs.js';
import { readFileBounded, tmpSuffix } from '../../util/fs.js';

/**
 * The largest entry file read: an entry is a few lines (a kernel command line is at most a few
 * KiB); the bound is checked before the file is read, so a huge file costs nothing.
 */
export const BLS_ENTRY_MAX_BYTES = 1024 * 1024;

/** Where overlay initrd `<id>` lives, as an `initrd` line names it (relative to /boot). */
export function overlayInitrdPath(id: string): string {
  return `/ostree/initramfs-overlays/${id}.img`;
}

const FIXED_ORDER = ['title', 'version', 'options', 'devicetree', 'linux', 'initrd'] as const;

export class BlsEntry {
  private values = new Map<string, string>();
  /** Extra `initrd` lines after the first (paths as written, e.g. /ostree/initramfs-overlays/<sha>.img). */
  overlayInitrds: string[] = [];

  /**
   * Parse entry text.  A Buffer is checked to be valid UTF-8 without NUL bytes first (upstream
   * reads entries as UTF-8 and rejects anything else); a string containing NUL or U+FFFD (what a
   * lossy decode leaves behind) is rejected the same way.  Errors are ECORRUPT naming `source`.
   */
  static parse(text: string | Buffer, source: string): BlsEntry {
    let s: string;
    if (typeof text === 'string') {
      s = text;
      if (s.includes('\0') || s.includes('\uFFFD')) {
        throw new OstreeError('ECORRUPT', `Parsing ${source}: Invalid UTF-8`, { path: source });
      }
    } else {
      try {
        s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(text);
      } catch (e) {
        throw new OstreeError('ECORRUPT', `Parsing ${source}: Invalid UTF-8`, { path: source, cause: e });
      }
      if (s.includes('\0')) throw new OstreeError('ECORRUPT', `Parsing ${source}: Invalid UTF-8`, { path: source });
    }
    const e = new BlsEntry();
    for (const line of s.split('\n')) {
      const c = line.charCodeAt(0);
      if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) continue;
      const m = /[ \t]/.exec(line);
      if (!m) continue;
      const key = line.slice(0, m.index);
      const value = line.slice(m.index + 1);
      if (key === 'initrd' && e.values.has('initrd')) e.overlayInitrds.push(value);
      else e.values.set(key, value);
    }
    return e;
  }

  serialize(): string {
    let out = '';
    const written = new Set<string>();
    for (const k of FIXED_ORDER) {
      const v = this.values.get(k);
      if (v === undefined) continue;
      out += `${k} ${v}\n`;
      written.add(k);
    }
    if (this.overlayInitrds.length > 0) {
      if (!written.has('initrd')) {
        throw new OstreeError('EINVAL', 'BLS entry has overlay initrds but no primary initrd');
      }
      for (const i of this.overlayInitrds) out += `initrd ${i}\n`;
    }
    for (const [k, v] of this.values) {
      if (!written.has(k)) out += `${k} ${v}\n`;
    }
    return out;
  }

  get(key: string): string | undefined { return this.values.get(key); }

  /** Set a key; `undefined` removes it.  Keys must be non-empty and contain no whitespace,
   * values no newline (either would change the meaning of the file). */
  set(key: string, value: string | undefined): void {
    if (value === undefined) { this.values.delete(key); return; }
    if (!/^[A-Za-z][^\s]*$/.test(key)) throw new OstreeError('EINVAL', `Invalid BLS key '${key}'`);
    if (value.includes('\n')) throw new OstreeError('EINVAL', `Invalid BLS value for '${key}': contains a newline`);
    this.values.set(key, value);
  }

  delete(key: string): void { this.values.delete(key); }
  has(key: string): boolean { return this.values.has(key); }
  /** Keys in insertion order (not serialization order); overlay initrds not included. */
  keys(): string[] { return [...this.values.keys()]; }

  get title(): string | undefined { return this.values.get('title'); }
  set title(v: string | undefined) { this.set('title', v); }
  get version(): string | undefined { return this.values.get('version'); }
  set version(v: string | undefined) { this.set('version', v); }
  get options(): string | undefined { return this.values.get('options'); }
  set options(v: string | undefined) { this.set('options', v); }
  get linux(): string | undefined { return this.values.get('linux'); }
  set linux(v: string | undefined) { this.set('linux', v); }
  /** The first (primary) initrd. */
  get initrd(): string | undefined { return this.values.get('initrd'); }
  set initrd(v: string | undefined) { this.set('initrd', v); }
  get devicetree(): string | undefined { return this.values.get('devicetree'); }
  set devicetree(v: string | undefined) { this.set('devicetree', v); }

  clone(): BlsEntry {
    const e = new BlsEntry();
    e.values = new Map(this.values);
    e.overlayInitrds = [...this.overlayInitrds];
    return e;
  }

  /** The `options` line as KernelArgs (empty when absent). */
  kernelArgs(): KernelArgs { return KernelArgs.parse(this.options ?? ''); }

  /** The value of the first `ostree=` argument of `options`, or undefined. */
  ostreeArg(): string | undefined {
    const opts = this.options;
    if (opts === undefined) return undefined;
    const a = splitKernelArgs(opts).find((t) => t.startsWith('ostree='));
    return a === undefined ? undefined : a.slice('ostree='.length);
  }

  /** The `options` arguments other than `ostree=` (what a clone of the deployment keeps). */
  kernelArgsWithoutOstree(): string[] {
    return this.kernelArgs().toArray().filter((a) => !a.startsWith('ostree='));
  }

  /** The same, joined (upstream's bootconfig equality). */
  optionsWithoutOstree(): string { return this.kernelArgsWithoutOstree().join(' '); }

  /**
   * Point the entry at `bootlink`: `ostree=/ostree/boot.B/<os>/<bootcsum>/<serial>` replaces any
   * previous one, and without an initramfs `init=<bootlink>/usr/lib/ostree/ostree-prepare-root`
   * makes the kernel run prepare-root itself.
   */
  setBootlink(bootlink: OstreeBootlink, prepareRootAsInit: boolean): void {
    const kargs = this.kernelArgs();
    const link = formatOstreeBootlink(bootlink);
    kargs.replace(`ostree=${link}`);
    if (prepareRootAsInit) kargs.replace(`init=${link}/usr/lib/ostree/ostree-prepare-root`);
    this.options = kargs.toString();
  }

  /** sha256 ids of the overlay initrds (basenames must be `<64 hex>.img`). */
  overlayInitrdIds(source = 'BLS entry'): string[] {
    return this.overlayInitrds.map((p) => {
      const base = p.slice(p.lastIndexOf('/') + 1);
      if (base.length !== 64 + 4) {
        throw new OstreeError('ECORRUPT', `${source}: Malformed overlay initrd filename: ${base}`, { path: source });
      }
      return base.slice(0, 64);
    });
  }
}

export interface OstreeBootlink {
  bootversion: 0 | 1;
  stateroot: string;
  bootcsum: string;
  bootserial: number;
}

/** Parse the value of `ostree=`: `/ostree/boot.B/<stateroot>/<bootcsum>/<bootserial>`. */
export function parseOstreeBootlink(value: string): OstreeBootlink {
  // upstream's pattern has an unescaped '.', kept here: it matches what upstream matches
  const m = /^\/ostree\/boot.([01])\/([^/]+)\/([^/]+)\/([0-9]+)$/.exec(value);
  if (!m) {
    throw new OstreeError('ECORRUPT',
      `Invalid ostree= argument '${value}', expected ostree=/ostree/boot.BOOTVERSION/OSNAME/BOOTCSUM/TREESERIAL`);
  }
  return { bootversion: m[1] === '1' ? 1 : 0, stateroot: m[2]!, bootcsum: m[3]!, bootserial: Number.parseInt(m[4]!, 10) };
}

export function formatOstreeBootlink(l: OstreeBootlink): string {
  return `/ostree/boot.${l.bootversion}/${l.stateroot}/${l.bootcsum}/${l.bootserial}`;
}

/** 2022.7 … v2024.4 name: `ostree-<K>-<stateroot>.conf`. */
export function blsEntryFileName(k: number, stateroot: string): string {
  return `ostree-${k}-${stateroot}.conf`;
}

/** v2024.5+ name: `ostree-<K>.conf`. */
export function blsEntryFileNameNew(k: number): string {
  return `ostree-${k}.conf`;
}

/** Recognise `ostree-<K>-<stateroot>.conf` and `ostree-<K>.conf` (also with a boot-counting
 * `+T` / `+L-D` suffix before `.conf`); null for anything else. */
export function parseBlsEntryFileName(name: string): { k: number; stateroot?: string; counter?: string } | null {
  const m = /^ostree-([0-9]+)(?:-(.+?))?(\+[0-9]+(?:-[0-9]+)?)?\.conf$/.exec(name);
  if (!m) return null;
  const r: { k: number; stateroot?: string; counter?: string } = { k: Number.parseInt(m[1]!, 10) };
  if (m[2] !== undefined) r.stateroot = m[2];
  if (m[3] !== undefined) r.counter = m[3];
  return r;
}

function charClass(c: number): number {
  // 0: not a digit, 1: 1-9, 2: '0'
  if (c === 0x30) return 2;
  return c > 0x30 && c <= 0x39 ? 1 : 0;
}

function isDigit(c: number): boolean { return c >= 0x30 && c <= 0x39; }

/**
 * glibc strverscmp(3) on the UTF-8 bytes of a and b: digit runs compare numerically, runs with
 * leading zeros compare as fractional parts (and sort before plain integers).  Returns <0, 0, >0.
 */
export function strverscmp(a: string, b: string): number {
  const p = Buffer.from(a, 'utf8');
  const q = Buffer.from(b, 'utf8');
  const at = (buf: Buffer, i: number): number => (i < buf.length ? buf[i]! : 0);
  // States: 0 normal, 3 inside an integer, 6 inside a fractional part, 9 leading zeros.
  const NORMAL = 0, INT = 3, FRAC = 6, ZEROS = 9;
  const nextState = [
    NORMAL, INT, ZEROS,
    NORMAL, INT, INT,
    NORMAL, FRAC, FRAC,
    NORMAL, FRAC, ZEROS,
  ];
  const CMP = 2, LEN = 3;
  // rows: state + class of the differing byte of a; columns: class of the byte of b
  const result = [
    CMP, CMP, CMP, CMP, LEN, CMP, CMP, CMP, CMP,
    CMP, -1, -1, +1, LEN, LEN, +1, LEN, LEN,
    CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP, CMP,
    CMP, +1, +1, -1, CMP, CMP, -1, CMP, CMP,
  ];
  let i = 0;
  let c1 = at(p, 0), c2 = at(q, 0);
  let state = NORMAL + charClass(c1);
  while (c1 === c2) {
    if (c1 === 0) return 0;
    state = nextState[state]!;
    i++;
    c1 = at(p, i); c2 = at(q, i);
    state += charClass(c1);
  }
  const diff = c1 - c2;
  const r = result[state * 3 + charClass(c2)]!;
  if (r === CMP) return diff;
  if (r === LEN) return lenCompare(p, q, i, diff);
  return r;
}

/** The LEN case: both strings are inside a digit run that differs first at index i.  The run
 * that continues longer is the larger number; equally long runs are decided by that first
 * difference. */
function lenCompare(p: Buffer, q: Buffer, i: number, diff: number): number {
  const at = (buf: Buffer, k: number): number => (k < buf.length ? buf[k]! : 0);
  let k = i + 1;
  while (isDigit(at(p, k))) {
    if (!isDigit(at(q, k))) return 1;
    k++;
  }
  return isDigit(at(q, k)) ? -1 : diff;
}

/** Entry order used when loading: by `version`, strverscmp descending; entries without a
 * version sort after those with one. */
export function compareBlsEntriesDescending(a: BlsEntry, b: BlsEntry): number {
  const av = a.version, bv = b.version;
  if (av !== undefined && bv !== undefined) return -strverscmp(av, bv);
  if (av !== undefined) return -1;
  if (bv !== undefined) return 1;
  return 0;
}

export interface BlsEntryFile {
  fileName: string;
  path: string;
  entry: BlsEntry;
  /** value of the `ostree=` karg */
  ostreeArg: string;
  bootlink: OstreeBootlink;
  /** sha256 ids of the overlay initrds */
  overlayInitrdIds: string[];
}

/**
 * Read `ostree-*.conf` regular files (symlinks followed) of an entries directory (both the
 * `ostree-<K>-<stateroot>.conf` and `ostree-<K>.conf` spellings, anything with that prefix
 * and suffix like upstream), sorted by version descending.  A missing directory gives [].
 * An entry without `options`/`ostree=`, with a malformed `ostree=` or overlay initrd, or that
 * is not UTF-8 text → ECORRUPT naming the file.
 */
export async function readBlsEntries(entriesDir: string): Promise<BlsEntryFile[]> {
  let names: string[];
  try {
    // Synchronous calls: one CLI run reads a handful of small files, and every async fs call
    // is a thread-pool round trip (start-up latency of `admin status` under load).
    names = fs.readdirSync(entriesDir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  const out: BlsEntryFile[] = [];
  for (const name of names) {
    if (!name.startsWith('ostree-') || !name.endsWith('.conf')) continue;
    const p = path.join(entriesDir, name);
    const st = fs.statSync(p);
    if (!st.isFile()) continue;
    const data = readFileBounded(p, BLS_ENTRY_MAX_BYTES, { what: 'BLS entry' });
    if (data === null) continue; // removed since readdir
    out.push(parseBlsEntryFile(data, p));
  }
  out.sort((x, y) => compareBlsEntriesDescending(x.entry, y.entry));
  return out;
}

/** Parse and validate one entry file's bytes (see readBlsEntries). */
export function parseBlsEntryFile(data: Buffer | string, filePath: string): BlsEntryFile {
  const entry = BlsEntry.parse(data, filePath);
  const arg = entry.ostreeArg();
  if (arg === undefined) {
    throw new OstreeError('ECORRUPT', `Parsing ${filePath}: No ostree= kernel argument found`, { path: filePath });
  }
  let bootlink: OstreeBootlink;
  try {
    bootlink = parseOstreeBootlink(arg);
  } catch (e) {
    throw new OstreeError('ECORRUPT', `Parsing ${filePath}: ${(e as Error).message}`, { path: filePath, cause: e });
  }
  const overlayInitrdIds = entry.overlayInitrdIds(`Parsing ${filePath}`);
  return { fileName: path.basename(filePath), path: filePath, entry, ostreeArg: arg, bootlink, overlayInitrdIds };
}

/** Write an entry as `dir/fileName` via a temporary file + rename (no fsync, like upstream:
 * the caller's global sync covers it). */
export async function writeBlsEntry(dir: string, fileName: string, entry: BlsEntry, mode = 0o644): Promise<void> {
  const tmp = path.join(dir, `.${fileName}.tmp-${tmpSuffix()}`);
  try {
    await fsp.writeFile(tmp, entry.serialize(), { mode, flag: 'wx' });
    await fsp.chmod(tmp, mode);
    await fsp.rename(tmp, path.join(dir, fileName));
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
