/**
 * The FleetLock server: the protocol's two calls and our bad-release calls on the service
 * listener, a read-only admin view (`GET /v1/status`: groups, slots, holders with the seconds
 * left on their leases, bad releases) on the status listener. State is the LockStore's
 * (etcd); when the store is unreachable every lock request fails with 503
 * `store_unavailable`, so no node reboots without a slot.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OstreeError } from '../../errors.js';
import { FleetLockError, PATHS, PROTOCOL_HEADER, parseClientParams, parseReportBad, type BadRelease } from './protocol.js';
import type { LockStore } from './store.js';
import type { Listen } from './server-config.js';

export interface FleetLockServerOptions {
  store: LockStore;
  groups: Map<string, number>;
  holderLeaseSecs: number;
  log?: (line: string) => void;
}

const BODY_MAX = 64 * 1024;
const BODY_TIMEOUT_MS = 10_000;

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0; const chunks: Buffer[] = [];
    const timer = setTimeout(() => { reject(new FleetLockError(408, 'request_timeout', 'request body not received in time')); req.destroy(); }, BODY_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_MAX) { clearTimeout(timer); reject(new FleetLockError(413, 'body_too_large', `request body over ${BODY_MAX} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { reject(new FleetLockError(400, 'invalid_body', 'request body is not JSON')); }
    });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class FleetLockServer {
  private readonly servers: http.Server[] = [];
  constructor(private readonly o: FleetLockServerOptions) {}

  private log(line: string): void { this.o.log?.(line); }

  private slotsOf(group: string): number {
    const s = this.o.groups.get(group);
    if (s === undefined) throw new FleetLockError(400, 'unknown_group', `unknown group "${group}"`);
    return s;
  }

  private async store<T>(f: () => Promise<T>): Promise<T> {
    try { return await f(); } catch (e) {
      if (e instanceof FleetLockError) throw e;
      throw new FleetLockError(503, 'store_unavailable', e instanceof OstreeError ? e.message : String(e));
    }
  }

  private async preReboot(body: unknown): Promise<void> {
    const { id, group } = parseClientParams(body);
    const slots = this.slotsOf(group);
    const r = await this.store(() => this.o.store.lock(group, id, slots, this.o.holderLeaseSecs));
    if (!r.granted) throw new FleetLockError(409, 'failed_lock', `all ${slots} slots of group ${group} are held (${r.holders.join(', ')})`);
    if (!r.already) this.log(`lock: ${group}/${id} took a slot`);
  }

  private async steadyState(body: unknown): Promise<void> {
    const { id, group } = parseClientParams(body);
    this.slotsOf(group);
    if (await this.store(() => this.o.store.unlock(group, id))) this.log(`unlock: ${group}/${id} freed its slot`);
  }

  private async reportBad(body: unknown): Promise<void> {
    const b = parseReportBad(body);
    this.slotsOf(b.client_params.group);
    const rec: BadRelease = { ...b.release, reason: b.reason, reporter: b.client_params.id, group: b.client_params.group, time: new Date().toISOString() };
    await this.store(() => this.o.store.markBad(rec));
    this.log(`bad release: ${b.release.version} (${b.release.payload}) reported by ${b.client_params.id}: ${b.reason}`);
  }

  private async route(req: http.IncomingMessage): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers[PROTOCOL_HEADER] !== 'true') throw new FleetLockError(400, 'invalid_client_identity', `missing header '${PROTOCOL_HEADER}: true'`);
    if (req.method === 'GET' && url.pathname === PATHS.badReleases) return { releases: await this.store(() => this.o.store.badReleases()) };
    if (req.method !== 'POST') throw new FleetLockError(405, 'method_not_allowed', `${req.method} ${url.pathname}`);
    const body = await readBody(req);
    if (url.pathname === PATHS.preReboot) await this.preReboot(body);
    else if (url.pathname === PATHS.steadyState) await this.steadyState(body);
    else if (url.pathname === PATHS.reportBad) await this.reportBad(body);
    else throw new FleetLockError(404, 'not_found', url.pathname);
    return {};
  }

  private handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.route(req).then((b) => send(res, 200, b), (e: unknown) => {
      const fe = e instanceof FleetLockError ? e : new FleetLockError(500, 'generic_error', (e as Error).message);
      send(res, fe.status, { kind: fe.kind, value: fe.value });
    });
  };

  /** The admin view. */
  async status(): Promise<unknown> {
    const groups = [];
    for (const [name, slots] of this.o.groups) groups.push({ name, slots, holders: await this.o.store.holders(name) });
    return { holder_lease_secs: this.o.holderLeaseSecs, groups, bad_releases: await this.o.store.badReleases() };
  }

  private handleStatus = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' || p !== '/v1/status') { send(res, 404, { kind: 'not_found', value: p }); return; }
    this.status().then((s) => send(res, 200, s), (e: unknown) => send(res, 503, { kind: 'store_unavailable', value: (e as Error).message }));
  };

  private listenOn(l: Listen, h: http.RequestListener): Promise<AddressInfo> {
    const s = http.createServer(h);
    s.requestTimeout = 30_000;
    s.headersTimeout = 10_000;
    this.servers.push(s);
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(l.port, l.address, () => resolve(s.address() as AddressInfo));
    });
  }

  /** Listen; returns the bound ports (a configured port 0 picks a free one). */
  async start(service: Listen, status: Listen | null): Promise<{ service: AddressInfo; status: AddressInfo | null }> {
    const svc = await this.listenOn(service, this.handle);
    const st = status ? await this.listenOn(status, this.handleStatus) : null;
    return { service: svc, status: st };
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
    await this.o.store.close();
  }
}
