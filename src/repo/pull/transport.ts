/**
 * The HTTP client of a pull: GETs of paths under a remote's base URL (or a list of mirrors),
 * with keep-alive agents, a bound on requests in flight, TLS options, redirects, retries of
 * transient failures, a stall timeout, and a size limit per request checked against
 * Content-Length before the body is read and again while it arrives. `mirrorlist=` URLs are
 * resolved here too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { OstreeError } from '../../errors.js';
import { BodySink } from './body-sink.js';
import { cookieHeader, type Cookie } from './cookies.js';
import { MIRRORLIST_MAX_SIZE, REMOTE_CONFIG_MAX_SIZE } from './limits.js';

/** Upstream's product token (the version this CLI follows), first in every User-Agent. */
export const USER_AGENT_PRODUCT = 'libostree/2022.7';

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
  /** Appended to the User-Agent (`--append-user-agent`). */
  appendUserAgent?: string;
  /** The remote's cookie jar (cookies.ts), sent where each cookie applies. */
  cookies?: Cookie[];
}

export interface GetOptions {
  /** 404/410 returns null instead of failing. */
  optional?: boolean;
  /** Refuse a body larger than this (bytes). */
  maxSize?: number;
  /** Write the body to this file (its directory is made when needed) and return IN_FILE... */
  toFile?: string;
  /** ...unless its Content-Length is at most this, then it is returned in memory. */
  memLimit?: number;
  /** What is fetched, for messages. */
  what?: string;
}

class HttpStatusError extends Error {
  constructor(readonly status: number, readonly url: string) { super(`Server returned HTTP ${status} for ${url}`); }
}

class NotFound extends Error {}

/** A body that ended before its declared length: retried at once, from where it stopped. */
class Incomplete extends Error {}

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
  private readonly cookies: Cookie[];
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
    this.headers = { 'User-Agent': opts.appendUserAgent ? `${USER_AGENT_PRODUCT} ${opts.appendUserAgent}` : USER_AGENT_PRODUCT };
    this.cookies = opts.cookies ?? [];
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
   * null on 404/410 when `optional`. A response cut short is resumed by the retry (body-sink.ts).
   * Throws OstreeError (EIO/ENOENT/ECORRUPT) naming the URL.
   */
  async get(rel: string, o: GetOptions = {}): Promise<Buffer | null> {
    const url = this.url(rel);
    const what = o.what ? `${o.what} (${url})` : url;
    return this.slot(async () => {
      const sink = new BodySink(o.toFile, o.memLimit ?? -1, o.maxSize ?? Infinity, url);
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.fromMirrors(rel, sink);
        } catch (e) {
          if (e instanceof NotFound) {
            if (o.optional) return null;
            throw new OstreeError('ENOENT', `Server returned HTTP 404 while fetching ${what}`);
          }
          if (isTransient(e) && attempt < this.retries) {
            // a cut-short body is resumed at once; other failures wait a little longer each time
            if (!(e instanceof Incomplete)) await sleep(Math.min(2000, this.retryDelay * 2 ** attempt));
            continue;
          }
          if (e instanceof OstreeError) throw e;
          const msg = e instanceof HttpStatusError ? `Server returned HTTP ${e.status}` : (e as Error).message;
          throw new OstreeError('EIO', `While fetching ${what}: ${msg}${isTransient(e) ? ` (gave up after ${attempt + 1} attempts)` : ''}`, { cause: e });
        } finally { sink.pause(); }
      }
    });
  }

  /** Mirrors in order: an HTTP error status moves on to the next one; the last one's answer
   *  counts (as upstream's fetcher). Network errors are retried by the caller instead. */
  private async fromMirrors(rel: string, sink: BodySink): Promise<Buffer | null> {
    for (let i = 0; ; i++) {
      try {
        return await this.attempt(new URL(rel, this.bases[i]!).toString(), sink, 0);
      } catch (e) {
        if (i + 1 < this.bases.length && (e instanceof NotFound || e instanceof HttpStatusError)) continue;
        throw e;
      }
    }
  }

  /** The request headers for `u`: ours, the caller's, the cookies for that URL, and the range to resume. */
  private headersFor(u: URL, sink: BodySink): Record<string, string> {
    const h: Record<string, string> = { ...this.headers };
    const cookie = cookieHeader(this.cookies, u);
    if (cookie !== null) h['Cookie'] = cookie;
    const range = sink.rangeHeader();
    if (range !== null) h['Range'] = range;
    return h;
  }

  private attempt(url: string, sink: BodySink, redirects: number): Promise<Buffer | null> {
    return new Promise<Buffer | null>((resolve, reject) => {
      const u = new URL(url);
      const mod = u.protocol === 'https:' ? https : http;
      let settled = false;
      const fail = (e: unknown): void => { if (!settled) { settled = true; reject(e); } };
      const req = mod.get(u, { agent: this.agentFor(u.protocol), headers: this.headersFor(u, sink) }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (redirects >= 5) { fail(new OstreeError('EIO', `Too many redirects fetching ${url}`)); return; }
          let next: URL;
          try { next = new URL(res.headers.location, url); } catch { fail(new OstreeError('EIO', `Invalid redirect from ${url}`)); return; }
          // a server may send us to another http(s) URL, never to a local file or another scheme
          if (next.protocol !== 'http:' && next.protocol !== 'https:') { fail(new OstreeError('EIO', `Refusing redirect from ${url} to a ${next.protocol} URL`)); return; }
          settled = true;
          this.attempt(next.toString(), sink, redirects + 1).then(resolve, reject);
          return;
        }
        if (status === 404 || status === 410) { res.resume(); fail(new NotFound(url)); return; }
        if (status !== 200 && status !== 206) { res.resume(); fail(new HttpStatusError(status, url)); return; }
        this.receive(res, req, sink, { done: (b) => { if (!settled) { settled = true; resolve(b); } }, fail });
      });
      req.setTimeout(this.idleMs, () => req.destroy(Object.assign(new Error(`no data for ${this.idleMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => fail(e));
    });
  }

  /** Read a 200/206 response's body into the sink, within its size bound. */
  private receive(res: http.IncomingMessage, req: http.ClientRequest, sink: BodySink, cb: { done(b: Buffer): void; fail(e: unknown): void }): void {
    const header = res.headers['content-length'];
    const declared = header === undefined ? undefined : Number(header);
    let finished = false;
    const fail = (e: unknown): void => {
      if (finished) return;
      finished = true;
      sink.pause(); // a failed attempt writes nothing more; the retry resumes from what is here
      cb.fail(e);
      req.destroy();
    };
    try { sink.begin(res.statusCode ?? 0, declared, res.headers['content-range']); } catch (e) { res.resume(); fail(e); return; }
    const start = sink.size;
    res.on('data', (c: Buffer) => {
      if (finished) return;
      this.bytesTransferred += c.length;
      try { sink.write(c); } catch (e) { fail(e); }
    });
    const cut = (): void => fail(new Incomplete(`Download incomplete (connection closed after ${sink.size - start} of ${declared ?? 'unknown'} bytes)`));
    res.on('aborted', cut);
    res.on('error', (e) => fail(e));
    res.on('end', () => {
      if (finished) return;
      if (!res.complete || (declared !== undefined && declared !== sink.size - start)) { cut(); return; }
      finished = true;
      cb.done(sink.finish(IN_FILE));
    });
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
      text = (await f.get(listUrl, { maxSize: MIRRORLIST_MAX_SIZE, what: 'mirrorlist' }))!.toString('utf8');
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
        try { await probe.get('config', { maxSize: REMOTE_CONFIG_MAX_SIZE, what: 'mirror config' }); out.push(line); } catch { /* next */ } finally { probe.close(); }
      } else out.push(line);
    }
  } finally { f.close(); }
  if (out.length === 0) throw new OstreeError('ENOENT', `No valid mirrors were found in mirrorlist '${listUrl}'`);
  return out;
}
