/**
 * The idle daemon's resident memory (issue 17: at most 60 MB; Node 20 alone is about 39 MB).
 * The real `ostree-agent agent` process, as the service starts it (NODE_OPTIONS from
 * boot/systemd/ostree-agent.service), on a sysroot booted by emulation, against nginx serving a
 * graph with nothing newer and the FleetLock server over etcd (strategy periodic AND
 * fleet_lock, so every idle code path runs: graph, window, bad-release list, steady state).
 * After IDLE_CYCLES cycles one second apart, VmRSS from /proc must be at most the target; the
 * figure is printed for the record.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpfsScratch, ours, ok, commitTree, makeTree, type Scratch } from '../common/sysroot-helpers.js';
import { deployedFromRemote, Etcd, Nginx } from './servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const AGENT = path.resolve(here, '../../src/cli-agent/main.js');
const SERVICE = path.resolve(here, '../../../boot/systemd/ostree-agent.service');
const TARGET_KB = 60 * 1024;
const IDLE_CYCLES = 8;

let scratch: Scratch;
let nginx: Nginx;
let etcd: Etcd;
let lockServer: ChildProcess;
let W = '';
let dep = '';
let lockUrl = '';

/** The NODE_OPTIONS the unit gives the daemon (Environment=NODE_OPTIONS=...), or ''. */
function serviceNodeOptions(): string {
  const m = /^Environment=NODE_OPTIONS=(.*)$/m.exec(fs.readFileSync(SERVICE, 'utf8'));
  return m ? m[1]!.replace(/^"|"$/g, '') : '';
}

before(async () => {
  scratch = tmpfsScratch('ostree-agent-rss-');
  W = scratch.dir;
  const archive = path.join(W, 'www/repo');
  ok(ours(['init', '--mode=archive', `--repo=${archive}`]));
  const tree = makeTree(path.join(W, 'tree'));
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  fs.mkdirSync(path.join(tree, 'var'));
  const c1 = await commitTree(archive, tree, 'testos/stable', '1');
  ok(ours(['summary', '-u', `--repo=${archive}`]));
  nginx = await Nginx.start(path.join(W, 'www'));
  etcd = await Etcd.start();
  const phys = deployedFromRemote(W, `${nginx.url}/repo`);
  dep = path.join(phys, `ostree/deploy/testos/deploy/${c1}.0`);
  fs.mkdirSync(path.join(W, 'www/graph/v1'), { recursive: true });
  fs.writeFileSync(path.join(W, 'www/graph/v1/graph'), JSON.stringify({ nodes: [{ version: '1', payload: c1, metadata: { 'org.fedoraproject.coreos.scheme': 'checksum' } }], edges: [] }));
  fs.writeFileSync(path.join(W, 'lock.toml'), `[service]\naddress = "127.0.0.1"\nport = 0\n[etcd3]\nendpoints = ["${etcd.endpoint}"]\n[lock]\ndefault_slots = 1\n`);
  lockServer = spawn(process.execPath, [AGENT, 'fleetlock-server', '--config', path.join(W, 'lock.toml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => lockServer.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  lockUrl = `http://127.0.0.1:${(JSON.parse(line) as { service: number }).service}`;
  fs.mkdirSync(path.join(W, 'root/etc/ostree-agent/config.d'), { recursive: true });
  fs.writeFileSync(path.join(W, 'root/etc/ostree-agent/config.d/50-test.toml'), `[agent]\ntiming.steady_interval_secs = 1
[identity]\nnode_uuid = "${'ab'.repeat(16)}"\n[cincinnati]\nbase_url = "${nginx.url}/graph"
[updates]\nstrategy = ["periodic", "fleet_lock"]\n[updates.fleet_lock]\nbase_url = "${lockUrl}"
[updates.periodic]\ntime_zone = "UTC"\n[[updates.periodic.window]]\ndays = ["Mon"]\nstart_time = "03:00"\nlength_minutes = 60\n`);
  fs.mkdirSync(path.join(W, 'run'));
  fs.writeFileSync(path.join(W, 'run/ostree-booted'), '');
});

after(async () => {
  lockServer?.kill('SIGTERM');
  await nginx?.stop();
  await etcd?.stop();
  scratch?.cleanup();
});

test(`agent: the idle daemon stays at most ${TARGET_KB / 1024} MB resident after ${IDLE_CYCLES} cycles`, async () => {
  // OSTREE_AGENT_RSS_NODE_OPTIONS: try other options than the unit's (measurements only)
  const nodeOptions = process.env['OSTREE_AGENT_RSS_NODE_OPTIONS'] ?? serviceNodeOptions();
  const env = { ...process.env, NODE_OPTIONS: nodeOptions, OSTREE_TS_RUN_DIR: path.join(W, 'run'), OSTREE_TS_ROOT_DIR: dep, OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };
  const d = spawn(process.execPath, [AGENT, '--root', path.join(W, 'root'), '--state-dir', path.join(W, 'state'), '--sysroot', dep, 'agent'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  d.stderr!.on('data', (x: Buffer) => { log += x.toString(); });
  const cycles = (): number => (log.match(/ cycle: /g) ?? []).length;
  try {
    for (let i = 0; i < 1800 && cycles() < IDLE_CYCLES && d.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(cycles() >= IDLE_CYCLES, `${IDLE_CYCLES} cycles; daemon log:\n${log}`);
    assert.match(log, / cycle: no-update\n/, log);
    assert.doesNotMatch(log, /error/i, log);
    const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]);
    const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]);
    if (process.env['OSTREE_AGENT_RSS_SMAPS']) fs.writeFileSync(process.env["OSTREE_AGENT_RSS_SMAPS"], fs.readFileSync(`/proc/${d.pid}/smaps`));
    // CPU of the cycles run in child processes (reaped ones: utime+stime of the children, in ticks)
    const stat = fs.readFileSync(`/proc/${d.pid}/stat`, 'utf8');
    const st = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const childMs = (Number(st[13]) + Number(st[14])) * 10;
    process.stdout.write(`# idle ostree-agent: VmRSS ${(kb / 1024).toFixed(1)} MB, peak ${(hwm / 1024).toFixed(1)} MB after ${cycles()} cycles; ` +
      `cycles' child processes: ${childMs} ms CPU, ${(childMs / cycles()).toFixed(0)} ms per cycle (NODE_OPTIONS=${JSON.stringify(nodeOptions)})\n`);
    assert.ok(kb <= TARGET_KB, `idle RSS ${(kb / 1024).toFixed(1)} MB > ${TARGET_KB / 1024} MB`);
  } finally {
    d.kill('SIGTERM');
  }
});
