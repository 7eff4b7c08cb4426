/**
 * The HTTP client of a pull: GETs of paths under a remote's base URL (or a list of mirrors),
 * with keep-alive agents, a bound on requests in flight, TLS options, redirects, retries of
 * transient failures, a stall timeout, and a size limit per request checked against
 * Content-Length before the body is read and again while it arrives. `mirrorlist=` URLs are
 * resolved here too.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as v8 from 'node:v8';
import type { Agent as AgentClass, Dispatcher, ProxyAgent as ProxyAgentClass } from 'undici';
import { OstreeError } from '../../errors.js';
import { BodySink } from './body-sink.js';
import { cookieHeader, type Cookie } from './cookies.js';
import { MIRRORLIST_MAX_SIZE, REMOTE_CONFIG_MAX_SIZE } from './limits.js';

// undici's index loads about 110 modules (fetch, WebSocket, caches, mocks); a pull needs only
// its Agent (23 modules), used through dispatch(): loaded from its own file, that is a
// measurable part of a small pull's start-up. ProxyAgent needs the index (which adds connect()
// and the other request methods to every dispatcher), so it is loaded only with `proxy=`.
const requireUndici = createRequire(import.meta.url);
const loadAgent = (): typeof AgentClass => { baselineWasm(); return requireUndici('undici/lib/dispatcher/agent.js') as typeof AgentClass; };

/**
 * undici parses responses with llhttp compiled to WebAssembly. V8 compiles a module with its
 * baseline compiler, then recompiles the functions that run often with its optimizing one, in
 * background threads: for llhttp's one huge state-machine function that recompilation cost
 * about 80 ms of CPU in an 800-request pull (perf: 15% of the samples), on a core the web
 * server or the store thread would use, for a parser that spends microseconds per response
 * either way. So wasm stays on the baseline tier (our only WebAssembly is undici's parser).
 */
function baselineWasm(): void {
  try { v8.setFlagsFromString('--liftoff-only'); } catch { /* an engine without the flag: compiled as before */ }
}
const loadProxyAgent = (): typeof ProxyAgentClass => { baselineWasm(); return (requireUndici('undici') as { ProxyAgent: typeof ProxyAgentClass }).ProxyAgent; };

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
  /** `proxy=`: an HTTP proxy (http://HOST:PORT, or HOST:PORT) every request goes through. */
  proxy?: string;
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

/** A request that failed in undici's own argument checks (a header it refuses): never retried. */
function isUsageError(e: unknown): boolean {
  return (e as { code?: string }).code === 'UND_ERR_INVALID_ARG' || (e as { code?: string }).code === 'UND_ERR_NOT_SUPPORTED';
}

/** `user:password@` of a URL as a Basic Authorization header (null when it has none). */
function basicAuth(u: URL): string | null {
  if (u.username === '' && u.password === '') return null;
  const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  return `Basic ${Buffer.from(cred, 'utf8').toString('base64')}`;
}

/** The URL as sent: without its credentials (they go in a header). */
function withoutCredentials(u: URL): URL {
  if (u.username === '' && u.password === '') return u;
  const c = new URL(u.toString());
  c.username = '';
  c.password = '';
  return c;
}

/** `proxy=` as curl reads it: a URL, or `host:port` (then http). */
export function proxyUri(proxy: string): string {
  const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
  let u: URL;
  try { u = new URL(uri); } catch { throw new OstreeError('EINVAL', `Invalid proxy '${proxy}' (expected http://HOST:PORT)`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OstreeError('EINVAL', `Unsupported proxy scheme in '${proxy}' (expected http:// or https://)`);
  return uri;
}

/**
 * GETs relative paths under a base URL (or a list of mirrors, tried in order when one answers
 * with an HTTP error), with keep-alive, bounded parallelism and retries.
 *
 * The client is undici's (an Agent: a keep-alive pool per origin; a ProxyAgent with `proxy`):
 * Node's own http client cost about twice its CPU per request in a 20k-object pull, and undici
 * brings what curl gives upstream, a proxy (CONNECT for https) and HTTP/2 where the server
 * offers it by ALPN.
 */
export class HttpFetcher {
  bytesTransferred = 0;
  private readonly bases: URL[];
  private readonly dispatcher: Dispatcher;
  private readonly retries: number;
  private readonly idleMs: number;
  private readonly retryDelay: number;
  private readonly headers: Record<string, string>;
  private readonly cookies: Cookie[];
  /** Basic credentials of the base URLs, by origin: sent to that origin only. */
  private readonly auth = new Map<string, string>();
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  readonly concurrency: number;

  constructor(baseUrl: string | string[], readonly options: FetcherOptions = {}) {
    const opts = options;
    const list = typeof baseUrl === 'string' ? [baseUrl] : baseUrl;
    if (list.length === 0) throw new OstreeError('EINVAL', 'no base URL to fetch from');
    this.bases = list.map((b) => new URL(b.endsWith('/') ? b : b + '/'));
    for (const b of this.bases) {
      if (b.protocol !== 'http:' && b.protocol !== 'https:') throw new OstreeError('EINVAL', `unsupported URL scheme in '${b}' (expected http:// or https://)`);
      const a = basicAuth(b);
      if (a !== null) this.auth.set(b.origin, a);
    }
    this.retries = opts.retries ?? 5;
    this.idleMs = opts.idleTimeoutMs ?? 30_000;
    this.retryDelay = opts.retryDelayMs ?? 100;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.headers = { 'user-agent': opts.appendUserAgent ? `${USER_AGENT_PRODUCT} ${opts.appendUserAgent}` : USER_AGENT_PRODUCT };
    this.cookies = opts.cookies ?? [];
    for (const [k, v] of opts.headers ?? []) this.headers[k.toLowerCase()] = v;
    const tls: { rejectUnauthorized?: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer; timeout: number } = { timeout: this.idleMs };
    if (opts.tlsPermissive) tls.rejectUnauthorized = false;
    if (opts.tlsCaPath) tls.ca = readTlsFile(opts.tlsCaPath, 'tls-ca-path');
    if (opts.tlsClientCertPath) tls.cert = readTlsFile(opts.tlsClientCertPath, 'tls-client-cert-path');
    if (opts.tlsClientKeyPath) tls.key = readTlsFile(opts.tlsClientKeyPath, 'tls-client-key-path');
    const common = { connections: this.concurrency, headersTimeout: this.idleMs, bodyTimeout: this.idleMs, allowH2: true, keepAliveTimeout: 30_000 };
    this.dispatcher = opts.proxy
      ? new (loadProxyAgent())({ ...common, uri: proxyUri(opts.proxy), requestTls: tls, proxyTls: tls, proxyTunnel: false })
      : new (loadAgent())({ ...common, connect: tls });
  }

  /** The base URLs (mirrors) requests go to, in order. */
  baseUrls(): string[] { return this.bases.map((b) => b.toString()); }

  /** URL of `rel` on the first mirror (the one named in messages). */
  url(rel: string): string { return withoutCredentials(new URL(rel, this.bases[0]!)).toString(); }

  close(): void { this.dispatcher.destroy().catch(() => { /* already closed */ }); }

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
    // the URL as shown in messages, built only for one (a pull makes thousands of requests)
    const url = (): string => this.url(rel);
    const what = (): string => (o.what ? `${o.what} (${url()})` : url());
    return this.slot(async () => {
      const sink = new BodySink(o.toFile, o.memLimit ?? -1, o.maxSize ?? Infinity, url);
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.fromMirrors(rel, sink);
        } catch (e) {
          if (e instanceof NotFound) {
            if (o.optional) return null;
            throw new OstreeError('ENOENT', `Server returned HTTP 404 while fetching ${what()}`);
          }
          const transient = isTransient(e) && !isUsageError(e);
          if (transient && attempt < this.retries) {
            // a cut-short body is resumed at once; other failures wait a little longer each time
            if (!(e instanceof Incomplete)) await sleep(Math.min(2000, this.retryDelay * 2 ** attempt));
            continue;
          }
          if (e instanceof OstreeError) throw e;
          const msg = e instanceof HttpStatusError ? `Server returned HTTP ${e.status}` : describe(e);
          throw new OstreeError('EIO', `While fetching ${what()}: ${msg}${transient ? ` (gave up after ${attempt + 1} attempts)` : ''}`, { cause: e });
        } finally { sink.pause(); }
      }
    });
  }

  /** Mirrors in order: an HTTP error status moves on to the next one; the last one's answer
   *  counts (as upstream's fetcher). Network errors are retried by the caller instead. */
  private async fromMirrors(rel: string, sink: BodySink): Promise<Buffer | null> {
    for (let i = 0; ; i++) {
      try {
        return await this.attempt(new URL(rel, this.bases[i]!), sink, 0);
      } catch (e) {
        if (i + 1 < this.bases.length && (e instanceof NotFound || e instanceof HttpStatusError)) continue;
        throw e;
      }
    }
  }

  /** The request headers for `u`: ours, the caller's, its credentials, the cookies for that URL, and the range to resume. */
  private headersFor(u: URL, sink: BodySink): Record<string, string> {
    const h: Record<string, string> = { ...this.headers };
    const auth = basicAuth(u) ?? this.auth.get(u.origin);
    if (auth !== undefined && auth !== null && h['authorization'] === undefined) h['authorization'] = auth;
    const cookie = cookieHeader(this.cookies, u);
    if (cookie !== null) h['cookie'] = cookie;
    const range = sink.rangeHeader();
    if (range !== null) h['range'] = range;
    return h;
  }

  private async attempt(u: URL, sink: BodySink, redirects: number): Promise<Buffer | null> {
    const got = await new Promise<Buffer | URL>((resolve, reject) => {
      const reader = new ResponseReader(u, sink, (n) => { this.bytesTransferred += n; }, { resolve, reject });
      this.dispatcher.dispatch({
        origin: u.origin, path: u.pathname + u.search, method: 'GET', headers: this.headersFor(u, sink),
        headersTimeout: this.idleMs, bodyTimeout: this.idleMs,
      }, reader);
    });
    if (!(got instanceof URL)) return got;
    if (redirects >= 5) throw new OstreeError('EIO', `Too many redirects fetching ${withoutCredentials(u).toString()}`);
    return this.attempt(got, sink, redirects + 1);
  }
}

/** How much of an unwanted body (an error page, a redirect) is read to keep its connection. */
const DISCARD_LIMIT = 64 * 1024;

/**
 * One response, read through undici's dispatch interface rather than its request() streams:
 * the headers stay raw buffers (only the three this needs are read), and the body goes straight
 * into the sink, with no stream per response. Settles with the body, the URL of a redirect, or
 * the error; a body not wanted is read and dropped (up to DISCARD_LIMIT, so its keep-alive
 * connection serves the next request), else the connection is closed.
 */
class ResponseReader implements Dispatcher.DispatchHandler {
  private abortRequest: ((reason?: Error) => void) | null = null;
  private settled = false;
  private receiving = false;
  private discarded = 0;
  private declared: number | undefined;
  private start = 0;

  constructor(
    private readonly u: URL, private readonly sink: BodySink,
    private readonly counted: (bytes: number) => void,
    private readonly done: { resolve: (r: Buffer | URL) => void; reject: (e: unknown) => void },
  ) {}

  /** The URL as messages show it (without credentials), built only for a message. */
  private get shown(): string { return withoutCredentials(this.u).toString(); }

  onConnect(abort: (reason?: Error) => void): void { this.abortRequest = abort; }

  onHeaders(status: number, raw: Buffer[] | string[] | null): boolean {
    const header = (name: string): string | undefined => rawHeader(raw, name);
    const location = header('location');
    if (status >= 300 && status < 400 && location !== undefined) {
      let next: URL;
      try { next = new URL(location, this.u); } catch { return this.fail(new OstreeError('EIO', `Invalid redirect from ${this.shown}`)); }
      // a server may send us to another http(s) URL, never to a local file or another scheme
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return this.fail(new OstreeError('EIO', `Refusing redirect from ${this.shown} to a ${next.protocol} URL`));
      return this.settle(next);
    }
    if (status === 404 || status === 410) return this.fail(new NotFound(this.shown), false);
    if (status === 416 && this.sink.size > 0) {
      // we asked for the rest of a body that ended early: it had promised more than it has
      return this.fail(new OstreeError('EIO', `Download incomplete: ${this.shown} ended after ${this.sink.size} bytes, fewer than it declared, and the server refuses the rest (HTTP 416)`), false);
    }
    if (status !== 200 && status !== 206) return this.fail(new HttpStatusError(status, this.shown), false);
    const length = header('content-length');
    this.declared = length === undefined ? undefined : Number(length);
    try { this.sink.begin(status, this.declared, header('content-range')); } catch (e) { return this.fail(e); }
    this.start = this.sink.size;
    this.receiving = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) {
      this.discarded += chunk.length;
      if (this.discarded > DISCARD_LIMIT) this.abortRequest?.();
      return true;
    }
    this.counted(chunk.length);
    try { this.sink.write(chunk); } catch (e) { this.fail(e); }
    return true;
  }

  onComplete(): void {
    if (this.settled || !this.receiving) return;
    const got = this.sink.size - this.start;
    if (this.declared !== undefined && this.declared !== got) {
      this.fail(new Incomplete(`Download incomplete (connection closed after ${got} of ${this.declared} bytes)`));
      return;
    }
    this.settle(this.sink.finish(IN_FILE));
  }

  onError(e: Error): void {
    if (this.settled) return;
    // a body cut short after it started: resumed at once by the retry (a stall waited already)
    if (this.receiving && this.sink.size > this.start && (e as { code?: string }).code === 'UND_ERR_SOCKET') {
      this.fail(new Incomplete(`Download incomplete (connection closed after ${this.sink.size - this.start} of ${this.declared ?? 'unknown'} bytes)`));
    } else this.fail(e);
  }

  private settle(r: Buffer | URL): boolean {
    if (this.settled) return true;
    this.settled = true;
    this.done.resolve(r);
    return true;
  }

  /** Settle with `e`; the rest of the response is dropped, or with `close` its connection closed
   *  (a failed attempt writes nothing more; the retry resumes from what is in the sink). */
  private fail(e: unknown, close = true): boolean {
    if (this.settled) return true;
    this.settled = true;
    this.sink.pause();
    this.done.reject(e);
    if (close) this.abortRequest?.();
    return true;
  }
}

/** A header of a raw header list (name, value, name, value...), the first of its name. */
function rawHeader(raw: Buffer[] | string[] | null, name: string): string | undefined {
  if (raw === null) return undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length !== name.length) continue;
    if (k.toString().toLowerCase() === name) return raw[i + 1]!.toString();
  }
  return undefined;
}

/** An error from the network, in words: the stall timeout and undici's codes read as such. */
function describe(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `timed out (no data for the stall timeout)`;
  const cause = (e as { cause?: { message?: string } }).cause;
  const msg = e instanceof Error ? e.message : String(e);
  return cause?.message && !msg.includes(cause.message) ? `${msg}: ${cause.message}` : msg;
}

function readTlsFile(file: string, option: string): Buffer {
  try { return fs.readFileSync(file); } catch (e) {
    throw new OstreeError('ECONFIG', `Cannot read ${option} ${file}: ${(e as Error).message}`, { cause: e });
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
