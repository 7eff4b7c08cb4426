/**
 * `metalink=URL` remotes: a Metalink 3.0 document names the mirrors of the remote's `summary`
 * with its size and sha256/sha512 digests. The summary is fetched from the first mirror whose
 * copy has that size and digest, and the remote's base URL is that mirror's directory, as
 * upstream. The document is parsed as upstream's state machine reads it: known elements in
 * their places, anything else skipped with its subtree; bounded like any metadata.
 */
import { createHash } from 'node:crypto';
import { SaxesParser } from 'saxes';
import { OstreeError } from '../../errors.js';
import { PULL_METADATA_MAX_SIZE } from './limits.js';
import { HttpFetcher, type FetcherOptions } from './transport.js';

/** What a metalink says about one file. */
export interface MetalinkFile {
  size: number;
  sha256?: string;
  sha512?: string;
  urls: string[];
}

/** Element paths the reader knows; anything else is skipped with its subtree. */
const KNOWN: ReadonlyMap<string, readonly string[]> = new Map([
  ['', ['metalink']], ['metalink', ['files']], ['files', ['file']], ['file', ['size', 'verification', 'resources']],
  ['verification', ['hash']], ['resources', ['url']],
]);

/** Upstream's GMarkup requires an element first; say so in its words. */
function checkStartsWithElement(text: string): void {
  const body = text.replace(/^\uFEFF?\s*(<\?xml[^>]*\?>)?\s*/, '');
  if (!body.startsWith('<')) throw new OstreeError('EINVAL', 'Document must begin with an element (e.g. <book>)');
}

/** Parse the metalink document; the entry for `wanted` (e.g. `summary`) with its checks applied. */
export function parseMetalink(text: string, wanted: string): MetalinkFile {
  checkStartsWithElement(text);
  const st = { stack: [] as string[], skip: 0, foundFile: false, ours: false, known: false, text: '', hashType: '', urlOk: false };
  const out: MetalinkFile = { size: 0, urls: [] };
  const p = new SaxesParser({ xmlns: false });
  p.on('opentag', (t) => {
    const parent = st.stack[st.stack.length - 1] ?? '';
    if (st.skip > 0 || !(KNOWN.get(parent) ?? []).includes(t.name) || (parent !== 'files' && parent !== '' && parent !== 'metalink' && !st.ours)) { st.skip++; return; }
    if (t.name === 'file') { st.foundFile = true; st.ours = t.attributes['name'] === wanted; if (!st.ours) { st.skip++; return; } }
    if (parent === 'resources') {
      if (out.size === 0) throw new OstreeError('EINVAL', 'No <size> element found or it is zero');
      if (!st.known) throw new OstreeError('EINVAL', 'No <verification> element with known <hash type=> found');
      const proto = String(t.attributes['protocol'] ?? '');
      if (proto !== 'http' && proto !== 'https') { st.skip++; return; }
    }
    if (t.name === 'hash') { st.hashType = String(t.attributes['type'] ?? ''); st.known = st.hashType === 'sha256' || st.hashType === 'sha512'; }
    st.stack.push(t.name);
    st.text = '';
  });
  p.on('text', (x) => { if (st.skip === 0) st.text += x; });
  p.on('closetag', () => {
    if (st.skip > 0) { st.skip--; return; }
    const name = st.stack.pop()!;
    const value = st.text.trim();
    st.text = '';
    if (name === 'size') out.size = /^[0-9]+$/.test(value) ? Number(value) : 0;
    else if (name === 'hash' && st.hashType === 'sha256') out.sha256 = value;
    else if (name === 'hash' && st.hashType === 'sha512') out.sha512 = value;
    else if (name === 'url' && value !== '') out.urls.push(value);
    else if (name === 'file') st.ours = false;
  });
  try { p.write(text).close(); } catch (e) {
    if (e instanceof OstreeError) throw e;
    throw new OstreeError('EINVAL', `Invalid metalink: ${(e as Error).message}`, { cause: e });
  }
  return checkEntry(out, st.foundFile, wanted);
}

function checkEntry(f: MetalinkFile, foundFile: boolean, wanted: string): MetalinkFile {
  if (!foundFile) throw new OstreeError('EINVAL', 'No <file> element found');
  if (f.size === 0 && f.urls.length === 0 && f.sha256 === undefined && f.sha512 === undefined) throw new OstreeError('ENOENT', `No <file name='${wanted}'> found`);
  if (f.sha256 === undefined && f.sha512 === undefined) throw new OstreeError('EINVAL', 'No <verification> hash for sha256 or sha512 found');
  if (f.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(f.sha256)) throw new OstreeError('EINVAL', 'Invalid hash digest for sha256');
  if (f.sha512 !== undefined && !/^[0-9a-f]{128}$/.test(f.sha512)) throw new OstreeError('EINVAL', 'Invalid hash digest for sha512');
  if (f.urls.length === 0) throw new OstreeError('EINVAL', "No <url method='http'> elements found");
  return f;
}

/** A mirror's copy must have the size and the strongest digest the metalink gives. */
function checkCopy(f: MetalinkFile, data: Buffer): void {
  if (data.length !== f.size) throw new Error(`Expected size is ${f.size} bytes but content is ${data.length} bytes`);
  const [algo, want] = f.sha512 !== undefined ? ['sha512', f.sha512] : ['sha256', f.sha256!];
  const actual = createHash(algo).update(data).digest('hex');
  if (actual !== want) throw new Error(`Expected checksum is ${want} but actual is ${actual}`);
}

/** Fetch one absolute URL (a metalink, a mirror's summary) within the metadata bound. */
async function fetchAbsolute(url: string, fo: FetcherOptions, what: string): Promise<Buffer> {
  const f = new HttpFetcher(url, fo);
  try { return (await f.get(url, { maxSize: PULL_METADATA_MAX_SIZE, what }))!; } finally { f.close(); }
}

/**
 * Resolve `metalink=URL`: the verified summary and the base URL of the mirror it came from.
 * Each mirror is tried in document order; when none has a good copy, the last error is given.
 */
export async function resolveMetalink(metalinkUrl: string, fo: FetcherOptions): Promise<{ baseUrl: string; summary: Buffer }> {
  const doc = await fetchAbsolute(metalinkUrl, fo, 'metalink');
  const f = parseMetalink(doc.toString('utf8'), 'summary');
  let last = '';
  for (const url of f.urls) {
    try {
      const data = await fetchAbsolute(url, fo, 'summary');
      checkCopy(f, data);
      const u = new URL(url);
      u.pathname = u.pathname.replace(/\/[^/]*$/, '') || '/';
      return { baseUrl: u.toString().replace(/\/+$/, ''), summary: data };
    } catch (e) { last = (e as Error).message; }
  }
  throw new OstreeError('EIO', `Exhausted ${f.urls.length} metalink targets, last error: ${last}`);
}
