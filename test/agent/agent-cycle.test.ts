/**
 * The agent's cycle on a directory sysroot (the simulation's host) against real nginx and etcd:
 * strategies that compose (window AND slot), update-now, a red health verdict, pinning.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { UpdateAgent } from '../../src/agent/agent.js';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/config.js';
import { DirHost } from '../../src/agent/hosts/dir-host.js';
import { HttpClient } from '../../src/agent/http.js';
import { StateFile } from '../../src/agent/state.js';
import { EtcdLockStore } from '../../src/agent/fleetlock/etcd-store.js';
import { FleetLockServer } from '../../src/agent/fleetlock/server.js';
import { parseWindowSpec } from '../../src/agent/schedule/weekly.js';
import { CLI } from '../common/sysroot-helpers.js';
import { tempDir } from '../common/tmp.js';
import { Etcd, Nginx } from './servers.js';

let etcd: Etcd; let nginx: Nginx; let server: FleetLockServer; let store: EtcdLockStore;
let lockUrl = ''; let W = '';
const payloads: string[] = [];
const http = new HttpClient();

before(async () => {
  W = tempDir('agent-cycle-');
  const repo = path.join(W, 'www/repo');
  const cli = (args: string[]) => { const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }); assert.equal(r.status, 0, r.stderr); return r.stdout.trim(); };
  cli(['init', '--mode=archive', `--repo=${repo}`]);
  for (const v of ['1', '2', '3']) {
    fs.mkdirSync(path.join(W, 'tree'), { recursive: true });
    fs.writeFileSync(path.join(W, 'tree/v'), v);
    payloads.push(cli(['commit', `--repo=${repo}`, '-b', 'os/stable', `--tree=dir=${path.join(W, 'tree')}`, '-s', v]));
  }
  fs.mkdirSync(path.join(W, 'www/graph/v1'), { recursive: true });
  fs.writeFileSync(path.join(W, 'www/graph/v1/graph'), JSON.stringify({
    nodes: payloads.map((p, i) => ({ version: String(i + 1), payload: p, metadata: { 'org.fedoraproject.coreos.scheme': 'checksum', 'org.fedoraproject.coreos.releases.age_index': String(i) } })),
    edges: [[0, 1], [0, 2], [1, 2]],
  }));
  nginx = await Nginx.start(path.join(W, 'www'));
  etcd = await Etcd.start();
  store = new EtcdLockStore({ endpoints: [etcd.endpoint], txnTimeoutMs: 2000, caCertPath: null, clientCertPath: null, clientKeyPath: null, username: null, password: null, prefix: '/t/' });
  server = new FleetLockServer({ store, groups: new Map([['default', 1]]), holderLeaseSecs: 600 });
  lockUrl = `http://127.0.0.1:${(await server.start({ address: '127.0.0.1', port: 0 }, null)).service.port}`;
});
after(async () => { http.close(); await server.stop(); await nginx.stop(); await etcd.stop(); });

function node(name: string, tweak: (c: AgentConfig) => void) {
  const c = defaultConfig();
  c.nodeUuid = name.padStart(32, '0'); c.cincinnatiBaseUrl = `${nginx.url}/graph`; c.fleetLockBaseUrl = lockUrl;
  tweak(c);
  const reboots: string[] = [];
  const host = new DirHost({ dir: path.join(W, name, 'sysroot'), http, repoUrl: `${nginx.url}/repo`, onReboot: (_h, t) => { reboots.push(t); } });
  host.init(payloads[0]!);
  const agent = new UpdateAgent({ config: c, identity: { nodeUuid: c.nodeUuid, group: 'default', wariness: 0.5 }, host, state: new StateFile(path.join(W, name, 'state')), http });
  return { host, agent, reboots };
}

const MONDAY_NOON = new Date('2026-12-07T12:00:00Z');
const SATURDAY_2330 = new Date('2026-12-12T23:30:00Z');

test('cycle: periodic AND fleet_lock: outside the window the update is staged and no slot taken; inside, slot then reboot', async () => {
  const n = node('a', (c) => { c.strategies = ['periodic', 'fleet_lock']; c.windows = [parseWindowSpec({ days: ['Sat'], start_time: '23:00', length_minutes: 120 })]; });
  let r = await n.agent.cycle({ now: MONDAY_NOON });
  assert.equal(r.phase, 'staged');
  assert.equal(r.target?.version, '3');
  assert.match(r.waitingFor!, /next update window \(2026-12-12T23:00:00.000Z\)/);
  assert.deepEqual(await store.holders('default'), []);
  assert.ok(fs.existsSync(path.join(n.host.dir, `ostree/repo/objects/${payloads[2]!.slice(0, 2)}/${payloads[2]!.slice(2)}.commit`)));
  r = await n.agent.cycle({ now: SATURDAY_2330 });
  assert.equal(r.phase, 'rebooting');
  assert.deepEqual(n.reboots, [payloads[2]]);
  assert.deepEqual((await store.holders('default')).map((h) => h.id), ['a'.padStart(32, '0')]);
  // another node with the one slot taken: waits for it, even inside its window
  const b = node('b', (c) => { c.strategies = ['fleet_lock']; });
  r = await b.agent.cycle({ now: SATURDAY_2330 });
  assert.equal(r.phase, 'staged');
  assert.match(r.waitingFor!, /reboot slot \(failed_lock/);
  // a boots 3 with a green verdict: steady state frees the slot, then b gets it
  n.host.boot(payloads[2]!, 'green');
  r = await n.agent.cycle({ now: SATURDAY_2330 });
  assert.equal(r.phase, 'no-update');
  assert.ok(r.events.includes('reported steady state'));
  assert.equal((await b.agent.cycle({ now: SATURDAY_2330 })).phase, 'rebooting');
  b.host.boot(payloads[2]!, 'green');
  await b.agent.cycle({ now: SATURDAY_2330 });
});

test('cycle: update-now ignores the window; a red verdict denies and reports the release; pinning caps the choice', async () => {
  const n = node('c', (c) => { c.strategies = ['periodic']; c.windows = [parseWindowSpec({ days: ['Sun'], start_time: '01:00', length_minutes: 10 })]; c.fleetLockBaseUrl = lockUrl; });
  assert.equal((await n.agent.cycle({ now: MONDAY_NOON })).phase, 'staged');
  assert.equal((await n.agent.cycle({ now: MONDAY_NOON, updateNow: true })).phase, 'rebooting');
  n.host.boot(payloads[2]!, 'red', 'required check 10-db.sh failed');
  let r = await n.agent.cycle({ now: MONDAY_NOON });
  assert.equal(r.phase, 'awaiting-verdict');
  assert.match(r.waitingFor!, /rollback from 3/);
  assert.deepEqual(r.denylist, ['3']);
  const bad = await store.badReleases();
  assert.ok(bad.some((b) => b.payload === payloads[2] && b.reason === 'required check 10-db.sh failed'));
  n.host.boot(payloads[0]!, null); // the boot counter's rollback
  r = await n.agent.cycle({ now: MONDAY_NOON });
  assert.equal(r.target?.version, '2'); // 3 is denied: the next best
  // a pinned node never goes past its pin, and a fresh node refuses the fleet's bad release
  const p = node('d', (c) => { c.maxRelease = '2'; });
  assert.equal((await p.agent.cycle({ now: MONDAY_NOON })).target?.version, '2');
  const f = node('e', () => undefined);
  const rf = await f.agent.cycle({ now: MONDAY_NOON });
  assert.equal(rf.target?.version, '2');
  assert.ok(rf.skipped.some((s) => s.version === '3' && /denied/.test(s.why)));
});
