/**
 * Generating a static delta (upstream's ostree_repo_static_delta_generate, "major" mode without
 * rollsum): the objects reachable from TO and not from FROM go into parts, in upstream's
 * order — metadata, then modified files as bsdiff patches against their old version, then the
 * other regular files, then symlinks — with regular files above the fallback size left out as
 * fallback entries (fetched individually by a pull). Parts are xz-compressed, written as files
 * `0`, `1`, … beside the superblock or carried inline in it; the superblock is written last,
 * through a temporary name, so a reader never sees a superblock whose parts are missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { Variant, deserialize } from '../../glib/gvariant.js';
import { formatSize } from '../../util/format-size.js';
import { writeFileAtomic } from '../../util/fs.js';
import { parseObjectName } from '../objects/common.js';
import { isRegularMode } from '../objects/common.js';
import type { FileHeader } from '../objects/file-header.js';
import type { Repo } from '../repo.js';
import { hasObject, readMetadataObject } from '../store.js';
import { commitClosure } from '../traverse.js';
import { deltaPartPath, deltaRelPath, objectPath } from '../layout.js';
import { bsdiff } from './bsdiff.js';
import { PartBuilder } from './builder.js';
import { similarObjects } from './similar.js';
import { serializeSuperblock, type FallbackEntry, type PartHeader, type Superblock } from './superblock.js';

export interface GenerateOptions {
  /** Files above this many bytes become fallback entries (0: none). Default 4 MB. */
  minFallbackSize?: number;
  /** Start a new part beyond this many bytes. Default 32 MB. */
  maxChunkSize?: number;
  /** bsdiff only when old + new sizes are at most this. Default 128 MB. */
  maxBsdiffSize?: number;
  bsdiff?: boolean;
  inline?: boolean;
  /** Write the superblock here (parts beside it) instead of in the repository. */
  filename?: string;
  /** 'big' or 'little' (default: the host's, little). */
  endianness?: 'big' | 'little';
  /** Wrap the superblock's bytes into a signed superblock (sign.ts of the caller). */
  sign?: (superblock: Buffer) => Buffer;
  /** Upstream's verbose lines (stderr). */
  log?: (line: string) => void;
}

const MB = 1000 * 1000;

interface Plan { metadata: string[]; regular: Set<string>; symlinks: string[]; modified: Map<string, string> }

class Generation {
  readonly parts: PartBuilder[] = [new PartBuilder()];
  readonly finished: Array<{ stored: Buffer; header: PartHeader }> = [];
  readonly fallbacks: FallbackEntry[] = [];
  readonly headers = new Map<string, FileHeader>();
  nBsdiff = 0;
  loose = 0;

  constructor(readonly repo: Repo, readonly from: string | null, readonly to: string, readonly opts: Required<Pick<GenerateOptions, 'minFallbackSize' | 'maxChunkSize' | 'maxBsdiffSize' | 'bsdiff'>> & GenerateOptions) {}

  log(line: string): void { this.opts.log?.(line); }

  header(c: string): FileHeader {
    let h = this.headers.get(c);
    if (h === undefined) { h = this.repo.readFileHeaderSync(c).header; this.headers.set(c, h); }
    return h;
  }

  get part(): PartBuilder { return this.parts[this.parts.length - 1]!; }

  /** Start a new part when this one has objects and `adding` more bytes would overflow it. */
  roomFor(adding: number): PartBuilder {
    if (this.part.objects.length > 0 && this.part.sizeEstimate() + adding > this.opts.maxChunkSize) this.newPart();
    return this.part;
  }

  newPart(): void {
    this.finishPart();
    this.parts.push(new PartBuilder());
  }

  finishPart(): void {
    const f = this.part.finish('xz');
    this.finished.push(f);
    this.log(`part ${this.finished.length} n:${this.part.objects.length} compressed:${f.header.size} uncompressed:${f.header.usize}`);
  }

  storageSize(checksum: string, type: Parameters<typeof objectPath>[2]): number {
    return fs.statSync(objectPath(this.repo.path, checksum, type, this.repo.mode)).size;
  }

  addMetadata(checksum: string, type: 'dirtree' | 'dirmeta' | 'commit'): void {
    const data = readMetadataObject(this.repo, checksum, type);
    const p = this.roomFor(data.length);
    this.loose += this.storageSize(checksum, type);
    p.uncompressedSize += data.length;
    p.objects.push({ type, checksum });
    p.op('S', data.length, p.appendData(data));
  }

  addContent(checksum: string): void {
    const { header: h, data } = this.repo.readFileContentSync(checksum);
    const p = this.roomFor(data.length);
    this.loose += this.storageSize(checksum, 'file');
    p.uncompressedSize += data.length;
    p.objects.push({ type: 'file', checksum });
    const [mi, xi] = p.modeAndXattrs(h);
    const bytes = isRegularMode(h.mode) ? data : Buffer.from(h.symlinkTarget, 'utf8');
    p.op('S', mi, xi, bytes.length, p.appendData(bytes));
  }

  addBsdiff(checksum: string, fromChecksum: string): void {
    const p = this.roomFor(0);
    const old = this.repo.readFileContentSync(fromChecksum).data;
    const { header: h, data } = this.repo.readFileContentSync(checksum);
    this.loose += this.storageSize(checksum, 'file');
    p.uncompressedSize += data.length;
    p.objects.push({ type: 'file', checksum });
    const [mi, xi] = p.modeAndXattrs(h);
    p.op('r', p.appendData(Buffer.from(fromChecksum, 'hex')));
    p.op('o', mi, xi, data.length);
    const patch = bsdiff(old, data);
    p.op('B', p.appendData(patch), patch.length);
    p.op('c');
    p.op('R');
  }
}

function plan(g: Generation): Plan {
  const { repo, from, to } = g;
  const fromReach = from === null ? new Set<string>() : commitClosure(repo, from);
  const metadata: string[] = []; const regular = new Set<string>(); const symlinks: string[] = [];
  for (const name of commitClosure(repo, to)) {
    if (fromReach.has(name)) continue;
    const { checksum, type } = parseObjectName(name);
    if (type === 'file') (isRegularMode(g.header(checksum).mode) ? regular.add(checksum) : symlinks.push(checksum));
    else if (type === 'dirtree' || type === 'dirmeta' || type === 'commit') metadata.push(name);
  }
  const sizeOf = (c: string): number | null => { const h = g.header(c); return isRegularMode(h.mode) ? repo.readFileHeaderSync(c).size : null; };
  const modified = from === null ? new Map<string, string>() : similarObjects(repo, from, to, regular, sizeOf);
  g.log(`modified: ${modified.size}`);
  g.log(`new reachable: metadata=${metadata.length} content regular=${regular.size} symlink=${symlinks.length}`);
  return { metadata: metadata.filter((n) => n !== `${to}.commit`), regular, symlinks, modified };
}

/** The new files to send as bsdiff patches: old version world-readable, both small enough. */
function bsdiffCandidates(g: Generation, modified: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  if (!g.opts.bsdiff) return out;
  for (const [to, from] of modified) {
    if ((g.header(from).mode & 0o004) === 0) continue;
    if (g.repo.readFileHeaderSync(to).size + g.repo.readFileHeaderSync(from).size > g.opts.maxBsdiffSize) continue;
    out.set(to, from);
  }
  return out;
}

function buildParts(g: Generation, p: Plan): void {
  for (const name of p.metadata) {
    const { checksum, type } = parseObjectName(name);
    g.addMetadata(checksum, type as 'dirtree' | 'dirmeta' | 'commit');
  }
  const diffs = bsdiffCandidates(g, p.modified);
  g.log(`rollsum for 0/${p.modified.size} modified`);
  const mod = Math.floor(diffs.size / 10);
  for (const [to, from] of diffs) {
    if (mod === 0 || g.nBsdiff % mod === 0) g.log(`processing bsdiff: [${g.nBsdiff}/${diffs.size}]`);
    g.addBsdiff(to, from);
    g.nBsdiff++;
  }
  const rest = [...p.regular].filter((c) => !diffs.has(c));
  for (const c of rest) {
    const size = g.repo.readFileHeaderSync(c).size;
    if (g.opts.minFallbackSize > 0 && size > g.opts.minFallbackSize) {
      g.log(`fallback for ${c} (${formatSize(size)})`);
      g.fallbacks.push({ type: 'file', checksum: c, size: BigInt(g.storageSize(c, 'file')), usize: BigInt(size) });
      continue;
    }
    g.addContent(c);
  }
  for (const c of p.symlinks) g.addContent(c);
  g.finishPart();
}

export interface GenerateResult { superblockPath: string; parts: number; bsdiff: number; fallbacks: number }

/** Generate the delta `from` (null: from scratch) → `to`; both must be commits in `repo`. */
export function generateDelta(repo: Repo, from: string | null, to: string, options: GenerateOptions = {}): GenerateResult {
  const opts = { minFallbackSize: 4 * MB, maxChunkSize: 32 * MB, maxBsdiffSize: 128 * MB, bsdiff: true, ...options };
  const commit = readMetadataObject(repo, to, 'commit');
  const g = new Generation(repo, from, to, opts);
  buildParts(g, plan(g));
  const metadata: Array<[string, Variant]> = [['ostree.endianness', new Variant('y', opts.endianness === 'big' ? 0x42 : 0x6c)]];
  if (opts.inline) g.finished.forEach((f, i) => metadata.push([deltaPartPath(from, to, i), new Variant('(yay)', [f.stored[0], f.stored.subarray(1)])]));
  const detached = hasObject(repo, to, 'commitmeta') ? readMetadataObject(repo, to, 'commitmeta') : null;
  if (detached !== null) metadata.push([deltaRelPath(from, to, 'commitmeta'), new Variant('a{sv}', deserialize('a{sv}', detached))]);
  const sb: Superblock = {
    metadata, timestamp: BigInt(Math.floor(Date.now() / 1000)), from, to, commit,
    parts: g.finished.map((f) => f.header), fallbacks: g.fallbacks, swapped: opts.endianness === 'big',
  };
  const superblockPath = opts.filename !== undefined ? path.resolve(opts.filename) : path.join(repo.path, deltaRelPath(from, to, 'superblock'));
  const dir = path.dirname(superblockPath);
  if (opts.filename !== undefined && !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new OstreeError('ENOENT', `opendir(${dir}): No such file or directory`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!opts.inline) g.finished.forEach((f, i) => writeFileAtomic(path.join(dir, String(i)), f.stored, { mode: 0o644 }));
  const bytes = serializeSuperblock(sb);
  writeFileAtomic(superblockPath, opts.sign ? opts.sign(bytes) : bytes, { mode: 0o644 });
  const total = g.finished.reduce((a, f) => a + Number(f.header.usize), 0);
  const compressed = g.finished.reduce((a, f) => a + Number(f.header.size), 0);
  g.log(`uncompressed=${total} compressed=${compressed} loose=${g.loose}`);
  g.log('rollsum=0 objects, 0 bytes');
  g.log(`bsdiff=${g.nBsdiff} objects`);
  return { superblockPath, parts: g.finished.length, bsdiff: g.nBsdiff, fallbacks: g.fallbacks.length };
}
