/** The FleetLock protocol against our server over a real etcd (started on loopback). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdLockStore } from '../../src/agent/fleetlock/etcd-store.js';
import { FleetLockServer } from '../../src/agent/fleetlock/server.js';
import { FleetLockClient } from '../../src/agent/fleetlock/client.js';
import { FleetLockError } from '../../src/agent/fleetlock/protocol.js';
import { parseServerConfig } from '../../src/agent/fleetlock/server-config.js';
import { HttpClient } from '../../src/agent/http.js';
import { Etcd } from './servers.js';

let etcd: Etcd;
let server: FleetLockServer;
let base = '';
let statusUrl = '';
const http = new HttpClient({ timeoutMs: 10_000 });
const client = (id: string, group = 'workers') => new FleetLockClient(http, base, { id, group });
const refused = (kind: string, status?: number) => (e: unknown) => e instanceof FleetLockError && e.kind === kind && (status === undefined || e.status === status);

before(async () => {
  etcd = await Etcd.start();
  const cfg = parseServerConfig(`
[service]
address = "127.0.0.1"
port = 0
[status]
enabled = true
address = "127.0.0.1"
port = 0
[etcd3]
endpoints = ["${etcd.endpoint}"]
transaction_timeout_ms = 1500
[lock]
default_group_name = "default"
default_slots = 1
holder_lease_secs = 600
[[lock.groups]]
name = "workers"
slots = 2
[[lock.groups]]
name = "short"
slots = 1
`, 'test.toml');
  server = new FleetLockServer({ store: new EtcdLockStore(cfg.etcd), groups: cfg.groups, holderLeaseSecs: cfg.holderLeaseSecs });
  const b = await server.start(cfg.service, cfg.status);
  base = `http://127.0.0.1:${b.service.port}`;
  statusUrl = `http://127.0.0.1:${b.status!.port}/v1/status`;
});
after(async () => { http.close(); await server.stop(); await etcd.stop(); });

test('fleetlock: the header and identity are required; unknown groups refused', async () => {
  const r = await http.request('POST', `${base}/v1/pre-reboot`, {}, JSON.stringify({ client_params: { id: 'a', group: 'workers' } }));
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body.toString()).kind, 'invalid_client_identity');
  const r2 = await http.request('POST', `${base}/v1/pre-reboot`, { 'fleet-lock-protocol': 'true' }, JSON.stringify({ client_params: { id: '', group: 'workers' } }));
  assert.equal(JSON.parse(r2.body.toString()).value, 'empty client ID');
  await assert.rejects(client('a', 'nosuch').preReboot(), refused('unknown_group', 400));
});

test('fleetlock: slots per group, idempotent lock and unlock, admin view', async () => {
  await client('n1').preReboot();
  await client('n2').preReboot();
  await client('n1').preReboot(); // already held: granted again
  await assert.rejects(client('n3').preReboot(), refused('failed_lock', 409));
  await client('n1').steadyState();
  await client('n1').steadyState(); // nothing held: still fine
  await client('n3').preReboot();
  const st = JSON.parse((await http.request('GET', statusUrl)).body.toString());
  const workers = st.groups.find((g: { name: string }) => g.name === 'workers');
  assert.deepEqual(workers.holders.map((h: { id: string }) => h.id), ['n2', 'n3']);
  assert.ok(workers.holders.every((h: { ttlSecs: number }) => h.ttlSecs > 500 && h.ttlSecs <= 600));
  // the default group is separate, with its one slot
  await client('d1', 'default').preReboot();
  await assert.rejects(client('d2', 'default').preReboot(), refused('failed_lock'));
  await client('n2').steadyState(); await client('n3').steadyState(); await client('d1', 'default').steadyState();
});

test('fleetlock: concurrent requests never hand out more slots than the group has', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const results = await Promise.allSettled(ids.map((id) => client(id).preReboot()));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
  for (const id of ids) await client(id).steadyState();
});

test('fleetlock: a holder that never reports back loses its slot when its lease expires', async () => {
  const store = new EtcdLockStore({ endpoints: [etcd.endpoint], txnTimeoutMs: 2000, caCertPath: null, clientCertPath: null, clientKeyPath: null, username: null, password: null, prefix: '/ostree-agent/fleetlock/' });
  try {
    assert.deepEqual(await store.lock('short', 'dies', 1, 2), { granted: true, already: false });
    await assert.rejects(client('next', 'short').preReboot(), refused('failed_lock'));
    const t0 = Date.now();
    for (;;) {
      try { await client('next', 'short').preReboot(); break; } catch (e) {
        if (Date.now() - t0 > 15_000) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await client('next', 'short').steadyState();
  } finally { await store.close(); }
});

test('fleetlock: bad releases are recorded once and listed', async () => {
  const payload = 'ab'.repeat(32);
  await client('n1').reportBad({ version: '2.0', payload }, 'health check failed');
  await client('n2').reportBad({ version: '2.0', payload }, 'again');
  const list = await client('n9').badReleases();
  assert.equal(list.length, 1);
  assert.equal(list[0]!.reporter, 'n1');
  assert.equal(list[0]!.reason, 'health check failed');
  await assert.rejects(client('n1').reportBad({ version: '2.0', payload: 'zz' }, 'x'), refused('invalid_release', 400));
});

test('fleetlock: with etcd down no slot is granted (503), and service resumes when it is back', async () => {
  await etcd.stop();
  try {
    await assert.rejects(client('n1').preReboot(), refused('store_unavailable', 503));
  } finally { await etcd.start(); }
  await client('n1').preReboot();
  await client('n1').steadyState();
});

test('fleetlock: server configuration errors name the key', () => {
  assert.throws(() => parseServerConfig('[etcd3]\nendpoints = []\n', 'a.toml'), /a.toml: key etcd3.endpoints/);
  assert.throws(() => parseServerConfig('[service]\ntls = true\n[etcd3]\nendpoints = ["http://x:1"]\n', 'b.toml'), /service.tls/);
  assert.throws(() => parseServerConfig('[etcd3]\nendpoints = ["http://x:1"]\n[[lock.groups]]\nname = "a b"\n', 'c.toml'), /lock.groups\[0\].name/);
  const c = parseServerConfig('[etcd3]\nendpoints = ["http://x:1"]\n', 'd.toml');
  assert.deepEqual([...c.groups], [['default', 1]]);
  assert.equal(c.service.port, 9090);
  assert.equal(c.status, null);
});
