/** The agent's FleetLock client (protocol.ts). */
import type { HttpClient } from '../http.js';
import { OstreeError } from '../../errors.js';
import { FleetLockError, PATHS, PROTOCOL_HEADER, type BadRelease, type ClientParams } from './protocol.js';

export class FleetLockClient {
  constructor(private readonly http: HttpClient, private readonly baseUrl: string, private readonly params: ClientParams) {}

  private url(p: string): string { return this.baseUrl.replace(/\/+$/, '') + p; }

  private async post(p: string, extra: Record<string, unknown> = {}): Promise<void> {
    const body = JSON.stringify({ client_params: this.params, ...extra });
    const r = await this.http.request('POST', this.url(p), { [PROTOCOL_HEADER]: 'true' }, body);
    if (r.status === 200) return;
    let kind = `generic_http_${r.status}`; let value = r.body.toString('utf8').slice(0, 512).trim();
    try {
      const e = JSON.parse(r.body.toString('utf8')) as { kind?: unknown; value?: unknown };
      if (typeof e.kind === 'string') kind = e.kind;
      if (typeof e.value === 'string') value = e.value;
    } catch { /* not a protocol error body */ }
    throw new FleetLockError(r.status, kind, value);
  }

  /** Take a reboot slot (throws FleetLockError when none is free, OstreeError EIO when unreachable). */
  preReboot(): Promise<void> { return this.post(PATHS.preReboot); }
  /** Give the slot back (a no-op when this node holds none). */
  steadyState(): Promise<void> { return this.post(PATHS.steadyState); }
  reportBad(release: { version: string; payload: string }, reason: string): Promise<void> {
    return this.post(PATHS.reportBad, { release, reason });
  }

  async badReleases(): Promise<BadRelease[]> {
    const r = await this.http.request('GET', this.url(PATHS.badReleases), { [PROTOCOL_HEADER]: 'true' });
    if (r.status !== 200) throw new FleetLockError(r.status, `generic_http_${r.status}`, 'cannot list bad releases');
    try {
      const v = JSON.parse(r.body.toString('utf8')) as { releases?: BadRelease[] };
      if (!Array.isArray(v.releases)) throw new Error('no "releases" array');
      return v.releases.filter((x) => typeof x?.payload === 'string');
    } catch (e) {
      throw new OstreeError('ECORRUPT', `fleet lock: invalid bad-release list: ${(e as Error).message}`);
    }
  }
}
