/**
 * Verification of what a pull receives before anything is stored: metadata objects must hash to
 * their name (detached metadata, which is not checksummed, must be a valid a{sv}); content
 * objects must hash, header plus data, to their name, with exactly the data size their header
 * declares. Compressed data is inflated by archive.ts (inflateBounded, inflateStream), never
 * past that declared size: objects up to PULL_INFLATE_IN_MEMORY_MAX are inflated in memory,
 * larger ones are streamed through the checksum, so a deflate bomb costs time, never memory.
 * Commit signatures the remote demands are checked by src/repo/sign/remote-policy.ts
 * (commitVerifier), before the commit is stored.
 */
import * as fs from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { OstreeError } from '../../errors.js';
import { isSymlinkMode, type ObjectType } from '../objects/common.js';
import { parseCommitMeta } from '../objects/commitmeta.js';
import { serializeFileHeader } from '../objects/file-header.js';
import { sha256hex } from '../objects/checksum.js';
import { inflateBounded, inflateStream } from '../modes/archive.js';
import { PULL_INFLATE_IN_MEMORY_MAX } from './limits.js';
import { readSourceObject, type SourceObject } from './source.js';
import { commitVerifierFor, type CommitVerifier } from '../sign/remote-policy.js';
import { summaryVerifierFor, type SummaryCheck } from '../sign/summary.js';
import type { RemoteConfig, RemoteRepo } from '../remotes.js';
import type { PullOptions } from './options.js';

export type { CommitVerifier };

/** The signature checks the remote demands of pulled commits (null: none). */
export function commitVerifier(repo: RemoteRepo, remote: RemoteConfig, opts: Pick<PullOptions, 'noSignVerify'>): CommitVerifier | null {
  return commitVerifierFor(repo, remote, opts.noSignVerify ? { signVerify: false } : {});
}

/** The checks the remote demands of its summary against summary.sig (null: none). */
export function summaryVerifier(repo: RemoteRepo, remote: RemoteConfig, opts: Pick<PullOptions, 'noSignVerify'> = {}): SummaryCheck | null {
  return summaryVerifierFor(repo, remote, 'pull', opts.noSignVerify ? { signVerify: false } : {});
}

export function corrupted(expected: string, actual: string): OstreeError {
  return new OstreeError('ECORRUPT', `Corrupted file object; checksum expected='${expected}' actual='${actual}'`);
}

function sizeMismatch(checksum: string, declared: number, actual: number): OstreeError {
  return new OstreeError('ECORRUPT', `${checksum}.file: has ${actual} bytes of data, not the ${declared} its header declares`);
}

/**
 * Fetched detached metadata, as stored: itself when it is a valid a{sv}, else (as GLib's
 * normal form of a malformed variant) an empty one, which carries no signature, so a remote
 * that demands signatures refuses the commit and one that does not loses nothing.
 */
export function normalizeDetachedMetadata(data: Buffer): Buffer {
  try { parseCommitMeta(data); return data; } catch { return Buffer.alloc(0); }
}

/** A fetched metadata object: its sha256 is its name (detached metadata is not checksummed). */
export function verifyMetadata(data: Buffer, checksum: string, type: ObjectType, source: () => string): void {
  if (type === 'commitmeta') return;
  const actual = sha256hex(data);
  if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object; checksum expected='${checksum}' actual='${actual}' (${checksum}.${type} from ${source()})`);
}

/** Whether a content object is small enough, declared and compressed, to be handled in memory. */
export function fitsInMemory(o: SourceObject): boolean {
  return o.size <= PULL_INFLATE_IN_MEMORY_MAX && o.fileSize - o.dataOffset <= PULL_INFLATE_IN_MEMORY_MAX;
}

/** The whole (uncompressed) data of a small source object (see fitsInMemory). */
export function readSmallData(o: SourceObject, checksum: string): Buffer {
  if (isSymlinkMode(o.header.mode)) return Buffer.alloc(0);
  const raw = fs.readFileSync(o.path);
  if (!o.compressed) return raw;
  return inflateBounded(raw.subarray(o.dataOffset), o.size, `${checksum}.file`);
}

/**
 * A source object's uncompressed data in chunks, ending with an error as soon as it exceeds the
 * size its header declares (or, at the end, when it falls short of it). Compressed data goes
 * through archive.ts's bounded inflateStream.
 */
export async function* dataChunks(o: SourceObject, checksum: string): AsyncGenerator<Buffer> {
  if (isSymlinkMode(o.header.mode)) return;
  const raw = fs.createReadStream(o.path, { start: o.dataOffset, highWaterMark: 1024 * 1024 });
  if (o.compressed) {
    const data = inflateStream(raw, o.size, `${checksum}.file`);
    try {
      for await (const c of data) yield c as Buffer;
    } finally { data.destroy(); raw.destroy(); }
    return;
  }
  let total = 0;
  try {
    for await (const c of raw) {
      total += (c as Buffer).length;
      if (total > o.size) throw sizeMismatch(checksum, o.size, total);
      yield c as Buffer;
    }
  } finally { raw.destroy(); }
  if (total !== o.size) throw sizeMismatch(checksum, o.size, total);
}

/** The hash of a content object's canonical header, ready for its data. */
export function headerHash(o: Pick<SourceObject, 'header'>): Hash {
  return createHash('sha256').update(serializeFileHeader(o.header));
}

/**
 * Verify a downloaded `.filez` (staged under `stageRoot/objects/`) against its name: the
 * canonical header plus the inflated data must hash to `checksum`, and the data must have the
 * size the header claims. Returns the uncompressed size, or null when the object is valid but
 * has bytes after its content (then it is rewritten rather than linked as is).
 */
export async function verifyArchiveObject(stageRoot: string, checksum: string): Promise<number | null> {
  const o = readSourceObject(stageRoot, 'archive', checksum);
  const hash = headerHash(o);
  if (isSymlinkMode(o.header.mode)) {
    if (o.fileSize !== o.dataOffset) return null;
  } else if (fitsInMemory(o)) {
    hash.update(readSmallData(o, checksum));
  } else {
    for await (const c of dataChunks(o, checksum)) hash.update(c);
  }
  const actual = hash.digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  return o.size;
}
