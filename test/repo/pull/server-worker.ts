/**
 * The worker behind serveInWorker (server.ts): a static file server on 127.0.0.1 for
 * workerData.root, answering the paths in workerData.special with the hostile behaviours
 * described there. Posts its port once listening.
 */
import * as http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { serveFile, type Behaviour } from './server.js';

const { root, special } = workerData as { root: string; special: Record<string, Behaviour> };

function streamZeros(res: http.ServerResponse, bytes: number): void {
  const chunk = Buffer.alloc(1024 * 1024);
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(chunk.subarray(0, n))) { res.once('drain', pump); return; }
    }
    res.end();
  };
  pump();
}

const server = http.createServer((req, res) => {
  const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const b = special[p];
  if (b === undefined) { serveFile(root, p, res); return; }
  if (b.kind === 'declare') {
    res.writeHead(200, { 'Content-Length': b.length, 'Content-Type': 'application/octet-stream' });
    res.flushHeaders();
    if (b.send) res.write(Buffer.alloc(b.send)); // then stall: the client must not wait for the rest
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  streamZeros(res, b.bytes);
});
server.keepAliveTimeout = 1000;
server.listen(0, '127.0.0.1', () => parentPort!.postMessage({ port: (server.address() as { port: number }).port }));
