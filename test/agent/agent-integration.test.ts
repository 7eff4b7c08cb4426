/**
 * The agent end to end on this machine: a real sysroot booted by emulation (OSTREE_TS_RUN_DIR /
 * OSTREE_TS_ROOT_DIR, as test/sysroot/booted.test.ts), nginx serving the archive repository and
 * the graph, etcd behind `ostree-agent fleetlock-server`, and the `ostree-agent` CLI. Reboots
 * are emulated: the reboot command touches a file, then the test finalizes as the shutdown
 * would and "boots" with a fresh /run into the new (or, for a rollback, the old) deployment.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpfsScratch, ours, ok, commitTree, makeTree, type Scratch } from '../common/sysroot-helpers.js';
import { FleetLockClient } from '../../src/agent/fleetlock/client.js';
import { HttpClient } from '../../src/agent/http.js';
import { deployedFromRemote, Etcd, Nginx } from './servers.js';

const AGENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli-agent/main.js');
const APT_OSTREE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli-apt-ostree/main.js');
const UUID = '0123456789abcdef0123456789abcdef';
let scratch: Scratch;
let etcd: Etcd;
let nginx: Nginx;
let lockServer: ChildProcess;
let lockUrl = '';
let statusUrl = '';
const http = new HttpClient({ timeoutMs: 10_000 });

interface Boot { env: Record<string, string>; run: string; dep: string }
let W = '';
let phys = '';
let archive = '';
let tree = '';
const commits: string[] = [];

function newBoot(name: string, csum: string): Boot {
  const run = path.join(W, name);
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'ostree-booted'), '');
  const dep = path.join(phys, `ostree/deploy/testos/deploy/${csum}.0`);
  assert.ok(fs.existsSync(dep), `deployment ${dep}`);
  return { run, dep, env: { OSTREE_TS_RUN_DIR: run, OSTREE_TS_ROOT_DIR: dep, OSTREE_SYSROOT_DEBUG: 'mutable-deployments', OSTREE_AGENT_REBOOT_COMMAND: JSON.stringify(['touch', path.join(W, 'rebooted')]) } };
}

function agent(b: Boot, verb = 'check'): { phase: string; waitingFor: string | null; target: { version: string } | null; events: string[]; skipped: Array<{ version: string; why: string }>; deadend: string | null; error: string | null } {
  const r = spawnSync(process.execPath, [AGENT, '--root', path.join(W, 'root'), '--state-dir', path.join(W, 'state'), '--sysroot', b.dep, verb, '--json'],
    { encoding: 'utf8', env: { ...process.env, ...b.env }, timeout: 120_000 });
  try { return JSON.parse(r.stdout); } catch { throw new Error(`agent ${verb}: exit ${r.status}: ${r.stderr}${r.stdout}`); }
}

function writeGraph(nodes: Array<{ v: string; c: string; md?: Record<string, string> }>, edges: Array<[number, number]>): void {
  const g = { nodes: nodes.map((n, i) => ({ version: n.v, payload: n.c, metadata: { 'org.fedoraproject.coreos.scheme': 'checksum', 'org.fedoraproject.coreos.releases.age_index': String(i), ...n.md } })), edges };
  fs.mkdirSync(path.join(W, 'www/graph/v1'), { recursive: true });
  fs.writeFileSync(path.join(W, 'www/graph/v1/graph.tmp'), JSON.stringify(g));
  fs.renameSync(path.join(W, 'www/graph/v1/graph.tmp'), path.join(W, 'www/graph/v1/graph'));
}

async function release(version: string): Promise<string> {
  fs.writeFileSync(path.join(tree, 'usr/lib/release'), `${version}\n`);
  const c = await commitTree(archive, tree, 'testos/stable', version);
  ok(ours(['summary', '-u', `--repo=${archive}`]));
  commits.push(c);
  return c;
}

async function holders(): Promise<string[]> {
  const st = JSON.parse((await http.request('GET', statusUrl)).body.toString());
  return st.groups.flatMap((g: { holders: Array<{ id: string }> }) => g.holders.map((h) => h.id));
}

before(async () => {
  scratch = tmpfsScratch('ostree-agent-it-');
  W = scratch.dir;
  archive = path.join(W, 'www/repo');
  ok(ours(['init', '--mode=archive', `--repo=${archive}`]));
  tree = makeTree(path.join(W, 'tree'));
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  fs.mkdirSync(path.join(tree, 'var'));
  nginx = await Nginx.start(path.join(W, 'www'));
  etcd = await Etcd.start();
  const c1 = await release('1');
  phys = deployedFromRemote(W, `${nginx.url}/repo`);
  assert.equal(commits[0], c1);
  fs.writeFileSync(path.join(W, 'lock.toml'), `[service]\naddress = "127.0.0.1"\nport = 0\n[status]\nenabled = true\naddress = "127.0.0.1"\nport = 0\n[etcd3]\nendpoints = ["${etcd.endpoint}"]\ntransaction_timeout_ms = 1500\n[lock]\ndefault_slots = 1\n`);
  lockServer = spawn(process.execPath, [AGENT, 'fleetlock-server', '--config', path.join(W, 'lock.toml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => lockServer.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  const ports = JSON.parse(line) as { service: number; status: number };
  lockUrl = `http://127.0.0.1:${ports.service}`;
  statusUrl = `http://127.0.0.1:${ports.status}/v1/status`;
  fs.mkdirSync(path.join(W, 'root/etc/ostree-agent/config.d'), { recursive: true });
  fs.writeFileSync(path.join(W, 'root/etc/ostree-agent/config.d/50-test.toml'),
    `[identity]\nnode_uuid = "${UUID}"\nrollout_wariness = 0.5\n[cincinnati]\nbase_url = "${nginx.url}/graph"\n[updates]\nstrategy = "fleet_lock"\n[updates.fleet_lock]\nbase_url = "${lockUrl}"\n`);
});

after(async () => {
  http.close();
  lockServer?.kill('SIGTERM');
  await nginx?.stop();
  await etcd?.stop();
  scratch?.cleanup();
});

test('agent: stage with etcd down (no reboot), sessions hold it back, reboot with a slot, steady state after a good boot', async () => {
  const c2 = await release('2');
  writeGraph([{ v: '1', c: commits[0]! }, { v: '2', c: c2 }], [[0, 1]]);
  const b1 = newBoot('run1', commits[0]!);
  const adminStatus = (b: Boot): string => ok(ours(['admin', 'status', `--sysroot=${b.dep}`], b.env)).stdout;
  assert.doesNotMatch(adminStatus(b1), /AutomaticUpdatesDriver/, 'no agent run since boot: upstream\'s output');
  await etcd.stop();
  let r = agent(b1);
  assert.equal(r.phase, 'staged', JSON.stringify(r));
  assert.match(r.waitingFor!, /reboot slot .*store_unavailable/);
  // admin status says what the agent waits for (no daemon here: `check` ran it, so inactive)
  assert.match(adminStatus(b1), /^AutomaticUpdatesDriver: ostree-agent\n {2}DriverState: inactive; update 2 staged; waiting for a reboot slot \(.*store_unavailable.*\) \(last checked \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\n {2}testos \S+ \(staged\)\n/);
  assert.doesNotMatch(ours(['admin', 'status', `--sysroot=${phys}`]).stdout, /AutomaticUpdatesDriver/, 'a sysroot that is not the running system: nothing');
  // apt-ostree status: in place of rpm-ostree's `AutomaticUpdates: disabled`, as it shows Zincati
  const apt = spawnSync(process.execPath, [APT_OSTREE, 'status'], { encoding: 'utf8', env: { ...process.env, ...b1.env, OSTREE_SYSROOT: b1.dep } });
  assert.match(apt.stdout, /^State: idle\nAutomaticUpdatesDriver: ostree-agent\n {2}DriverState: inactive; update 2 staged; waiting for a reboot slot .*\nDeployments:\n/, apt.stderr + apt.stdout);
  assert.ok(fs.existsSync(path.join(b1.run, 'ostree/staged-deployment')));
  assert.ok(fs.existsSync(path.join(b1.run, 'ostree/staged-deployment-locked')));
  assert.ok(!fs.existsSync(path.join(W, 'rebooted')), 'no reboot without a slot');
  await etcd.start();
  fs.mkdirSync(path.join(b1.run, 'systemd/sessions'), { recursive: true });
  fs.writeFileSync(path.join(b1.run, 'systemd/sessions/3'), 'UID=1000\nUSER=someone\nACTIVE=1\nSTATE=active\nCLASS=user\n');
  r = agent(b1);
  assert.equal(r.phase, 'staged');
  assert.match(r.waitingFor!, /1 login session to end/);
  assert.deepEqual(await holders(), [], 'no slot taken while waiting for sessions');
  fs.rmSync(path.join(b1.run, 'systemd/sessions/3'));
  r = agent(b1);
  assert.equal(r.phase, 'rebooting', JSON.stringify(r));
  assert.ok(fs.existsSync(path.join(W, 'rebooted')));
  assert.ok(!fs.existsSync(path.join(b1.run, 'ostree/staged-deployment-locked')), 'finalization unlocked');
  assert.deepEqual(await holders(), [UUID]);
  // again before the reboot happened: waits for it, nothing else
  assert.match(agent(b1).waitingFor!, /the reboot into 2/);
  // shutdown: finalize; boot into the new deployment
  ok(ours(['admin', 'finalize-staged', `--sysroot=${b1.dep}`], b1.env));
  fs.rmSync(path.join(W, 'rebooted'));
  const b2 = newBoot('run2', c2);
  r = agent(b2);
  assert.equal(r.phase, 'no-update', JSON.stringify(r));
  assert.ok(r.events.some((e) => /2 booted and passed its health checks/.test(e)));
  assert.ok(r.events.includes('reported steady state'));
  assert.deepEqual(await holders(), []);
  const st = spawnSync(process.execPath, [AGENT, '--root', path.join(W, 'root'), '--state-dir', path.join(W, 'state'), 'status'], { encoding: 'utf8' });
  assert.match(st.stdout, /strategy: fleet_lock\nlast cycle: .*\nphase: no-update\n/);
});

test('agent: a release the fleet marked bad is refused; a dead end is reported', async () => {
  const c2 = commits[1]!;
  const c3 = await release('3');
  writeGraph([{ v: '1', c: commits[0]! }, { v: '2', c: c2 }, { v: '3', c: c3 }], [[0, 1], [1, 2]]);
  await new FleetLockClient(http, lockUrl, { id: 'another-node', group: 'default' }).reportBad({ version: '3', payload: c3 }, 'health check failed');
  const b = newBoot('run3', c2);
  let r = agent(b);
  assert.equal(r.phase, 'no-update', JSON.stringify(r));
  assert.deepEqual(r.skipped, [{ version: '3', why: 'denied (bad release or rolled back here)' }]);
  assert.ok(!fs.existsSync(path.join(b.run, 'ostree/staged-deployment')));
  const c4 = await release('4');
  writeGraph([{ v: '1', c: commits[0]! }, { v: '2', c: c2, md: { 'org.fedoraproject.coreos.updates.deadend': 'true', 'org.fedoraproject.coreos.updates.deadend_reason': 'needs a manual migration' } }, { v: '4', c: c4 }], [[0, 1], [1, 2]]);
  r = agent(b);
  assert.equal(r.phase, 'no-update');
  assert.equal(r.deadend, 'needs a manual migration');
  assert.equal(r.target, null);
});

test('agent: a release rolled back on this node is denied here and reported bad to the fleet', async () => {
  const c2 = commits[1]!;
  const c5 = await release('5');
  writeGraph([{ v: '1', c: commits[0]! }, { v: '2', c: c2 }, { v: '5', c: c5 }], [[0, 1], [1, 2]]);
  const b = newBoot('run4', c2);
  let r = agent(b);
  assert.equal(r.phase, 'rebooting', JSON.stringify(r));
  // the new deployment never comes up: the machine boots the old one again (fresh /run, nothing finalized)
  const back = newBoot('run5', c2);
  r = agent(back);
  assert.ok(r.events.some((e) => /5 was rolled back/.test(e)), JSON.stringify(r));
  assert.ok(r.events.includes('reported 5 bad to the fleet'));
  assert.equal(r.phase, 'no-update');
  assert.deepEqual(r.skipped, [{ version: '5', why: 'denied (bad release or rolled back here)' }]);
  const bad = await new FleetLockClient(http, lockUrl, { id: 'x', group: 'default' }).badReleases();
  assert.ok(bad.some((x) => x.payload === c5 && /rolled back/.test(x.reason)));
  assert.deepEqual(await holders(), [], 'the slot is given back once up again');
  const state = JSON.parse(fs.readFileSync(path.join(W, 'state/state.json'), 'utf8'));
  assert.match(state.denylist[c5].reason, /rolled back on this node/);
});

test('agent: the daemon runs a cycle at start, another on SIGUSR1, and stops on SIGTERM', async () => {
  const b = newBoot('run6', commits[1]!);
  const statusFile = path.join(W, 'state/status.json');
  const lastTime = (): string => { try { return JSON.parse(fs.readFileSync(statusFile, 'utf8')).time; } catch { return ''; } };
  const before = lastTime();
  const d = spawn(process.execPath, [AGENT, '--root', path.join(W, 'root'), '--state-dir', path.join(W, 'state'), '--sysroot', b.dep, 'agent'],
    { env: { ...process.env, ...b.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  d.stderr!.on('data', (x: Buffer) => { log += x.toString(); });
  const waitFor = async (f: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 600 && !f(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(f(), `${what}; daemon log:\n${log}`);
  };
  try {
    await waitFor(() => lastTime() !== before && /cycle: /.test(log), 'first cycle');
    const first = lastTime();
    const st = ok(ours(['admin', 'status', `--sysroot=${b.dep}`], b.env)).stdout;
    assert.match(st, /^AutomaticUpdatesDriver: ostree-agent\n {2}DriverState: active; periodically polling for updates \(last checked /, st);
    await new Promise((r) => setTimeout(r, 20));
    d.kill('SIGUSR1');
    await waitFor(() => lastTime() !== first, 'cycle on SIGUSR1');
    assert.equal((log.match(/cycle: /g) ?? []).length, 2);
  } finally {
    d.kill('SIGTERM');
  }
  const code = await new Promise<number | null>((r) => d.once('exit', (c) => r(c)));
  assert.equal(code, 0);
  assert.match(ok(ours(['admin', 'status', `--sysroot=${b.dep}`], b.env)).stdout, /^ {2}DriverState: inactive; periodically polling/m, 'the daemon stopped');
});
