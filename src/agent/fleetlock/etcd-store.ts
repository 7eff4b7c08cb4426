/**
 * The FleetLock state in etcd (v3 API, through the `etcd3` npm client over gRPC):
 *
 *   PREFIX/groups/GROUP/holders/ID   {"id","since"}, attached to its own lease: when a holder
 *                                    never reports steady state the lease expires and etcd
 *                                    deletes the key, freeing the slot
 *   PREFIX/groups/GROUP/guard        bumped by every grant; a grant is one transaction that
 *                                    requires the guard unchanged since the holders were
 *                                    counted, so two servers never hand out the same last slot
 *   PREFIX/bad/PAYLOAD               a release reported bad (BadRelease JSON, no lease)
 */
import * as fs from 'node:fs';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import { OstreeError } from '../../errors.js';
import type { BadRelease } from './protocol.js';
import type { Holder, LockOutcome, LockStore } from './store.js';

export interface EtcdSettings {
  endpoints: string[];
  txnTimeoutMs: number;
  caCertPath: string | null;
  clientCertPath: string | null;
  clientKeyPath: string | null;
  username: string | null;
  password: string | null;
  prefix: string;
}

const GRANT_ATTEMPTS = 8;

function etcdOptions(s: EtcdSettings): IOptions {
  const o: IOptions = {
    hosts: s.endpoints,
    dialTimeout: s.txnTimeoutMs,
    // Every call has a deadline: with etcd down the agents are told so, instead of waiting.
    defaultCallOptions: () => ({ deadline: Date.now() + s.txnTimeoutMs }),
    // A member that fails is skipped for a second (not etcd3's default of longer), and a call
    // tries each member at most once: an outage is reported at once and its end noticed soon.
    faultHandling: {
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(1) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: Math.max(0, s.endpoints.length - 1) }),
    },
  };
  if (s.caCertPath || s.clientCertPath) {
    o.credentials = {
      rootCertificate: s.caCertPath ? fs.readFileSync(s.caCertPath) : Buffer.alloc(0),
      ...(s.clientCertPath ? { certChain: fs.readFileSync(s.clientCertPath) } : {}),
      ...(s.clientKeyPath ? { privateKey: fs.readFileSync(s.clientKeyPath) } : {}),
    };
  }
  if (s.username !== null) o.auth = { username: s.username, password: s.password ?? '' };
  return o;
}

function unavailable(e: unknown): OstreeError {
  return new OstreeError('EIO', `etcd: ${(e as Error).message}`, { cause: e });
}

export class EtcdLockStore implements LockStore {
  private readonly client: Etcd3;
  constructor(private readonly s: EtcdSettings) {
    this.client = new Etcd3(etcdOptions(s));
  }

  private holderKey(group: string, id: string): string { return `${this.s.prefix}groups/${group}/holders/${id}`; }
  private holdersPrefix(group: string): string { return `${this.s.prefix}groups/${group}/holders/`; }
  private guardKey(group: string): string { return `${this.s.prefix}groups/${group}/guard`; }

  private async guarded<T>(f: () => Promise<T>): Promise<T> {
    try { return await f(); } catch (e) { throw e instanceof OstreeError ? e : unavailable(e); }
  }

  lock(group: string, id: string, slots: number, leaseSecs: number): Promise<LockOutcome> {
    return this.guarded(async () => {
      for (let attempt = 0; attempt < GRANT_ATTEMPTS; attempt++) {
        const guard = await this.client.get(this.guardKey(group)).exec();
        const held = await this.client.getAll().prefix(this.holdersPrefix(group)).keys();
        const ids = held.map((k) => k.slice(this.holdersPrefix(group).length)).sort();
        if (ids.includes(id)) return { granted: true, already: true };
        if (ids.length >= slots) return { granted: false, holders: ids };
        const lease = await this.client.leaseClient.leaseGrant({ TTL: leaseSecs, ID: 0 });
        const guardKv = guard.kvs[0];
        const cmp = guardKv ? this.client.if(this.guardKey(group), 'Mod', '==', guardKv.mod_revision)
          : this.client.if(this.guardKey(group), 'Version', '==', 0);
        const value = JSON.stringify({ id, since: new Date().toISOString() });
        const r = await cmp.and(this.holderKey(group, id), 'Version', '==', 0)
          .then(this.client.put(this.guardKey(group)).value(String(attempt)), this.client.put(this.holderKey(group, id)).value(value).lease(lease.ID))
          .commit();
        if (r.succeeded) return { granted: true, already: false };
        await this.client.leaseClient.leaseRevoke({ ID: lease.ID }).catch(() => undefined);
      }
      throw new OstreeError('EBUSY', `etcd: group ${group} changed under ${GRANT_ATTEMPTS} attempts to take a slot`);
    });
  }

  unlock(group: string, id: string): Promise<boolean> {
    return this.guarded(async () => {
      const r = await this.client.get(this.holderKey(group, id)).exec();
      const kv = r.kvs[0];
      if (!kv) return false;
      await this.client.delete().key(this.holderKey(group, id)).exec();
      if (kv.lease !== '0') await this.client.leaseClient.leaseRevoke({ ID: kv.lease }).catch(() => undefined);
      return true;
    });
  }

  holders(group: string): Promise<Holder[]> {
    return this.guarded(async () => {
      const r = await this.client.getAll().prefix(this.holdersPrefix(group)).exec();
      const out: Holder[] = [];
      for (const kv of r.kvs) {
        const id = kv.key.toString().slice(this.holdersPrefix(group).length);
        let since = '';
        try { since = String((JSON.parse(kv.value.toString()) as { since?: unknown }).since ?? ''); } catch { /* shown empty */ }
        let ttlSecs: number | null = null;
        if (kv.lease !== '0') {
          try { ttlSecs = Number((await this.client.leaseClient.leaseTimeToLive({ ID: kv.lease, keys: false })).TTL); } catch { /* unknown */ }
        }
        out.push({ id, since, ttlSecs });
      }
      return out.sort((a, b) => a.id.localeCompare(b.id));
    });
  }

  markBad(b: BadRelease): Promise<void> {
    return this.guarded(async () => {
      // The first report stays (when and by whom it was first seen bad); later ones change nothing.
      await this.client.if(`${this.s.prefix}bad/${b.payload}`, 'Version', '==', 0)
        .then(this.client.put(`${this.s.prefix}bad/${b.payload}`).value(JSON.stringify(b))).commit();
    });
  }

  badReleases(): Promise<BadRelease[]> {
    return this.guarded(async () => {
      const all = await this.client.getAll().prefix(`${this.s.prefix}bad/`).strings();
      const out: BadRelease[] = [];
      for (const v of Object.values(all)) {
        try { out.push(JSON.parse(v) as BadRelease); } catch { /* a foreign value: skipped */ }
      }
      return out.sort((a, b) => a.time.localeCompare(b.time));
    });
  }

  async close(): Promise<void> { this.client.close(); }
}
