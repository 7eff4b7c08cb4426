/**
 * The agent's HTTP client: one per agent instance (its own keep-alive connection pool, so
 * many agents in one process stay independent), JSON in and out, a deadline on every request
 * and a bound on every response body (a hostile server cannot hang or flood us).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { OstreeError } from '../errors.js';

export interface HttpResponse { status: number; body: Buffer }

export interface HttpClientOptions { timeoutMs?: number; maxBodyBytes?: number }

export class HttpClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 2 });
  private readonly timeoutMs: number;
  private readonly maxBody: number;
  constructor(o: HttpClientOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.maxBody = o.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  /**
   * One request. A kept-alive connection the server closed meanwhile fails at once with a reset:
   * that request is sent again once on a new connection (every call the agent makes is idempotent).
   */
  async request(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<HttpResponse> {
    try { return await this.once(method, url, headers, body); } catch (e) {
      if ((e as { staleSocket?: boolean }).staleSocket) return this.once(method, url, headers, body);
      throw e;
    }
  }

  private once(method: string, url: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    let u: URL;
    try { u = new URL(url); } catch { return Promise.reject(new OstreeError('EINVAL', `invalid URL ${url}`)); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new OstreeError('EINVAL', `unsupported URL scheme in ${url}`));
    const mod = u.protocol === 'https:' ? https : http;
    const agent = u.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    return new Promise((resolve, reject) => {
      const req = mod.request(u, { method, agent, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBody) { req.destroy(new OstreeError('EIO', `${method} ${url}: response larger than ${this.maxBody} bytes`)); return; }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new OstreeError('EIO', `${method} ${url}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => {
        if (e instanceof OstreeError) { reject(e); return; }
        const err = new OstreeError('EIO', `${method} ${url}: ${(e as Error).message}`, { cause: e });
        if (req.reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET') Object.assign(err, { staleSocket: true });
        reject(err);
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
