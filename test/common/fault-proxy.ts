/**
 * A fault-injecting reverse proxy on 127.0.0.1 in front of a real server (nginx), for the
 * hostile-server tests: each request is forwarded, or answered the way a broken or hostile
 * server would, as `fault(path, nth)` decides (nth: how many times this path was asked for
 * before). Listens on loopback only; every request is logged with the fault it got.
 */
import * as http from 'node:http';
import * as net from 'node:net';

export type Fault =
  | 'pass'
  /** headers and half the body, then nothing, the connection kept open */
  | 'stall'
  /** the connection reset before any answer */
  | 'reset'
  /** headers and half the body, then the connection closed */
  | 'cut'
  /** random bytes of the same length, status 200 */
  | 'garbage'
  /** another object's (valid) body: a checksum that does not match */
  | 'swap'
  /** an HTML error page with status 200 */
  | 'html200'
  /** `Content-Length: 2147483648`, the real (small) body, then the connection closed */
  | 'huge-length'
  /** a redirect to itself */
  | 'redirect-loop'
  /** a redirect to file:///etc/passwd */
  | 'redirect-file'
  /** 503 Service Unavailable */
  | 'unavailable';

export interface ProxyLogEntry { path: string; range: string; fault: Fault; at: number }

export interface FaultProxy {
  url: string;
  log: ProxyLogEntry[];
  fault: (path: string, nth: number) => Fault;
  /** Forget how often each path was asked for (nth starts at 0 again). */
  resetCounts(): void;
  close(): Promise<void>;
}

interface Upstream { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function fetchUpstream(target: URL, p: string, range: string | undefined): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: target.hostname, port: target.port, path: p, headers: range ? { Range: range } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const HTML = Buffer.from('<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>We will be back soon</h1></body></html>\n');

export async function startFaultProxy(upstreamUrl: string, fault: (path: string, nth: number) => Fault = () => 'pass'): Promise<FaultProxy> {
  const target = new URL(upstreamUrl);
  const seen = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const state: FaultProxy = { url: '', log: [], fault, resetCounts: () => seen.clear(), close: async () => {} };
  let swapBody: Buffer | null = null;
  const server = http.createServer(async (req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const nth = seen.get(p) ?? 0;
    seen.set(p, nth + 1);
    const f = state.fault(p, nth);
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    state.log.push({ path: p, range: range ?? '', fault: f, at: Date.now() });
    try {
      if (f === 'reset') { req.socket.resetAndDestroy(); return; }
      if (f === 'redirect-loop') { res.writeHead(302, { Location: p }).end(); return; }
      if (f === 'redirect-file') { res.writeHead(302, { Location: 'file:///etc/passwd' }).end(); return; }
      if (f === 'unavailable') { res.writeHead(503, { 'Content-Type': 'text/plain' }).end('busy\n'); return; }
      if (f === 'html200') { res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': HTML.length }).end(HTML); return; }
      const up = await fetchUpstream(target, p, range);
      // the real answer's status and length (a 206 to a Range request keeps its Content-Range)
      const h: http.OutgoingHttpHeaders = { 'Content-Length': up.body.length };
      if (up.headers['content-range']) h['Content-Range'] = up.headers['content-range'];
      if (f === 'pass' || (up.status !== 200 && up.status !== 206)) {
        if (up.status === 200 && p.endsWith('.filez')) swapBody = up.body;
        res.writeHead(up.status, h).end(up.body);
        return;
      }
      const half = up.body.subarray(0, Math.floor(up.body.length / 2));
      switch (f) {
        case 'stall':
          res.writeHead(up.status, h);
          res.write(half);
          return; // never ends
        case 'cut':
          res.writeHead(up.status, h);
          res.write(half, () => req.socket.destroy());
          return;
        case 'garbage': {
          const junk = Buffer.alloc(up.body.length);
          for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 0xff;
          res.writeHead(200, { 'Content-Length': junk.length }).end(junk);
          return;
        }
        case 'swap': {
          const other = swapBody !== null && !swapBody.equals(up.body) ? swapBody : Buffer.concat([up.body, Buffer.from([0])]);
          res.writeHead(200, { 'Content-Length': other.length }).end(other);
          return;
        }
        case 'huge-length':
          res.writeHead(200, { 'Content-Length': '2147483648' });
          res.write(up.body, () => req.socket.destroy());
          return;
      }
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  return state;
}
