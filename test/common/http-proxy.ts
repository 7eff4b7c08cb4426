/**
 * A small HTTP proxy on 127.0.0.1 for the `proxy=` tests: absolute-form GETs are forwarded
 * (http targets), CONNECT opens a tunnel (https targets). It only forwards to 127.0.0.1, and
 * with `auth` it requires that Proxy-Authorization. Every request is logged.
 */
import * as http from 'node:http';
import * as net from 'node:net';

export interface TestProxy {
  url: string;
  /** `GET http://...` or `CONNECT host:port`, in arrival order. */
  log: string[];
  close(): Promise<void>;
}

function loopbackOnly(host: string): boolean { return host === '127.0.0.1' || host === 'localhost'; }

export async function startProxy(auth?: { user: string; password: string }): Promise<TestProxy> {
  const log: string[] = [];
  const expected = auth ? `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` : null;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    if (expected !== null && req.headers['proxy-authorization'] !== expected) { res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end(); return; }
    let target: URL;
    try { target = new URL(req.url ?? ''); } catch { res.writeHead(400).end('absolute URL expected\n'); return; }
    if (target.protocol !== 'http:' || !loopbackOnly(target.hostname)) { res.writeHead(403).end('loopback http only\n'); return; }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    log.push(`CONNECT ${req.url}`);
    if (expected !== null && req.headers['proxy-authorization'] !== expected) { client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'); return; }
    const [host, port] = (req.url ?? '').split(':');
    if (!host || !port || !loopbackOnly(host)) { client.end('HTTP/1.1 403 Forbidden\r\n\r\n'); return; }
    const up = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
