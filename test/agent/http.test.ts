/** The agent's HTTP client against hostile servers: silence and floods end in clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../src/agent/http.js';
import { isOstreeError } from '../../src/errors.js';

async function serve(h: http.RequestListener): Promise<{ url: string; close: () => void }> {
  const s = http.createServer(h);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => { s.closeAllConnections(); s.close(); } };
}

test('http: a server that never answers times out; a flood is cut at the bound; bad URLs refused', async () => {
  const silent = await serve(() => { /* never answers */ });
  const flood = await serve((_q, res) => { res.writeHead(200); const chunk = Buffer.alloc(64 * 1024, 120); const pump = () => { while (res.write(chunk)) { /* fill */ } }; res.on('drain', pump); pump(); });
  const c = new HttpClient({ timeoutMs: 500, maxBodyBytes: 1024 * 1024 });
  try {
    await assert.rejects(c.request('GET', `${silent.url}/v1/graph`), (e: unknown) => isOstreeError(e, 'EIO') && /no answer within 500 ms/.test(e.message));
    await assert.rejects(c.request('GET', `${flood.url}/v1/graph`), (e: unknown) => isOstreeError(e, 'EIO') && /larger than 1048576 bytes/.test(e.message));
    await assert.rejects(c.request('GET', 'file:///etc/passwd'), (e: unknown) => isOstreeError(e, 'EINVAL'));
    await assert.rejects(c.request('GET', 'not a url'), (e: unknown) => isOstreeError(e, 'EINVAL'));
  } finally { c.close(); silent.close(); flood.close(); }
});
