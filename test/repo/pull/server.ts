/**
 * Test HTTP servers on 127.0.0.1 serving a directory (an archive repository) for pull tests:
 *  - serve(): in this process, with a hook per request for fault injection; for tests that
 *    run pulls in-process or as asynchronous child processes;
 *  - serveInWorker(): in a worker thread, for tests that run the CLI with spawnSync (which
 *    blocks this thread's event loop), with hostile behaviours per path chosen up front.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export type Hook = (urlPath: string, req: http.IncomingMessage, res: http.ServerResponse) => 'handled' | void | Promise<'handled' | void>;
export interface Served { url: string; root: string; log: string[]; hook: Hook | null; inFlight: number; maxInFlight: number; delayMs: number }
const servers: http.Server[] = [];

/** Answer a GET for `p` under `root` from the file there (404 when absent). */
export function serveFile(root: string, p: string, res: http.ServerResponse): void {
  const file = path.join(root, p);
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const data = fs.readFileSync(file);
  res.writeHead(200, { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream' }).end(data);
}

export async function serve(root: string): Promise<Served> {
  const s: Served = { url: '', root, log: [], hook: null, inFlight: 0, maxInFlight: 0, delayMs: 0 };
  const server = http.createServer(async (req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    s.log.push(p);
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    res.on('close', () => { s.inFlight--; });
    try {
      if (s.delayMs > 0) await new Promise((r) => setTimeout(r, s.delayMs));
      if (s.hook && (await s.hook(p, req, res)) === 'handled') return;
      serveFile(s.root, p, res);
    } catch (e) {
      res.destroy(e as Error);
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  s.url = `http://127.0.0.1:${addr.port}`;
  return s;
}

/** Have closeServers() close this server too. */
export function trackServer(server: http.Server): void { servers.push(server); }

/** Close every server made by serve() (call from the test file's `after`). */
export async function closeServers(): Promise<void> {
  for (const s of servers.splice(0)) { s.closeAllConnections(); await new Promise((r) => s.close(r)); }
}

/**
 * Hostile answers for a path, served by the worker:
 *  - declare: a 200 whose Content-Length says `length` bytes, then `send` zero bytes and a stall;
 *  - stream: a 200 without Content-Length streaming `bytes` zero bytes.
 */
export type Behaviour = { kind: 'declare'; length: number; send?: number } | { kind: 'stream'; bytes: number };

export interface WorkerServer { url: string; close(): Promise<void> }

/** A static file server for `root` in a worker thread, with `special` answers per URL path. */
export async function serveInWorker(root: string, special: Record<string, Behaviour> = {}): Promise<WorkerServer> {
  const w = new Worker(new URL('./server-worker.js', import.meta.url), { workerData: { root, special } });
  const port = await new Promise<number>((resolve, reject) => {
    w.once('message', (m: { port: number }) => resolve(m.port));
    w.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, close: async () => { await w.terminate(); } };
}
