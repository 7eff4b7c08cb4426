/**
 * `ostree pull`: fetch commits from a configured remote into a repository, as upstream ostree
 * 2022.7 does it.
 *
 *  - Remotes come from the repo config (`[remote "NAME"]`) and, for system repositories, from
 *    `<sysroot>/etc/ostree/remotes.d/*.conf`.
 *  - `file://` remotes are local pulls (pull-local machinery).
 *  - `http://` / `https://` remotes are archive-mode repositories laid out as on disk: `summary`
 *    (optional, refs + mode), `config` (mode check when there is no summary), `refs/heads/REF`,
 *    `objects/XX/Y….{commit,commitmeta,dirtree,dirmeta,filez}`.
 *
 * Every downloaded object is verified (metadata: sha256 of the bytes; content: the canonical
 * checksum of header + uncompressed data) before it is linked into the repository through
 * REPO/tmp. A fetched commit is marked `state/C.commitpartial` until all of its objects are in,
 * the repository is synced, and only then are the refs (`refs/remotes/NAME/REF`) written.
 * Downloads run in parallel (bounded) and transient network errors are retried.
 *
 * GPG verification is not implemented: a remote with gpg-verify=true (the default) is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { OstreeError, isErrno } from '../../errors.js';
import { KeyFile } from '../../glib/keyfile.js';
import { deserialize, printVariant, Variant } from '../../glib/gvariant.js';
import { isSymlinkMode, parseArchiveHeader, parseCommit, parseCommitMeta, parseDirMeta, parseDirTree, serializeFileHeader, sha256hex, isChecksum, type CommitObject, type ObjectType } from '../objects.js';
import { linkIntoPlace, loosePath, tmpName } from '../content.js';
import { Repo, parseRefspec, validateRefName, validateRemoteName } from '../repo.js';
import { formatPullStatus, formatSize, importArchiveObjectBuffer, importContentObject, pullLocal, readSourceObject, type ContentImportContext } from './local.js';

// ---------------------------------------------------------------------------------------------
// Remotes

export interface RemoteConfig {
  name: string;
  url: string;
  /** Every key of the `[remote "NAME"]` group (url included), in file order. */
  options: Map<string, string>;
  /** The file that defines it (REPO/config or a remotes.d/*.conf file). */
  file: string;
}

export interface RemoteLookupOptions {
  /** Sysroot whose `etc/ostree/remotes.d` holds system remotes (default: derived from a repo at
   *  `SYSROOT/ostree/repo`). */
  sysroot?: string;
}

function parseBool(v: string, where: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  throw new OstreeError('ECONFIG', `${where}: invalid boolean '${v}' (expected true or false)`);
}

/** Where system remotes live for this repo (`core.add-remotes-config-dir`), or null. */
export function remotesConfigDir(repo: Repo, opts: RemoteLookupOptions = {}): string | null {
  let sysroot = opts.sysroot;
  if (sysroot === undefined && repo.path.endsWith(`${path.sep}ostree${path.sep}repo`)) {
    sysroot = repo.path.slice(0, -'/ostree/repo'.length) || '/';
  }
  const explicit = repo.config.get('core', 'add-remotes-config-dir');
  const enabled = explicit === undefined ? sysroot !== undefined : parseBool(explicit, `${repo.path}/config: core.add-remotes-config-dir`);
  if (!enabled) return null;
  return path.join(sysroot ?? '/', 'etc/ostree/remotes.d');
}

const REMOTE_GROUP = /^remote "(.+)"$/;

function remotesOf(kf: KeyFile, file: string): RemoteConfig[] {
  const out: RemoteConfig[] = [];
  for (const g of kf.groupNames()) {
    const m = REMOTE_GROUP.exec(g);
    if (!m) continue;
    const options = new Map<string, string>();
    for (const k of kf.keys(g)) options.set(k, kf.get(g, k) ?? '');
    out.push({ name: m[1]!, url: options.get('url') ?? '', options, file });
  }
  return out;
}

/** All remotes: the repo config's first, then remotes.d files in name order. */
export function listRemotes(repo: Repo, opts: RemoteLookupOptions = {}): RemoteConfig[] {
  const out = remotesOf(repo.config, path.join(repo.path, 'config'));
  const dir = remotesConfigDir(repo, opts);
  if (dir !== null) {
    let names: string[] = [];
    try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort(); } catch (e) { if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e; }
    for (const n of names) {
      const p = path.join(dir, n);
      let text: string;
      try { text = fs.readFileSync(p, 'utf8'); } catch (e) { if (isErrno(e, 'ENOENT')) continue; throw e; }
      for (const r of remotesOf(KeyFile.parse(text, p), p)) {
        if (out.some((o) => o.name === r.name)) {
          throw new OstreeError('ECONFIG', `Multiple remotes exist with the same name '${r.name}' (${out.find((o) => o.name === r.name)!.file} and ${p}); remove one of them`);
        }
        out.push(r);
      }
    }
  }
  return out;
}

export function getRemote(repo: Repo, name: string, opts: RemoteLookupOptions = {}): RemoteConfig {
  const r = listRemotes(repo, opts).find((x) => x.name === name);
  if (!r) throw new OstreeError('ENOENT', `Remote "${name}" not found (configured remotes: ${listRemotes(repo, opts).map((x) => x.name).join(', ') || 'none'}; add one with 'ostree remote add')`);
  if (r.url === '') throw new OstreeError('ECONFIG', `Remote "${name}" in ${r.file} has no url= key`);
  return r;
}

/** `ostree remote add`: written to the repo config (EEXIST unless ifNotExists). */
export async function addRemote(repo: Repo, name: string, url: string, options: Array<[string, string]> = [], opts: RemoteLookupOptions & { ifNotExists?: boolean } = {}): Promise<void> {
  validateRemoteName(name);
  if (url === '') throw new OstreeError('EINVAL', `empty URL for remote "${name}"`);
  const existing = listRemotes(repo, opts).find((x) => x.name === name);
  if (existing) {
    if (opts.ifNotExists) return;
    throw new OstreeError('EEXIST', `Remote configuration for "${name}" already exists: (in ${existing.file === path.join(repo.path, 'config') ? 'config' : existing.file})`);
  }
  const group = `remote "${name}"`;
  repo.config.set(group, 'url', url);
  for (const [k, v] of options) repo.config.set(group, k, v);
  await repo.saveConfig();
}

/** `ostree remote delete`: removes the group (from the repo config or its remotes.d file) and
 *  the remote's refs (refs/remotes/NAME), as upstream. */
export async function deleteRemote(repo: Repo, name: string, opts: RemoteLookupOptions & { ifExists?: boolean } = {}): Promise<void> {
  validateRemoteName(name);
  const r = listRemotes(repo, opts).find((x) => x.name === name);
  if (!r) {
    if (opts.ifExists) return;
    throw new OstreeError('ENOENT', `Remote "${name}" not found`);
  }
  const group = `remote "${name}"`;
  if (r.file === path.join(repo.path, 'config')) {
    repo.config.removeGroup(group);
    await repo.saveConfig();
  } else {
    const kf = KeyFile.parse(fs.readFileSync(r.file, 'utf8'), r.file);
    kf.removeGroup(group);
    if (kf.groupNames().length === 0) fs.unlinkSync(r.file);
    else {
      const tmp = `${r.file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, kf.toString(), { mode: 0o644 });
      fs.renameSync(tmp, r.file);
    }
  }
  fs.rmSync(path.join(repo.path, 'refs', 'remotes', name), { recursive: true, force: true });
}

/** Refuse remotes that require signature verification (not implemented here). */
export function checkVerificationSupported(r: RemoteConfig): void {
  const where = `remote "${r.name}" (${r.file})`;
  const gpg = r.options.get('gpg-verify');
  if (gpg === undefined || parseBool(gpg, `${where}: gpg-verify`)) {
    throw new OstreeError('ECONFIG', `Remote "${r.name}" requires GPG verification (gpg-verify=${gpg ?? 'true, the default'}), which this implementation does not support; `
      + `if you trust the transport, set gpg-verify=false for the remote (ostree config set 'remote "${r.name}".gpg-verify' false, or add it with 'ostree remote add --no-gpg-verify')`);
  }
  const gpgSummary = r.options.get('gpg-verify-summary');
  if (gpgSummary !== undefined && parseBool(gpgSummary, `${where}: gpg-verify-summary`)) {
    throw new OstreeError('ECONFIG', `Remote "${r.name}" requires GPG verification of the summary (gpg-verify-summary=true), which this implementation does not support; set gpg-verify-summary=false for it`);
  }
  const sign = r.options.get('sign-verify');
  if (sign !== undefined && sign !== 'false') {
    throw new OstreeError('ECONFIG', `Remote "${r.name}" requires signature verification (sign-verify=${sign}), which this implementation does not support; set sign-verify=false for it`);
  }
}

/** The remote's configured `branches=` (a `;`-separated list). */
export function remoteBranches(r: RemoteConfig): string[] {
  return (r.options.get('branches') ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
}

// ---------------------------------------------------------------------------------------------
// Summary: (a(s(taya{sv}))a{sv}), little-endian container; timestamps inside are big-endian.

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

function bswap64(v: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b.readBigUInt64BE();
}

export function parseSummary(data: Buffer, source = 'summary'): RemoteSummary {
  let v: [Array<[string, [bigint, Buffer, Array<[string, Variant]>]]>, Array<[string, Variant]>];
  try {
    v = deserialize('(a(s(taya{sv}))a{sv})', data) as typeof v;
  } catch (e) {
    throw new OstreeError('ECORRUPT', `${source}: not a valid summary file: ${(e as Error).message}`, { cause: e });
  }
  const refs = new Map<string, SummaryRef>();
  for (const [name, [size, csum, meta]] of v[0]) {
    if (csum.length !== 32) throw new OstreeError('ECORRUPT', `${source}: ref '${name}' has a ${csum.length}-byte checksum`);
    const ts = meta.find(([k]) => k === 'ostree.commit.timestamp')?.[1];
    const r: SummaryRef = { checksum: csum.toString('hex'), size };
    if (ts && ts.type === 't') r.timestamp = bswap64(ts.value as bigint);
    refs.set(name, r);
  }
  const get = (k: string): Variant | undefined => v[1].find(([n]) => n === k)?.[1];
  const out: RemoteSummary = {
    refs,
    tombstoneCommits: get('ostree.summary.tombstone-commits')?.value === true,
    indexedDeltas: get('ostree.summary.indexed-deltas')?.value === true,
    hasDeltas: Array.isArray(get('ostree.static-deltas')?.value) && (get('ostree.static-deltas')!.value as unknown[]).length > 0,
  };
  const mode = get('ostree.summary.mode');
  if (mode && mode.type === 's') out.mode = mode.value as string;
  const lm = get('ostree.summary.last-modified');
  if (lm && lm.type === 't') out.lastModified = bswap64(lm.value as bigint);
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP fetcher

export interface FetcherOptions {
  /** Retries per request after a transient failure (default 5, as upstream). */
  retries?: number;
  /** Parallel connections (default 8). */
  concurrency?: number;
  /** Abort a request when no data arrives for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** TLS: accept any certificate (`tls-permissive`). */
  tlsPermissive?: boolean;
  tlsCaPath?: string;
  tlsClientCertPath?: string;
  tlsClientKeyPath?: string;
  /** First retry delay (doubles each time, capped at 2 s; default 100 ms). */
  retryDelayMs?: number;
  /** Extra request headers (`--http-header NAME=VALUE`). */
  headers?: Array<[string, string]>;
}

class HttpStatusError extends Error {
  constructor(readonly status: number, readonly url: string) { super(`Server returned HTTP ${status} for ${url}`); }
}

class NotFound extends Error {}

function isTransient(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 408 || e.status === 429;
  if (e instanceof NotFound || e instanceof OstreeError) return false;
  return true; // connection refused/reset, timeouts, truncated bodies
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** What HttpFetcher.get returns when the body went to `toFile`. */
export const IN_FILE: Buffer = Buffer.alloc(0);

/** GETs relative paths under a base URL (or a list of mirrors, tried in order when one answers
 *  with an HTTP error), with keep-alive, bounded parallelism and retries. */
export class HttpFetcher {
  bytesTransferred = 0;
  private readonly bases: URL[];
  private readonly agents = new Map<string, http.Agent>();
  private readonly tls: https.AgentOptions = {};
  private readonly retries: number;
  private readonly idleMs: number;
  private readonly retryDelay: number;
  private readonly headers: Record<string, string>;
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  readonly concurrency: number;

  constructor(baseUrl: string | string[], opts: FetcherOptions = {}) {
    const list = typeof baseUrl === 'string' ? [baseUrl] : baseUrl;
    if (list.length === 0) throw new OstreeError('EINVAL', 'no base URL to fetch from');
    this.bases = list.map((b) => new URL(b.endsWith('/') ? b : b + '/'));
    for (const b of this.bases) {
      if (b.protocol !== 'http:' && b.protocol !== 'https:') throw new OstreeError('EINVAL', `unsupported URL scheme in '${b}' (expected http:// or https://)`);
    }
    this.retries = opts.retries ?? 5;
    this.idleMs = opts.idleTimeoutMs ?? 30_000;
    this.retryDelay = opts.retryDelayMs ?? 100;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.headers = { 'User-Agent': 'libostree/2022.7 ostree-ts' };
    for (const [k, v] of opts.headers ?? []) this.headers[k] = v;
    if (opts.tlsPermissive) this.tls.rejectUnauthorized = false;
    if (opts.tlsCaPath) this.tls.ca = fs.readFileSync(opts.tlsCaPath);
    if (opts.tlsClientCertPath) this.tls.cert = fs.readFileSync(opts.tlsClientCertPath);
    if (opts.tlsClientKeyPath) this.tls.key = fs.readFileSync(opts.tlsClientKeyPath);
  }

  /** One keep-alive agent per scheme (mirrors and redirects may mix them). */
  private agentFor(protocol: string): http.Agent {
    let a = this.agents.get(protocol);
    if (!a) {
      a = protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: this.concurrency, ...this.tls })
        : new http.Agent({ keepAlive: true, maxSockets: this.concurrency });
      this.agents.set(protocol, a);
    }
    return a;
  }

  /** URL of `rel` on the first mirror (the one named in messages). */
  url(rel: string): string { return new URL(rel, this.bases[0]!).toString(); }

  close(): void { for (const a of this.agents.values()) a.destroy(); }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.active >= this.concurrency) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    try { return await fn(); } finally { this.active--; this.waiters.shift()?.(); }
  }

  /**
   * GET `rel`. Returns the body (or, with `toFile`, writes it there and returns IN_FILE; with
   * `memLimit` too, bodies whose Content-Length is at most that stay in memory and are returned);
   * null on 404/410 when `optional`. Throws OstreeError (EIO/ENOENT) naming the URL.
   */
  async get(rel: string, o: { optional?: boolean; maxSize?: number; toFile?: string; memLimit?: number; what?: string } = {}): Promise<Buffer | null> {
    const url = this.url(rel);
    const what = o.what ? `${o.what} (${url})` : url;
    return this.slot(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          // Mirrors in order: an HTTP error status moves on to the next one; the last one's
          // answer counts (as upstream's fetcher). Network errors are retried instead.
          for (let i = 0; ; i++) {
            try {
              return await this.attempt(new URL(rel, this.bases[i]!).toString(), o.maxSize ?? Infinity, o.toFile, o.memLimit ?? -1, 0);
            } catch (e) {
              if (i + 1 < this.bases.length && (e instanceof NotFound || e instanceof HttpStatusError)) continue;
              throw e;
            }
          }
        } catch (e) {
          if (e instanceof NotFound) {
            if (o.optional) return null;
            throw new OstreeError('ENOENT', `Server returned HTTP 404 while fetching ${what}`);
          }
          if (isTransient(e) && attempt < this.retries) {
            await sleep(Math.min(2000, this.retryDelay * 2 ** attempt));
            continue;
          }
          if (e instanceof OstreeError) throw e;
          const msg = e instanceof HttpStatusError ? `Server returned HTTP ${e.status}` : (e as Error).message;
          throw new OstreeError('EIO', `While fetching ${what}: ${msg}${isTransient(e) ? ` (gave up after ${attempt + 1} attempts)` : ''}`, { cause: e });
        }
      }
    });
  }

  private attempt(url: string, maxSize: number, toFile: string | undefined, memLimit: number, redirects: number): Promise<Buffer | null> {
    return new Promise<Buffer | null>((resolve, reject) => {
      const u = new URL(url);
      const mod = u.protocol === 'https:' ? https : http;
      let settled = false;
      let fd = -1;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        if (fd >= 0) { try { fs.closeSync(fd); } catch { /* closed */ } fd = -1; }
        reject(e);
      };
      const req = mod.get(u, { agent: this.agentFor(u.protocol), headers: this.headers }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (redirects >= 5) { fail(new OstreeError('EIO', `Too many redirects fetching ${url}`)); return; }
          settled = true;
          this.attempt(new URL(res.headers.location, url).toString(), maxSize, toFile, memLimit, redirects + 1).then(resolve, reject);
          return;
        }
        if (status === 404 || status === 410) { res.resume(); fail(new NotFound(url)); return; }
        if (status !== 200) { res.resume(); fail(new HttpStatusError(status, url)); return; }
        const chunks: Buffer[] = [];
        let size = 0;
        try {
          const declared = res.headers['content-length'];
          if (toFile !== undefined && !(declared !== undefined && Number(declared) <= memLimit)) {
            fs.mkdirSync(path.dirname(toFile), { recursive: true });
            fd = fs.openSync(toFile, 'w', 0o644);
          }
        } catch (e) { res.resume(); fail(new OstreeError('EIO', `cannot write ${toFile}: ${(e as Error).message}`)); return; }
        res.on('data', (c: Buffer) => {
          if (settled) return;
          size += c.length;
          this.bytesTransferred += c.length;
          if (size > maxSize) { fail(new OstreeError('ECORRUPT', `${url}: response larger than the ${maxSize}-byte limit for this object`)); req.destroy(); return; }
          if (fd >= 0) {
            try { let off = 0; while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off); } catch (e) { fail(e); req.destroy(); }
          } else chunks.push(c);
        });
        res.on('aborted', () => fail(new Error(`connection closed before the end of the response`)));
        res.on('error', (e) => fail(e));
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) { fail(new Error('connection closed before the end of the response')); return; }
          const len = res.headers['content-length'];
          if (len !== undefined && Number(len) !== size) { fail(new Error(`truncated response (${size} of ${len} bytes)`)); return; }
          settled = true;
          if (fd >= 0) { fs.closeSync(fd); fd = -1; resolve(IN_FILE); } else resolve(Buffer.concat(chunks));
        });
      });
      req.setTimeout(this.idleMs, () => req.destroy(Object.assign(new Error(`no data for ${this.idleMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => fail(e));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Pull

export interface PullProgress {
  /** Still discovering metadata (commit/dirtree/dirmeta fetches outstanding). */
  scanning: boolean;
  outstandingFetches: number;
  metadataFetched: number;
  contentFetched: number;
  fetched: number;
  requested: number;
  bytesTransferred: number;
  elapsedMs: number;
  /** Set on the last call. */
  done: boolean;
}

export interface PullOptions extends RemoteLookupOptions {
  /** Parents to follow: 0 (default) only the named commits, -1 all. */
  depth?: number;
  /** Only commit objects (and detached metadata); the commits stay partial. */
  commitMetadataOnly?: boolean;
  /** Pull this commit instead of the ref's current target (single ref), and point the ref at it. */
  overrideCommit?: string;
  /** Per-ref override commits (same order as refs; '' or undefined for none), like `REF@CSUM`. */
  overrideCommits?: Array<string | undefined>;
  /** Refuse commits older than this local rev (`--timestamp-check-from-rev`). */
  timestampCheckFromRev?: string;
  /** Refuse commits older than the current local `REMOTE:REF` (`--timestamp-check`). */
  timestampCheck?: boolean;
  /** Use this URL instead of the remote's (`--url`). */
  url?: string;
  /** `--mirror`: write refs as local refs (refs/heads/REF); with no refs and no configured
   *  branches, pull every ref of the remote's summary and store that summary too. */
  mirror?: boolean;
  disableFsync?: boolean;
  disableVerifyBindings?: boolean;
  /** file:// remotes: re-checksum objects that would be hardlinked (HTTP objects are always verified). */
  untrusted?: boolean;
  networkRetries?: number;
  concurrency?: number;
  /** Progress callback (called often; the caller throttles display). */
  progress?: (p: PullProgress) => void;
  /** Test hook: first retry delay in ms. */
  retryDelayMs?: number;
  /** Extra HTTP request headers. */
  httpHeaders?: Array<[string, string]>;
}

export interface PullResult {
  /** 'http' (fetched) or 'local' (file:// remote: imported). */
  kind: 'http' | 'local';
  metadataObjects: number;
  contentObjects: number;
  bytesTransferred: number;
  /** Uncompressed size of content objects written. */
  contentBytes: number;
  seconds: number;
  /** refspec written (`REMOTE:REF`) -> commit. */
  refs: Map<string, string>;
  /** Commits fetched or already present that were reached. */
  commits: string[];
}

/** The summary line upstream prints after a pull. */
export function formatPullResult(r: PullResult): string {
  if (r.kind === 'local') {
    return formatPullStatus({ metadataObjects: r.metadataObjects, contentObjects: r.contentObjects, contentBytes: r.contentBytes, refs: r.refs, commits: r.commits });
  }
  let s = `${r.metadataObjects} metadata, ${r.contentObjects} content objects fetched`;
  if (r.bytesTransferred > 0) {
    const kib = r.bytesTransferred >= 1024;
    s += `; ${kib ? Math.floor(r.bytesTransferred / 1024) : r.bytesTransferred} ${kib ? 'KiB' : 'B'} transferred in ${Math.floor(r.seconds)} seconds`;
  }
  return `${s}; ${formatSize(r.contentBytes)} content written`;
}

/** The progress line upstream shows on a terminal. */
export function formatPullProgress(p: PullProgress): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs < 1 || p.bytesTransferred === 0 ? '-' : formatSize(Math.floor(p.bytesTransferred / Math.floor(secs)));
  const total = formatSize(p.bytesTransferred);
  if (p.scanning) return `Receiving metadata objects: ${p.metadataFetched}/(estimating) ${rate}/s ${total}`;
  const pct = p.requested > 0 ? Math.floor((p.fetched / p.requested) * 100) : 100;
  return `Receiving objects: ${pct}% (${p.fetched}/${p.requested}) ${rate}/s ${total}`;
}

/** Modified base64 of a checksum, as in static delta paths ('/' -> '_', no padding). */
function deltaB64(csum: string): string {
  return Buffer.from(csum, 'hex').toString('base64').replace(/=+$/, '').replace(/\//g, '_');
}

export function deltaSuperblockPath(from: string | null, to: string): string {
  const t = deltaB64(to);
  if (from === null) return `deltas/${t.slice(0, 2)}/${t.slice(2)}/superblock`;
  const f = deltaB64(from);
  return `deltas/${f.slice(0, 2)}/${f.slice(2)}-${t}/superblock`;
}

export function deltaIndexPath(to: string): string {
  const t = deltaB64(to);
  return `delta-indexes/${t.slice(0, 2)}/${t.slice(2)}.index`;
}

function objectRelPath(checksum: string, type: ObjectType): string {
  const ext = type === 'file' ? 'filez' : type === 'tombstone-commit' ? 'commit-tombstone' : type;
  return `objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${ext}`;
}

/** `%c` in the C locale, as upstream's timestamp errors. */
function cTime(ts: bigint): string {
  const d = new Date(Number(ts) * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export function checkTimestamps(currentRev: string, currentTs: bigint, newRev: string, newTs: bigint): void {
  if (newTs > currentTs) return;
  if (newTs === currentTs || currentRev === newRev) return;
  throw new OstreeError('ESTATE', `Upgrade target revision '${newRev}' with timestamp '${cTime(newTs)}' is chronologically older than current revision '${currentRev}' with timestamp '${cTime(currentTs)}'; use --allow-downgrade to permit`);
}

function checkBinding(c: CommitObject, checksum: string, ref: string): void {
  const b = c.metadata.find(([k]) => k === 'ostree.ref-binding')?.[1];
  if (b && Array.isArray(b.value) && !(b.value as string[]).includes(ref)) {
    throw new OstreeError('EINVAL', `Commit ${checksum}: Commit has no requested ref ‘${ref}’ in ref binding metadata (${(b.value as string[]).map((x) => `‘${x}’`).join(', ')})`);
  }
}

interface Wanted { ref: string | null; commit: string }

/** Resolve the requested refs (names, `REF@CSUM` handled by the caller, or bare checksums). */
function normalizeRefs(refs: string[], opts: PullOptions): Array<{ ref: string | null; override?: string }> {
  if (opts.overrideCommit !== undefined && refs.length !== 1) {
    throw new OstreeError('EINVAL', `an override commit needs exactly one ref (got ${refs.length})`);
  }
  return refs.map((r, i) => {
    const override = opts.overrideCommit ?? opts.overrideCommits?.[i];
    if (isChecksum(r)) return { ref: null, override: r };
    const [remote, name] = parseRefspec(r);
    if (remote !== null) throw new OstreeError('EINVAL', `Invalid ref name '${r}' (give the ref without the remote)`);
    validateRefName(name);
    if (override !== undefined && override !== '') {
      if (!isChecksum(override)) throw new OstreeError('EINVAL', `Invalid override commit '${override}' for ${r} (expected a 64-character checksum)`);
      return { ref: name, override };
    }
    return { ref: name };
  });
}

function cleanStaleStaging(repo: Repo): void {
  const dir = path.join(repo.path, 'tmp');
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names) {
    const m = /^(?:fetch|pull)-(\d+)-/.exec(n); // our staging dirs and import tmp files
    if (!m) continue;
    let alive = true;
    try { process.kill(Number(m[1]), 0); } catch (e) { alive = !isErrno(e, 'ESRCH'); }
    if (!alive) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  }
}

/**
 * Upstream's free-space reserve for content writes (`core.min-free-space-size` = N{M,G,T}B, else
 * `core.min-free-space-percent`, default 3): each content object takes its blocks from what is
 * free above the reserve, and one that does not fit is refused before it is written. Metadata
 * objects are exempt, as upstream.
 */
export class SpaceBudget {
  private maxBlocks: number;
  private readonly bsize: number;
  private readonly label: string;
  readonly enabled: boolean;

  constructor(repo: Repo) {
    const cfgPath = `${repo.path}/config`;
    const sizeStr = repo.config.get('core', 'min-free-space-size');
    const pctStr = repo.config.get('core', 'min-free-space-percent');
    let reservedBytes = 0;
    let mb = 0;
    let pct = 3;
    if (sizeStr !== undefined) {
      const m = /^([0-9]+)(G|M|T)B$/.exec(sizeStr);
      if (!m) throw new OstreeError('ECONFIG', `${cfgPath}: invalid core.min-free-space-size '${sizeStr}': It should be of the format '123MB', '123GB' or '123TB'`);
      mb = Number(m[1]) * (m[2] === 'G' ? 1024 : m[2] === 'T' ? 1024 * 1024 : 1);
    } else if (pctStr !== undefined) {
      pct = Number(pctStr);
      if (!/^[0-9]+$/.test(pctStr) || pct > 99) throw new OstreeError('ECONFIG', `${cfgPath}: invalid core.min-free-space-percent '${pctStr}' (expected an integer from 0 to 99)`);
    }
    this.label = mb > 0 ? `min-free-space-size ${mb}MB` : `min-free-space-percent '${pct}%'`;
    const st = fs.statfsSync(repo.path);
    this.bsize = st.bsize;
    reservedBytes = mb > 0 ? mb * 1024 * 1024 : Math.floor((st.blocks * pct) / 100) * st.bsize;
    this.enabled = mb > 0 || pct > 0;
    const reservedBlocks = Math.floor(reservedBytes / st.bsize);
    const free = process.getuid?.() === 0 ? st.bfree : st.bavail;
    this.maxBlocks = free > reservedBlocks ? free - reservedBlocks : 0;
  }

  /** Account for a content object of `bytes` (throws when it would eat into the reserve). */
  take(bytes: number): void {
    if (!this.enabled) return;
    const blocks = Math.ceil(bytes / this.bsize);
    if (blocks > this.maxBlocks) {
      throw new OstreeError('ESTATE', `${this.label} would be exceeded, at least ${formatSize(bytes)} requested (free space on the repository's filesystem is below the configured reserve; free some space or lower the reserve)`);
    }
    this.maxBlocks -= blocks;
  }
}

/** Runs async jobs, remembers the first failure, and resolves when all are done. */
class TaskGroup {
  private pending = 0;
  error: unknown = null;
  private resolveIdle: (() => void) | null = null;

  spawn(fn: () => Promise<void>): void {
    if (this.error !== null) return;
    this.pending++;
    fn().catch((e) => { if (this.error === null) this.error = e; }).finally(() => {
      this.pending--;
      if (this.pending === 0 && this.resolveIdle) { const r = this.resolveIdle; this.resolveIdle = null; r(); }
    });
  }

  async wait(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((r) => { this.resolveIdle = r; });
    if (this.error !== null) throw this.error;
  }
}

/**
 * Pull `refs` (default: the remote's `branches=`) from remote `remoteName` into `repo`, writing
 * `refs/remotes/REMOTE/REF`. A ref may also be a commit checksum (no ref is written for it).
 */
export async function pullFromRemote(repo: Repo, remoteName: string, refs: string[], opts: PullOptions = {}): Promise<PullResult> {
  const remote = getRemote(repo, remoteName, opts);
  checkVerificationSupported(remote);
  let url = opts.url ?? remote.url;
  let allRefs = false;
  if (refs.length === 0) {
    refs = remoteBranches(remote);
    if (refs.length === 0) {
      if (!opts.mirror) throw new OstreeError('EINVAL', `No configured branches for remote ${remoteName} (name the refs to pull, or set branches= for the remote)`);
      allRefs = true; // --mirror: every ref the remote has
    }
  }
  const wanted = normalizeRefs(refs, opts);
  /** Where a pulled ref is written: `REMOTE:REF`, or `REF` when mirroring. */
  const refSpec = (ref: string): string => (opts.mirror ? ref : `${remoteName}:${ref}`);
  const depth = opts.depth ?? 0;
  if (!Number.isInteger(depth) || depth < -1) throw new OstreeError('EINVAL', `invalid depth ${depth} (expected -1 or a non-negative integer)`);

  // Timestamp bound from a local rev, resolved before anything is fetched.
  let fromRev: { rev: string; ts: bigint } | null = null;
  if (opts.timestampCheckFromRev !== undefined) {
    const rev = await repo.resolveRev(opts.timestampCheckFromRev);
    try {
      fromRev = { rev, ts: repo.loadCommitSync(rev).timestamp };
    } catch (e) {
      throw new OstreeError('ENOENT', `Reading ${opts.timestampCheckFromRev} for timestamp-check-from-rev: ${(e as Error).message}`, { cause: e });
    }
  }
  const checkTs = (w: { ref: string | null }, checksum: string, c: CommitObject): void => {
    if (fromRev) checkTimestamps(fromRev.rev, fromRev.ts, checksum, c.timestamp);
    if (opts.timestampCheck && w.ref !== null) {
      const orig = repo.resolveRevSync(refSpec(w.ref));
      if (orig !== null) checkTimestamps(orig, repo.loadCommitSync(orig).timestamp, checksum, c.timestamp);
    }
  };

  if (url.startsWith('file://')) {
    return pullFileRemote(repo, remoteName, decodeURIComponent(new URL(url).pathname), wanted, allRefs, depth, opts, checkTs, refSpec);
  }
  if (!/^(https?:\/\/|mirrorlist=)/.test(url)) throw new OstreeError('EINVAL', `Remote "${remoteName}" has unsupported URL '${url}' (expected file://, http:// or https:// or mirrorlist=http(s)://)`);
  if (remote.options.get('proxy')) throw new OstreeError('EINVAL', `Remote "${remoteName}" sets proxy=, which this implementation does not support`);
  const contentUrl = remote.options.get('contenturl');
  url = url.replace(/\/+$/, '');

  const fo: FetcherOptions = {
    ...(opts.networkRetries !== undefined ? { retries: opts.networkRetries } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
    ...(opts.httpHeaders !== undefined ? { headers: opts.httpHeaders } : {}),
  };
  const tlsPermissive = remote.options.get('tls-permissive');
  if (tlsPermissive !== undefined && parseBool(tlsPermissive, `remote "${remoteName}": tls-permissive`)) fo.tlsPermissive = true;
  const ca = remote.options.get('tls-ca-path'); if (ca) fo.tlsCaPath = ca;
  const cert = remote.options.get('tls-client-cert-path'); if (cert) fo.tlsClientCertPath = cert;
  const key = remote.options.get('tls-client-key-path'); if (key) fo.tlsClientKeyPath = key;
  const meta = new HttpFetcher(await resolveMirrors(url, fo), fo);
  const content = contentUrl && contentUrl !== url ? new HttpFetcher(await resolveMirrors(contentUrl, fo), fo) : meta;
  try {
    return await pullHttp(repo, remoteName, meta, content, wanted, allRefs, depth, opts, checkTs, refSpec);
  } finally {
    meta.close();
    if (content !== meta) content.close();
  }
}

/**
 * `mirrorlist=URL`: the http(s) mirrors listed there (one per line; blank lines and `#`
 * comments skipped), the first one checked to answer for `config`, as upstream. A plain URL is
 * returned as is.
 */
export async function resolveMirrors(spec: string, fo: FetcherOptions = {}): Promise<string[]> {
  if (!spec.startsWith('mirrorlist=')) return [spec];
  const listUrl = spec.slice('mirrorlist='.length);
  let f: HttpFetcher;
  try { f = new HttpFetcher(listUrl, fo); } catch (e) { throw new OstreeError('EINVAL', `Invalid mirrorlist URL '${listUrl}': ${(e as Error).message}`); }
  const out: string[] = [];
  try {
    let text: string;
    try {
      text = (await f.get(listUrl, { maxSize: 1024 * 1024, what: 'mirrorlist' }))!.toString('utf8');
    } catch (e) {
      throw new OstreeError((e as OstreeError).code ?? 'EIO', `While fetching mirrorlist '${listUrl}': ${(e as Error).message}`, { cause: e });
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      let u: URL;
      try { u = new URL(line); } catch { continue; }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') continue; // as upstream: http(s) mirrors only
      if (out.length === 0) {
        // the first mirror must work, so requests don't always start with a dead one
        const probe = new HttpFetcher(line, { ...fo, retries: fo.retries ?? 1 });
        try { await probe.get('config', { maxSize: 1024 * 1024, what: 'mirror config' }); out.push(line); } catch { /* next */ } finally { probe.close(); }
      } else out.push(line);
    }
  } finally { f.close(); }
  if (out.length === 0) throw new OstreeError('ENOENT', `No valid mirrors were found in mirrorlist '${listUrl}'`);
  return out;
}

async function pullFileRemote(
  repo: Repo, remoteName: string, srcPath: string, wanted: Array<{ ref: string | null; override?: string }>, allRefs: boolean, depth: number, opts: PullOptions,
  checkTs: (w: { ref: string | null }, checksum: string, c: CommitObject) => void, refSpec: (ref: string) => string,
): Promise<PullResult> {
  const start = Date.now();
  let src: Repo;
  try { src = await Repo.open(srcPath); } catch (e) {
    throw new OstreeError('ENOENT', `Remote "${remoteName}": ${srcPath} is not an OSTree repository: ${(e as Error).message}`, { cause: e });
  }
  if (allRefs) {
    for (const spec of (await src.listRefs()).keys()) if (!spec.includes(':')) wanted.push({ ref: spec });
  }
  // Check timestamps before anything is imported or any ref moves.
  const targets: Wanted[] = [];
  for (const w of wanted) {
    const commit = w.override ?? await src.resolveRevOptional(w.ref!);
    if (commit === null) throw new OstreeError('ENOENT', `Remote "${remoteName}" (${srcPath}) has no ref '${w.ref}'`);
    if (src.hasObjectSync(commit, 'commit')) checkTs(w, commit, src.loadCommitSync(commit));
    targets.push({ ref: w.ref, commit });
  }
  const byName = targets.filter((t, i) => t.ref !== null && wanted[i]!.override === undefined).map((t) => t.ref!);
  const byCommit = targets.filter((t, i) => t.ref === null || wanted[i]!.override !== undefined).map((t) => t.commit);
  const result: PullResult = { kind: 'local', metadataObjects: 0, contentObjects: 0, bytesTransferred: 0, contentBytes: 0, seconds: 0, refs: new Map(), commits: [] };
  const common = {
    depth, ...(opts.mirror ? {} : { remote: remoteName }),
    ...(opts.commitMetadataOnly ? { commitMetadataOnly: true } : {}),
    ...(opts.disableFsync ? { disableFsync: true } : {}),
    ...(opts.disableVerifyBindings ? { disableVerifyBindings: true } : {}),
    ...(opts.untrusted ? { untrusted: true } : {}),
  };
  for (const [list] of [[byName], [byCommit]] as const) {
    if (list.length === 0) continue;
    const r = await pullLocal(repo, srcPath, { ...common, refs: list });
    result.metadataObjects += r.metadataObjects;
    result.contentObjects += r.contentObjects;
    result.contentBytes += r.contentBytes;
    for (const [k, v] of r.refs) result.refs.set(k, v);
    result.commits.push(...r.commits);
  }
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t.ref !== null && wanted[i]!.override !== undefined) {
      await repo.setRef(refSpec(t.ref), t.commit);
      result.refs.set(refSpec(t.ref), t.commit);
    }
  }
  result.seconds = (Date.now() - start) / 1000;
  opts.progress?.({ scanning: false, outstandingFetches: 0, metadataFetched: result.metadataObjects, contentFetched: result.contentObjects, fetched: result.metadataObjects + result.contentObjects, requested: result.metadataObjects + result.contentObjects, bytesTransferred: 0, elapsedMs: Date.now() - start, done: true });
  return result;
}

/** The remote's raw `summary` file (null when it has none). */
export async function fetchRemoteSummaryBytes(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string } = {}): Promise<{ data: Buffer; source: string } | null> {
  const remote = getRemote(repo, remoteName, opts);
  const url = opts.url ?? remote.url;
  if (url.startsWith('file://')) {
    const p = path.join(decodeURIComponent(new URL(url).pathname), 'summary');
    try { return { data: fs.readFileSync(p), source: p }; } catch (e) { if (isErrno(e, 'ENOENT')) return null; throw e; }
  }
  if (!/^(https?:\/\/|mirrorlist=)/.test(url)) throw new OstreeError('EINVAL', `Remote "${remoteName}" has unsupported URL '${url}' (expected file://, http:// or https:// or mirrorlist=http(s)://)`);
  const gs = remote.options.get('gpg-verify-summary');
  if (gs !== undefined && parseBool(gs, `remote "${remoteName}": gpg-verify-summary`)) checkVerificationSupported(remote);
  const f = new HttpFetcher(await resolveMirrors(url));
  try {
    const data = await f.get('summary', { optional: true, maxSize: 64 * 1024 * 1024, what: 'summary' });
    return data === null ? null : { data, source: f.url('summary') };
  } finally { f.close(); }
}

/** Read the remote's refs from its summary (null when it has none). */
export async function fetchRemoteSummary(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string } = {}): Promise<RemoteSummary | null> {
  const b = await fetchRemoteSummaryBytes(repo, remoteName, opts);
  return b === null ? null : parseSummary(b.data, b.source);
}

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

/** `ostree remote summary --raw`: the whole variant as upstream's dump prints it (byteswapped,
 *  since it assumes big-endian data, with GLib's type annotations). */
export function formatSummaryRaw(data: Buffer): string {
  const T = '(a(s(taya{sv}))a{sv})';
  const swapInt = (v: Variant): Variant => {
    const b = Buffer.alloc(8);
    switch (v.type) {
      case 't': case 'x': b.writeBigUInt64LE(BigInt.asUintN(64, v.value as bigint)); return new Variant(v.type, v.type === 't' ? b.readBigUInt64BE() : b.readBigInt64BE());
      case 'u': b.writeUInt32LE((v.value as number) >>> 0); return new Variant('u', b.readUInt32BE());
      case 'i': b.writeInt32LE(v.value as number); return new Variant('i', b.readInt32BE());
      case 'q': b.writeUInt16LE(v.value as number); return new Variant('q', b.readUInt16BE());
      case 'n': b.writeInt16LE(v.value as number); return new Variant('n', b.readInt16BE());
      default: return v;
    }
  };
  const [refs, exts] = deserialize(T, data, { bigEndian: true }) as [Array<[string, [bigint, Buffer, Array<[string, Variant]>]]>, Array<[string, Variant]>];
  const swapped = [
    refs.map(([n, [size, csum, meta]]) => [n, [size, csum, meta.map(([k, v]) => [k, swapInt(v)])]]),
    exts.map(([k, v]) => [k, swapInt(v)]),
  ];
  return printVariant(T, swapped, true);
}

/** `ostree remote summary` text for a summary file, as upstream's dump. */
export function formatSummary(data: Buffer, source = 'summary'): string {
  parseSummary(data, source); // validates
  const [refs, exts] = deserialize('(a(s(taya{sv}))a{sv})', data) as [Array<[string, [bigint, Buffer, Array<[string, Variant]>]]>, Array<[string, Variant]>];
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
  const pretty: Record<string, string> = {
    'ostree.static-deltas': 'Static Deltas', 'ostree.summary.last-modified': 'Last-Modified', 'ostree.summary.expires': 'Expires',
    'ostree.summary.collection-id': 'Collection ID', 'ostree.summary.collection-map': 'Collection Map',
    'ostree.summary.mode': 'Repository Mode', 'ostree.summary.tombstone-commits': 'Has Tombstone Commits',
  };
  for (const [k, v] of exts) {
    let value: string;
    if ((k === 'ostree.summary.last-modified' || k === 'ostree.summary.expires') && v.type === 't') value = iso8601Local(bswap64(v.value as bigint));
    else if (k === 'ostree.summary.collection-id' && v.type === 's') value = v.value as string;
    else if (k === 'ostree.summary.collection-map') value = '(printed above)';
    else if (k === 'ostree.summary.mode' && v.type === 's') {
      const m = v.value as string;
      value = ['bare', 'bare-user', 'bare-user-only', 'archive', 'archive-z2', 'bare-split-xattrs'].includes(m) ? m : `Invalid (‘${m}’)`;
    } else if (k === 'ostree.summary.tombstone-commits' && v.type === 'b') value = v.value ? 'Yes' : 'No';
    else value = printVariant(v.type, v.value);
    out += pretty[k] !== undefined ? `${pretty[k]} (${k}): ${value}\n` : `${k}: ${value}\n`;
  }
  return out;
}

/** `ostree remote refs`: REMOTE:REF -> checksum, from the summary. */
export async function listRemoteRefs(repo: Repo, remoteName: string, opts: RemoteLookupOptions = {}): Promise<Map<string, string>> {
  const s = await fetchRemoteSummary(repo, remoteName, opts);
  if (s === null) throw new OstreeError('ENOENT', `Remote refs not available; server has no summary file (the remote's owner can create one with 'ostree summary -u')`);
  const out = new Map<string, string>();
  for (const name of [...s.refs.keys()].sort()) out.set(`${remoteName}:${name}`, s.refs.get(name)!.checksum);
  return out;
}

/**
 * Verify a downloaded `.filez` (staged under `stageRoot/objects/`) against its name: the
 * canonical header plus the inflated data must hash to `checksum`, and the data must have the
 * size the header claims. Returns the uncompressed size, or null when the object is valid but
 * has bytes after its content (then it is rewritten rather than linked as is).
 */
export async function verifyArchiveObject(stageRoot: string, checksum: string): Promise<number | null> {
  const o = readSourceObject(stageRoot, 'archive', checksum);
  const hash = createHash('sha256').update(serializeFileHeader(o.header));
  const fileSize = fs.statSync(o.path).size;
  let total = 0;
  if (isSymlinkMode(o.header.mode)) {
    if (fileSize !== o.dataOffset) return null;
  } else if (fileSize - o.dataOffset <= 4 * 1024 * 1024) {
    const raw = fs.readFileSync(o.path).subarray(o.dataOffset);
    let data: Buffer;
    try { data = zlib.inflateRawSync(raw); } catch (e) { throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: bad compressed data: ${(e as Error).message}`); }
    hash.update(data);
    total = data.length;
  } else {
    const inflate = fs.createReadStream(o.path, { start: o.dataOffset, highWaterMark: 1024 * 1024 }).pipe(zlib.createInflateRaw());
    try {
      for await (const c of inflate) { hash.update(c as Buffer); total += (c as Buffer).length; }
    } catch (e) { throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: bad compressed data: ${(e as Error).message}`); }
  }
  if (total !== o.size) throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: archive header says ${o.size} bytes, data has ${total}`);
  const actual = hash.digest('hex');
  if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted file object; checksum expected='${checksum}' actual='${actual}'`);
  return total;
}

async function pullHttp(
  repo: Repo, remoteName: string, meta: HttpFetcher, content: HttpFetcher, wanted: Array<{ ref: string | null; override?: string }>,
  allRefs: boolean, depth: number, opts: PullOptions, checkTs: (w: { ref: string | null }, checksum: string, c: CommitObject) => void,
  refSpec: (ref: string) => string,
): Promise<PullResult> {
  const start = Date.now();
  const st = { metaFetched: 0, contentFetched: 0, metaRequested: 0, contentRequested: 0, outstandingMeta: 0, outstandingContent: 0, contentBytes: 0 };
  const fetchers = new Set([meta, content]);
  const bytes = (): number => [...fetchers].reduce((a, f) => a + f.bytesTransferred, 0);
  let lastReport = 0;
  const report = (done = false): void => {
    if (!opts.progress) return;
    const now = Date.now();
    if (!done && now - lastReport < 100) return;
    lastReport = now;
    opts.progress({
      scanning: st.outstandingMeta > 0, outstandingFetches: st.outstandingMeta + st.outstandingContent,
      metadataFetched: st.metaFetched, contentFetched: st.contentFetched,
      fetched: st.metaFetched + st.contentFetched, requested: st.metaRequested + st.contentRequested,
      bytesTransferred: bytes(), elapsedMs: now - start, done,
    });
  };

  // 1. Summary (refs and mode), else config for the mode.
  const summaryData = await meta.get('summary', { optional: true, maxSize: 64 * 1024 * 1024, what: 'summary' });
  const summary = summaryData === null ? null : parseSummary(summaryData, meta.url('summary'));
  let mode = summary?.mode;
  if (mode === undefined) {
    const cfg = await meta.get('config', { optional: true, maxSize: 1024 * 1024, what: 'repository config' });
    if (cfg !== null) mode = KeyFile.parse(cfg.toString('utf8'), meta.url('config')).get('core', 'mode') ?? 'bare';
  }
  if (mode !== undefined && mode !== 'archive-z2' && mode !== 'archive') {
    throw new OstreeError('EINVAL', `Can't pull from archives with mode "${mode}" (remote "${remoteName}" at ${meta.url('')} must be an archive-mode repository to be served over HTTP)`);
  }

  // 2. Resolve refs.
  if (allRefs) {
    if (summary === null) throw new OstreeError('ENOENT', `Fetching all refs was requested in mirror mode, but remote repository does not have a summary (remote "${remoteName}"; name the refs to mirror)`);
    for (const name of summary.refs.keys()) wanted.push({ ref: name });
  }
  const targets: Wanted[] = [];
  for (const w of wanted) {
    if (w.override !== undefined) { targets.push({ ref: w.ref, commit: w.override }); continue; }
    const ref = w.ref!;
    if (summary) {
      const s = summary.refs.get(ref);
      if (!s) throw new OstreeError('ENOENT', `No such branch '${ref}' in repository summary (remote "${remoteName}")`);
      targets.push({ ref, commit: s.checksum });
      continue;
    }
    const data = await meta.get(`refs/heads/${ref}`, { optional: true, maxSize: 4096, what: `ref ${ref}` });
    if (data === null) throw new OstreeError('ENOENT', `Remote "${remoteName}" has no ref '${ref}' (HTTP 404 for ${meta.url(`refs/heads/${ref}`)})`);
    const csum = data.toString('utf8').trim();
    if (!isChecksum(csum)) throw new OstreeError('ECORRUPT', `Remote "${remoteName}": ref '${ref}' (${meta.url(`refs/heads/${ref}`)}) does not contain a checksum`);
    targets.push({ ref, commit: csum });
  }

  const result: PullResult = { kind: 'http', metadataObjects: 0, contentObjects: 0, bytesTransferred: 0, contentBytes: 0, seconds: 0, refs: new Map(), commits: [] };

  await repo.withLock(false, async () => {
    fs.mkdirSync(path.join(repo.path, 'tmp'), { recursive: true });
    fs.mkdirSync(path.join(repo.path, 'state'), { recursive: true });
    cleanStaleStaging(repo);
    const stage = path.join(repo.path, 'tmp', `fetch-${process.pid}-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(path.join(stage, 'objects'), { recursive: true });
    const ctx: ContentImportContext = { srcPath: stage, srcMode: 'archive', destPath: repo.path, destMode: repo.mode, untrusted: true, bareUserOnlyFiles: false };
    const budget = new SpaceBudget(repo);
    const seen = new Set<string>();
    const toComplete: string[] = [];
    const group = new TaskGroup();

    const fetchMeta = async (checksum: string, type: ObjectType, optional: boolean): Promise<Buffer | null> => {
      st.metaRequested++; st.outstandingMeta++; report();
      try {
        if (group.error !== null) throw group.error;
        const data = await meta.get(objectRelPath(checksum, type), { optional, maxSize: 128 * 1024 * 1024, what: `object ${checksum}.${type}` });
        if (data !== null && type !== 'commitmeta') {
          const actual = sha256hex(data);
          if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object ${checksum}.${type} from ${meta.url(objectRelPath(checksum, type))}; checksum expected='${checksum}' actual='${actual}'`);
        } else if (data !== null) {
          parseCommitMeta(data, `detached metadata ${checksum}.commitmeta from ${meta.url(objectRelPath(checksum, type))}`); // a{sv}, not checksummed
        }
        st.metaFetched++;
        return data;
      } finally { st.outstandingMeta--; report(); }
    };

    const scanDirMeta = (checksum: string): void => {
      const k = `${checksum}.dirmeta`;
      if (seen.has(k)) return;
      seen.add(k);
      if (repo.hasObjectSync(checksum, 'dirmeta')) return;
      group.spawn(async () => {
        const data = (await fetchMeta(checksum, 'dirmeta', false))!;
        parseDirMeta(data, `dirmeta ${checksum}`);
        repo.writeMetadataObjectSync('dirmeta', data);
      });
    };

    const fetchFile = (checksum: string): void => {
      const k = `${checksum}.file`;
      if (seen.has(k)) return;
      seen.add(k);
      if (repo.hasObjectSync(checksum, 'file')) return; // lstat: bare symlink objects may dangle
      st.contentRequested++;
      group.spawn(async () => {
        st.outstandingContent++; report();
        try {
          if (group.error !== null) return;
          const staged = loosePath(stage, checksum, 'filez'); // its directory is made when needed
          const rel = objectRelPath(checksum, 'file');
          const body = await content.get(rel, { toFile: staged, memLimit: 1024 * 1024, what: `object ${checksum}.file` });
          try {
            // the claimed size is checked against the free-space reserve before anything is written
            budget.take(body !== null && body !== IN_FILE ? Number(parseArchiveHeader(body, `${checksum}.file`).size) : readSourceObject(stage, 'archive', checksum).size);
            if (body !== null && body !== IN_FILE) {
              // small object, kept in memory: verified and written without a staging file
              const n = importArchiveObjectBuffer(ctx, checksum, body);
              if (n > 0) st.contentBytes += n;
            } else if (repo.mode === 'archive') {
              // Same representation: verify the downloaded object and link it in as it is.
              const size = await verifyArchiveObject(stage, checksum);
              if (size === null) {
                const r = importContentObject(ctx, checksum); // not canonical: rewritten
                const n = typeof r === 'number' ? r : await r;
                if (n > 0) st.contentBytes += n;
              } else {
                fs.chmodSync(staged, 0o644);
                linkIntoPlace(staged, repo.objectPath(checksum, 'file'));
                st.contentBytes += size;
              }
            } else {
              const r = importContentObject(ctx, checksum);
              const n = typeof r === 'number' ? r : await r;
              if (n > 0) st.contentBytes += n;
            }
          } catch (e) {
            const msg = e instanceof Error ? e.message : String(e);
            throw new OstreeError(e instanceof OstreeError ? e.code : 'EIO', `Object ${checksum}.file from ${content.url(rel)}: ${msg}`, { cause: e });
          } finally {
            if (body === IN_FILE) { try { fs.unlinkSync(staged); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; } }
          }
          st.contentFetched++;
        } finally { st.outstandingContent--; report(); }
      });
    };

    const scanDirTree = (checksum: string): void => {
      const k = `${checksum}.dirtree`;
      if (seen.has(k)) return;
      seen.add(k);
      group.spawn(async () => {
        let data: Buffer;
        if (repo.hasObjectSync(checksum, 'dirtree')) data = repo.readObjectBytesSync(checksum, 'dirtree');
        else {
          data = (await fetchMeta(checksum, 'dirtree', false))!;
          parseDirTree(data, `dirtree ${checksum}`); // structure check before it is stored
          repo.writeMetadataObjectSync('dirtree', data);
        }
        const dt = parseDirTree(data, `dirtree ${checksum}`);
        for (const f of dt.files) fetchFile(f.checksum);
        for (const d of dt.dirs) { scanDirTree(d.treeChecksum); scanDirMeta(d.metaChecksum); }
      });
    };

    const scanCommit = (checksum: string, level: number, w: Wanted | null): void => {
      const k = `${checksum}.commit`;
      if (seen.has(k)) return;
      seen.add(k);
      group.spawn(async () => {
        const partialMark = path.join(repo.path, 'state', `${checksum}.commitpartial`);
        let c: CommitObject;
        let partial: boolean;
        const writeDetached = (detached: Buffer): void => {
          const tmp = tmpName(repo.path, 'pull');
          fs.writeFileSync(tmp, detached, { mode: 0o644 });
          fs.renameSync(tmp, repo.objectPath(checksum, 'commitmeta'));
        };
        if (repo.hasObjectSync(checksum, 'commit')) {
          // As upstream, detached metadata is fetched again (new signatures may have appeared).
          const detached = await fetchMeta(checksum, 'commitmeta', true);
          if (detached !== null) writeDetached(detached);
          c = repo.loadCommitSync(checksum);
          partial = fs.existsSync(partialMark);
          if (w) {
            if (w.ref !== null && !opts.disableVerifyBindings) checkBinding(c, checksum, w.ref);
            checkTs(w, checksum, c);
          }
        } else {
          const detached = await fetchMeta(checksum, 'commitmeta', true);
          const data = await fetchMeta(checksum, 'commit', level > 0 && depth !== 0);
          if (data === null) return; // history ends on the server (dangling parent)
          c = parseCommit(data, `commit ${checksum}`);
          if (w) {
            if (w.ref !== null && !opts.disableVerifyBindings) checkBinding(c, checksum, w.ref);
            checkTs(w, checksum, c);
          }
          // Marked before the commit is stored: a commit object without its tree is never
          // mistaken for a complete one.
          fs.writeFileSync(partialMark, '');
          repo.writeMetadataObjectSync('commit', data);
          if (detached !== null) writeDetached(detached);
          partial = true;
        }
        result.commits.push(checksum);
        if (partial && !opts.commitMetadataOnly) {
          toComplete.push(checksum);
          scanDirTree(c.rootTree);
          scanDirMeta(c.rootMeta);
        }
        if (c.parent !== null && (depth === -1 || level < depth)) scanCommit(c.parent, level + 1, null);
      });
    };

    try {
      // Static deltas are not used, but upstream probes for them (and counts the probe) unless
      // the destination is an archive repo or only commits are wanted.
      if (!opts.commitMetadataOnly && repo.mode !== 'archive') {
        for (const t of targets) {
          let probe: string | null = null;
          if (summary?.indexedDeltas) probe = deltaIndexPath(t.commit);
          else if (summary?.hasDeltas) probe = null; // deltas listed in the summary (none used here)
          else if (t.ref !== null) {
            // from the current remote ref, unless that commit is missing or partial
            let from = repo.resolveRevSync(`${remoteName}:${t.ref}`);
            if (from !== null && (!repo.hasObjectSync(from, 'commit') || fs.existsSync(path.join(repo.path, 'state', `${from}.commitpartial`)))) from = null;
            if (from === t.commit) continue; // already there: upstream just scans it
            probe = deltaSuperblockPath(from, t.commit);
          } else probe = deltaSuperblockPath(null, t.commit);
          if (probe !== null) {
            const p = probe;
            group.spawn(async () => {
              st.metaRequested++; st.outstandingMeta++;
              try { await meta.get(p, { optional: true, maxSize: 128 * 1024 * 1024, what: 'static delta' }); st.metaFetched++; } finally { st.outstandingMeta--; }
            });
          }
        }
      }
      for (const t of targets) scanCommit(t.commit, 0, t);
      await group.wait();

      // Durable, then complete, then refs.
      if (!opts.disableFsync) repo.syncRepo();
      for (const c of toComplete) fs.rmSync(path.join(repo.path, 'state', `${c}.commitpartial`), { force: true });
      for (const t of targets) {
        if (t.ref === null) continue;
        const spec = refSpec(t.ref);
        await repo.setRef(spec, t.commit);
        result.refs.set(spec, t.commit);
      }
      if (allRefs && summaryData !== null) {
        // a mirror of every ref also serves the remote's summary
        const tmp = tmpName(repo.path, 'pull');
        fs.writeFileSync(tmp, summaryData, { mode: 0o644 });
        fs.renameSync(tmp, path.join(repo.path, 'summary'));
      }
    } finally {
      // The per-prefix directories are empty by now: rmdir each (much cheaper than a recursive rm).
      const objs = path.join(stage, 'objects');
      try {
        for (const sub of fs.readdirSync(objs)) fs.rmdirSync(path.join(objs, sub));
        fs.rmdirSync(objs);
        fs.rmdirSync(stage);
      } catch {
        fs.rmSync(stage, { recursive: true, force: true });
      }
    }
  });

  result.metadataObjects = st.metaFetched;
  result.contentObjects = st.contentFetched;
  result.contentBytes = st.contentBytes;
  result.bytesTransferred = bytes();
  result.seconds = (Date.now() - start) / 1000;
  report(true);
  return result;
}
