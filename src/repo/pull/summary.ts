/**
 * A remote's summary file: `(a(s(taya{sv}))a{sv})`, refs with their commit checksum, size and
 * metadata, then repository-wide extensions (mode, last-modified, static deltas, ...). The
 * container is little-endian; the timestamps inside are big-endian, as upstream writes them.
 * Fetched over HTTP or read from a `file://` remote within SUMMARY_MAX_SIZE, parsed strictly,
 * and printed as `ostree remote summary` and `remote refs` print it. Summaries are not cached
 * between runs and their signatures (summary.sig) are not verified: remotes that require that
 * are refused (config.ts).
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { deserialize, printVariant, Variant } from '../../glib/gvariant.js';
import { formatSize } from '../../util/format-size.js';
import type { Repo } from '../repo.js';
import { getRemote, type RemoteLookupOptions } from '../remotes.js';
import { checkSummaryVerificationSupported, fileUrlPath, remoteUrlKind } from './config.js';
import { SUMMARY_MAX_SIZE } from './limits.js';
import { readFileBounded } from '../../util/fs.js';
import { resolveMetalink } from './metalink.js';
import { HttpFetcher, resolveMirrors } from './transport.js';

export interface SummaryRef { checksum: string; size: bigint; timestamp?: bigint }
export interface RemoteSummary {
  refs: Map<string, SummaryRef>;
  mode?: string;
  lastModified?: bigint;
  tombstoneCommits: boolean;
  indexedDeltas: boolean;
  /** Static deltas listed in the summary (`ostree.static-deltas`). */
  hasDeltas: boolean;
}

const SUMMARY_T = '(a(s(taya{sv}))a{sv})';
type SummaryValue = [Array<[string, [bigint, Buffer, Array<[string, Variant]>]]>, Array<[string, Variant]>];

function bswap64(v: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b.readBigUInt64BE();
}

function decode(data: Buffer, source: string, options: { bigEndian?: boolean } = {}): SummaryValue {
  try {
    return deserialize(SUMMARY_T, data, options) as SummaryValue;
  } catch (e) {
    throw new OstreeError('ECORRUPT', `${source}: not a valid summary file: ${(e as Error).message}`, { cause: e });
  }
}

export function parseSummary(data: Buffer, source = 'summary'): RemoteSummary {
  const v = decode(data, source);
  const refs = new Map<string, SummaryRef>();
  for (const [name, [size, csum, meta]] of v[0]) {
    if (csum.length !== 32) throw new OstreeError('ECORRUPT', `${source}: ref '${name}' has a ${csum.length}-byte checksum`);
    const ts = meta.find(([k]) => k === 'ostree.commit.timestamp')?.[1];
    const r: SummaryRef = { checksum: csum.toString('hex'), size };
    if (ts && ts.type === 't') r.timestamp = bswap64(ts.value as bigint);
    refs.set(name, r);
  }
  const get = (k: string): Variant | undefined => v[1].find(([n]) => n === k)?.[1];
  const deltas = get('ostree.static-deltas')?.value;
  const out: RemoteSummary = {
    refs,
    tombstoneCommits: get('ostree.summary.tombstone-commits')?.value === true,
    indexedDeltas: get('ostree.summary.indexed-deltas')?.value === true,
    hasDeltas: Array.isArray(deltas) && deltas.length > 0,
  };
  const mode = get('ostree.summary.mode');
  if (mode && mode.type === 's') out.mode = mode.value as string;
  const lm = get('ostree.summary.last-modified');
  if (lm && lm.type === 't') out.lastModified = bswap64(lm.value as bigint);
  return out;
}

/** The remote's raw `summary` file (null when it has none). */
export async function fetchRemoteSummaryBytes(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string } = {}): Promise<{ data: Buffer; source: string } | null> {
  const remote = getRemote(repo, remoteName, opts);
  const url = opts.url ?? remote.url;
  if (remoteUrlKind(remoteName, url) === 'file') {
    const p = path.join(fileUrlPath(url), 'summary');
    const data = readFileBounded(p, SUMMARY_MAX_SIZE, { what: `Summary of remote "${remoteName}"`, follow: false, advice: 'remove it or repair the remote repository' });
    return data === null ? null : { data, source: p };
  }
  checkSummaryVerificationSupported(remote);
  if (remoteUrlKind(remoteName, url) === 'metalink') {
    const { baseUrl, summary } = await resolveMetalink(url.slice('metalink='.length), {});
    return { data: summary, source: `${baseUrl}/summary` };
  }
  const f = new HttpFetcher(await resolveMirrors(url));
  try {
    const data = await f.get('summary', { optional: true, maxSize: SUMMARY_MAX_SIZE, what: 'summary' });
    return data === null ? null : { data, source: f.url('summary') };
  } finally { f.close(); }
}

/** Read the remote's refs from its summary (null when it has none). */
export async function fetchRemoteSummary(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string } = {}): Promise<RemoteSummary | null> {
  const b = await fetchRemoteSummaryBytes(repo, remoteName, opts);
  return b === null ? null : parseSummary(b.data, b.source);
}

/** `ostree remote refs`: REMOTE:REF -> checksum, from the summary. */
export async function listRemoteRefs(repo: Repo, remoteName: string, opts: RemoteLookupOptions = {}): Promise<Map<string, string>> {
  const s = await fetchRemoteSummary(repo, remoteName, opts);
  if (s === null) throw new OstreeError('ENOENT', `Remote refs not available; server has no summary file (the remote's owner can create one with 'ostree summary -u')`);
  const out = new Map<string, string>();
  for (const name of [...s.refs.keys()].sort()) out.set(`${remoteName}:${name}`, s.refs.get(name)!.checksum);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text forms

/** GLib's `%FT%T%:::z` in the local time zone (as `ostree remote summary` prints times). */
function iso8601Local(secs: bigint): string {
  const d = new Date(Number(secs) * 1000);
  if (Number.isNaN(d.getTime())) return 'invalid';
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const a = Math.abs(off);
  const tz = `${off < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${a % 60 ? `:${p2(a % 60)}` : ''}`;
  return `${local.getUTCFullYear()}-${p2(local.getUTCMonth() + 1)}-${p2(local.getUTCDate())}T${p2(local.getUTCHours())}:${p2(local.getUTCMinutes())}:${p2(local.getUTCSeconds())}${tz}`;
}

/** An integer variant read little-endian, re-read big-endian (what upstream's dump shows). */
function swapInt(v: Variant): Variant {
  const b = Buffer.alloc(8);
  switch (v.type) {
    case 't': case 'x': b.writeBigUInt64LE(BigInt.asUintN(64, v.value as bigint)); return new Variant(v.type, v.type === 't' ? b.readBigUInt64BE() : b.readBigInt64BE());
    case 'u': b.writeUInt32LE((v.value as number) >>> 0); return new Variant('u', b.readUInt32BE());
    case 'i': b.writeInt32LE(v.value as number); return new Variant('i', b.readInt32BE());
    case 'q': b.writeUInt16LE(v.value as number); return new Variant('q', b.readUInt16BE());
    case 'n': b.writeInt16LE(v.value as number); return new Variant('n', b.readInt16BE());
    default: return v;
  }
}

/** `ostree remote summary --raw`: the whole variant as upstream's dump prints it (byteswapped,
 *  since it assumes big-endian data, with GLib's type annotations). */
export function formatSummaryRaw(data: Buffer, source = 'summary'): string {
  const [refs, exts] = decode(data, source, { bigEndian: true });
  const swapped = [
    refs.map(([n, [size, csum, meta]]) => [n, [size, csum, meta.map(([k, v]) => [k, swapInt(v)])]]),
    exts.map(([k, v]) => [k, swapInt(v)]),
  ];
  return printVariant(SUMMARY_T, swapped, true);
}

const PRETTY: Record<string, string> = {
  'ostree.static-deltas': 'Static Deltas', 'ostree.summary.last-modified': 'Last-Modified', 'ostree.summary.expires': 'Expires',
  'ostree.summary.collection-id': 'Collection ID', 'ostree.summary.collection-map': 'Collection Map',
  'ostree.summary.mode': 'Repository Mode', 'ostree.summary.tombstone-commits': 'Has Tombstone Commits',
};

const KNOWN_MODES = ['bare', 'bare-user', 'bare-user-only', 'archive', 'archive-z2', 'bare-split-xattrs'];

function extensionValue(k: string, v: Variant): string {
  if ((k === 'ostree.summary.last-modified' || k === 'ostree.summary.expires') && v.type === 't') return iso8601Local(bswap64(v.value as bigint));
  if (k === 'ostree.summary.collection-id' && v.type === 's') return v.value as string;
  if (k === 'ostree.summary.collection-map') return '(printed above)';
  if (k === 'ostree.summary.mode' && v.type === 's') {
    const m = v.value as string;
    return KNOWN_MODES.includes(m) ? m : `Invalid (‘${m}’)`;
  }
  if (k === 'ostree.summary.tombstone-commits' && v.type === 'b') return v.value ? 'Yes' : 'No';
  return printVariant(v.type, v.value);
}

/** `ostree remote summary` text for a summary file, as upstream's dump. */
export function formatSummary(data: Buffer, source = 'summary'): string {
  parseSummary(data, source); // validates
  const [refs, exts] = decode(data, source);
  let out = '';
  for (const [name, [size, csum, meta]] of refs) {
    out += `* ${name}\n    Latest Commit (${formatSize(Number(size))}):\n      ${csum.toString('hex')}\n`;
    for (const [k, v] of meta) {
      if (k === 'ostree.commit.timestamp' && v.type === 't') out += `    Timestamp (${k}): ${iso8601Local(bswap64(v.value as bigint))}\n`;
      else if (k === 'version' && v.type === 's') out += `    Version (${k}): ${v.value as string}\n`;
      else out += `    ${k}: ${printVariant(v.type, v.value)}\n`;
    }
    out += '\n';
  }
  for (const [k, v] of exts) {
    const value = extensionValue(k, v);
    out += PRETTY[k] !== undefined ? `${PRETTY[k]} (${k}): ${value}\n` : `${k}: ${value}\n`;
  }
  return out;
}
