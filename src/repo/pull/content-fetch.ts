/**
 * One content object of an HTTP pull: downloaded (in memory when small, else to a staging
 * file), verified against its checksum and stored in the destination's mode. It takes what
 * it needs as plain data (no session), so it could run in a worker thread; measured here, fetch
 * workers cost half as much CPU again and 100 MB more memory than they saved (see the notes in
 * bench/README.md), so it runs on the event loop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { linkIntoPlace } from '../content.js';
import { objectPath, objectRelPath } from '../layout.js';
import { modeTraits } from '../modes/mode.js';
import { parseArchiveHeader } from '../objects/file-header.js';
import { checkBareUserOnlyMode, importArchiveObjectBuffer, importContentObject, type ContentImportContext } from './import.js';
import { CONTENT_IN_MEMORY_MAX, PULL_INFLATE_IN_MEMORY_MAX } from './limits.js';
import { readSourceObject } from './source.js';
import { IN_FILE, type HttpFetcher } from './transport.js';
import { verifyArchiveObject } from './verify.js';
import type { StoreThread } from './store-thread.js';

/** Where and how content objects are stored. */
export interface ContentFetchContext {
  /** The pull's staging directory (an archive-layout objects/ tree under it). */
  stage: string;
  /** srcPath is `stage`, srcMode archive, untrusted. */
  ctx: ContentImportContext;
  /** --http-trusted into an archive repository: stored as served, unverified. */
  httpTrusted: boolean;
  /** Stores in-memory downloads in a second thread (a large pull); absent: in this one. */
  storeThread?: StoreThread;
}

/** The free-space reserve, as content-fetch needs it (space.ts). */
export interface SpaceTaker { take(bytes: number): void }

/**
 * Fetch `checksum`'s `.filez` from `fetcher` and store it. Returns the bytes written (-1 when
 * the object was already there). Errors name the object and its URL.
 */
export async function fetchContentObject(fetcher: HttpFetcher, c: ContentFetchContext, space: SpaceTaker, checksum: string): Promise<number> {
  const staged = objectPath(c.stage, checksum, 'file', 'archive'); // its directory is made when needed
  const rel = objectRelPath(checksum, 'file', 'archive');
  const body = await fetcher.get(rel, { toFile: staged, memLimit: CONTENT_IN_MEMORY_MAX, what: `object ${checksum}.file` });
  try {
    return await storeFetched(c, space, checksum, body!, staged);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new OstreeError(e instanceof OstreeError ? e.code : 'EIO', `Object ${checksum}.file from ${fetcher.url(rel)}: ${msg}`, { cause: e });
  }
}

/**
 * Verify and store a downloaded content object (in memory, or staged at `staged`); returns
 * the bytes written. The size its header declares is checked against the free-space reserve
 * before anything is written, and bounds every inflate.
 */
async function storeFetched(c: ContentFetchContext, space: SpaceTaker, checksum: string, body: Buffer, staged: string): Promise<number> {
  const { ctx } = c;
  let inMemory = body !== IN_FILE;
  const { header, size } = inMemory ? parseArchiveHeader(body, `${checksum}.file`) : readSourceObject(c.stage, 'archive', checksum);
  const declared = Number(size);
  const compressedDest = modeTraits(ctx.destMode).compressed;
  const asServed = c.httpTrusted && compressedDest;
  let onDisk = !inMemory;
  try {
    if (ctx.bareUserOnlyFiles) checkBareUserOnlyMode(header, checksum);
    space.take(declared);
    if (inMemory && (declared > PULL_INFLATE_IN_MEMORY_MAX || asServed)) {
      // small download, large declared data: streamed from a staging file like large downloads
      fs.mkdirSync(path.dirname(staged), { recursive: true });
      onDisk = true;
      fs.writeFileSync(staged, body, { mode: 0o644 });
      inMemory = false;
    }
    // verified and written without a staging file
    if (inMemory) return c.storeThread ? await c.storeThread.store(checksum, body) : importArchiveObjectBuffer(ctx, checksum, body);
    if (!compressedDest) return await importContentObject(ctx, checksum);
    // Same representation: verify the downloaded object and link it in as it is.
    const verified = asServed ? declared : await verifyArchiveObject(c.stage, checksum);
    if (verified === null) return await importContentObject(ctx, checksum); // not canonical: rewritten
    fs.chmodSync(staged, 0o644);
    linkIntoPlace(staged, objectPath(ctx.destPath, checksum, 'file', ctx.destMode));
    onDisk = false;
    return verified;
  } finally {
    if (onDisk) { try { fs.unlinkSync(staged); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; } }
  }
}
