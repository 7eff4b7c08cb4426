/**
 * The fleet simulation (`make fleet-sim`): N agents (default 1,000) as real UpdateAgent
 * instances in a few worker processes, each with its own HTTP client, state and directory
 * sysroot on tmpfs, against one nginx (graph and archive repository) and one etcd behind the
 * FleetLock server, on a simulated clock. Four releases: 2 (good), 3 (fails its health checks
 * on every node), 4 (good, later); phased rollouts from the graph's metadata. Midway through
 * release 2 some nodes die while rebooting, holding their slots. Prints a table and writes
 * `fleet.svg` (nodes on each release over time) and `fleet.json` to --out.
 *
 * Flags: --nodes N --procs P --groups G --slots S (per group) --hours H --tick-secs T
 *        --lease-secs L (real seconds) --out DIR
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EtcdLockStore } from '../../src/agent/fleetlock/etcd-store.js';
import { FleetLockServer } from '../../src/agent/fleetlock/server.js';
import { Etcd, Nginx } from '../../test/agent/servers.js';
import { svgPlot } from './plot.js';
import type { FromWorker, NodeSpec, SimSetup, TickStats, ToWorker } from './protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../../src/cli/main.js');
const AGENT_CLI = path.resolve(here, '../../src/cli-agent/main.js');

const { values: a } = parseArgs({ options: {
  nodes: { type: 'string', default: '1000' }, procs: { type: 'string', default: '4' }, groups: { type: 'string', default: '4' },
  slots: { type: 'string', default: '20' }, hours: { type: 'string', default: '11' }, 'tick-secs': { type: 'string', default: '300' },
  'lease-secs': { type: 'string', default: '30' }, out: { type: 'string', default: '/var/tmp/ostree-agent-sim' },
} });
const N = Number(a.nodes); const PROCS = Number(a.procs); const GROUPS = Number(a.groups); const SLOTS = Number(a.slots);
const TICK = Number(a['tick-secs']); const TICKS = Math.round((Number(a.hours) * 3600) / TICK); const LEASE = Number(a['lease-secs']);
const OUT = a.out!;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ostree ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const START = Date.UTC(2026, 11, 7, 0, 0, 0); // a Monday, 00:00 UTC
const H = 3600;

function makeReleases(www: string): { versions: Record<string, string>; graph: unknown; payloads: string[] } {
  const repo = path.join(www, 'repo');
  cli(['init', '--mode=archive', `--repo=${repo}`]);
  const tree = path.join(www, '..', 'tree');
  const payloads: string[] = [];
  for (const v of ['1', '2', '3', '4']) {
    fs.mkdirSync(path.join(tree, 'usr/lib'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'usr/lib/os-release'), `ID=simos\nVERSION_ID=${v}\n`);
    payloads.push(cli(['commit', `--repo=${repo}`, '-b', 'simos/stable', `--tree=dir=${tree}`, '-s', `release ${v}`, `--add-metadata-string=version=${v}`]));
  }
  const epoch = (h: number): string => String(Math.floor(START / 1000 + h * H));
  const rollout = (startH: number, mins: number) => ({ 'org.fedoraproject.coreos.updates.rollout': 'true', 'org.fedoraproject.coreos.updates.start_epoch': epoch(startH), 'org.fedoraproject.coreos.updates.start_value': '0', 'org.fedoraproject.coreos.updates.duration_minutes': String(mins) });
  const md = [{}, rollout(0.5, 150), rollout(5, 120), rollout(8, 60)];
  const graph = {
    nodes: payloads.map((p, i) => ({ version: String(i + 1), payload: p, metadata: { 'org.fedoraproject.coreos.scheme': 'checksum', 'org.fedoraproject.coreos.releases.age_index': String(i), ...md[i] } })),
    edges: [[0, 1], [1, 2], [1, 3], [2, 3]],
  };
  return { versions: Object.fromEntries(payloads.map((p, i) => [p, String(i + 1)])), graph, payloads };
}

/** One status line, rewritten in place on a terminal; every 10th on other outputs. */
let lastPlain = 0;
function progress(line: string): void {
  if (process.stderr.isTTY) { process.stderr.write(`\r\x1b[K${line}`); return; }
  if (line && Date.now() - lastPlain > 10_000) { lastPlain = Date.now(); process.stderr.write(`${line}\n`); }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The real daemon (`ostree-agent agent`) idle after its first cycle: its resident memory. */
async function daemonIdleRss(dir: string, graphUrl: string, lockUrl: string): Promise<{ rss: number; log: string }> {
  const root = path.join(dir, 'daemon-root');
  fs.mkdirSync(path.join(root, 'etc/ostree-agent/config.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/ostree-agent/config.d/50.toml'), `[identity]\nnode_uuid = "00000000000000000000000000000001"\n[cincinnati]\nbase_url = "${graphUrl}"\n[updates]\nstrategy = "fleet_lock"\n[updates.fleet_lock]\nbase_url = "${lockUrl}"\n`);
  const p = spawn(process.execPath, [AGENT_CLI, '--root', root, '--state-dir', path.join(dir, 'daemon-state'), '--sysroot', path.join(dir, 'daemon-sysroot'), 'agent'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  for (let i = 0; i < 100 && !/cycle:/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 2000));
  const rss = rssOf(p.pid!);
  p.kill('SIGTERM');
  return { rss, log: log.split('\n').find((l) => /cycle:/.test(l)) ?? log.slice(0, 300) };
}

interface Env { t0: number; dir: string; versions: Record<string, string>; payloads: string[]; nginx: Nginx; etcd: Etcd; cleanups: Array<() => Promise<void> | void> }

/** Set up the releases and servers, run, and stop everything whatever happens. */
async function main(): Promise<void> {
  const t0 = Date.now();
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync('/dev/shm/ostree-agent-sim-'); // tmpfs
  const cleanups: Env['cleanups'] = [() => fs.rmSync(dir, { recursive: true, force: true })];
  try {
    const www = path.join(dir, 'www');
    fs.mkdirSync(path.join(www, 'graph/v1'), { recursive: true });
    const { versions, graph, payloads } = makeReleases(www);
    fs.writeFileSync(path.join(www, 'graph/v1/graph'), JSON.stringify(graph));
    const nginx = await Nginx.start(www);
    cleanups.push(() => nginx.stop());
    const etcd = await Etcd.start();
    cleanups.push(() => etcd.stop());
    await run({ t0, dir, versions, payloads, nginx, etcd, cleanups });
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => undefined);
  }
}

async function run(env: Env): Promise<void> {
  const { t0, dir, versions, payloads, nginx, etcd, cleanups } = env;
  const groups = new Map(Array.from({ length: GROUPS }, (_, i) => [`g${i}`, SLOTS] as [string, number]));
  const store = new EtcdLockStore({ endpoints: [etcd.endpoint], txnTimeoutMs: 5000, caCertPath: null, clientCertPath: null, clientKeyPath: null, username: null, password: null, prefix: '/sim/' });
  const server = new FleetLockServer({ store, groups, holderLeaseSecs: LEASE });
  const bound = await server.start({ address: '127.0.0.1', port: 0 }, null);
  cleanups.push(() => server.stop());
  const lockUrl = `http://127.0.0.1:${bound.service.port}`;
  const setup: SimSetup = { dir, graphUrl: `${nginx.url}/graph`, repoUrl: `${nginx.url}/repo`, lockUrl, versions, bad: [payloads[2]!], initial: payloads[0]!, steadyIntervalSecs: 600, tickSecs: TICK, startEpochMs: START, concurrency: 24 };
  const workers: ChildProcess[] = [];
  const specs: NodeSpec[] = Array.from({ length: N }, (_, i) => ({ idx: i, uuid: i.toString(16).padStart(32, '0'), group: `g${i % GROUPS}`, periodic: i % 4 === 3 }));
  let workerRss = 0;
  for (let w = 0; w < PROCS; w++) {
    const child = fork(path.join(here, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    workers.push(child);
    cleanups.push(() => { child.kill(); });
    const ready = new Promise<void>((r) => child.once('message', (m: FromWorker) => { if (m.type === 'ready') workerRss += m.rssBytes; r(); }));
    child.send({ type: 'init', setup, nodes: specs.filter((s) => s.idx % PROCS === w) } satisfies ToWorker);
    await ready;
  }
  const setupSecs = (Date.now() - t0) / 1000;
  process.stderr.write(`fleet-sim: ${N} agents in ${PROCS} processes ready after ${setupSecs.toFixed(1)} s; ${TICKS} ticks of ${TICK} s\n`);

  const killTick = Math.round((1.5 * H) / TICK); const KILL = Math.max(1, Math.floor(SLOTS / 2));
  const rows: Array<{ tick: number; hours: number; on: Record<string, number>; rebooting: Record<string, number>; holders: Record<string, number>; dead: number; started: number }> = [];
  let killed: string[] = []; let killedAt = 0; let killedFreedAfter: number | null = null;
  const maxReboot: Record<string, number> = {}; const maxHolders: Record<string, number> = {};
  let cycles = 0; let cpu = 0; let attempted: Record<string, number> = {}; const errors: string[] = [];
  const simT0 = Date.now();
  for (let tick = 0; tick < TICKS; tick++) {
    const stats = await Promise.all(workers.map((w) => new Promise<TickStats>((r) => {
      w.once('message', (m: FromWorker) => r(m as TickStats));
      w.send({ type: 'tick', tick, killRebootingIn: tick >= killTick && killed.length < KILL ? 'g0' : null, kill: Math.ceil((KILL - killed.length) / PROCS) } satisfies ToWorker);
    })));
    const on: Record<string, number> = {}; const rebooting: Record<string, number> = {}; let dead = 0; let started = 0;
    attempted = {};
    for (const s of stats) {
      for (const [k, v] of Object.entries(s.onRelease)) on[k] = (on[k] ?? 0) + v;
      for (const [k, v] of Object.entries(s.rebooting)) rebooting[k] = (rebooting[k] ?? 0) + v;
      for (const [k, v] of Object.entries(s.attempted)) attempted[k] = (attempted[k] ?? 0) + v;
      dead += s.dead; started += s.rebootsStarted; cycles += s.cycles; cpu += s.cpuMicros;
      if (s.killed.length) { killed = killed.concat(s.killed); killedAt = Date.now(); killedFreedAfter = null; }
      for (const e of s.errors) if (errors.length < 10) errors.push(`tick ${tick}: ${e}`);
    }
    const holders: Record<string, number> = {};
    for (const g of groups.keys()) {
      const hs = await store.holders(g);
      holders[g] = hs.length;
      maxHolders[g] = Math.max(maxHolders[g] ?? 0, hs.length);
      maxReboot[g] = Math.max(maxReboot[g] ?? 0, rebooting[g] ?? 0);
      if (g === 'g0' && killed.length && killedFreedAfter === null && !hs.some((h) => killed.includes(h.id))) killedFreedAfter = (Date.now() - killedAt) / 1000;
    }
    rows.push({ tick, hours: (tick * TICK) / H, on, rebooting, holders, dead, started });
    progress(`tick ${tick + 1}/${TICKS} (${((tick * TICK) / H).toFixed(1)} h simulated, ${((Date.now() - simT0) / 1000).toFixed(0)} s): ${Object.entries(on).map(([v, c]) => `${v}:${c}`).join(' ')}`);
  }
  progress('');
  const simWall = (Date.now() - simT0) / 1000;
  // A short run can end before the dead holders' leases (real time) run out: wait for them.
  while (killed.length && killedFreedAfter === null && Date.now() - killedAt < (LEASE + 30) * 1000) {
    await new Promise((r) => setTimeout(r, 500));
    if (!(await store.holders('g0')).some((h) => killed.includes(h.id))) killedFreedAfter = (Date.now() - killedAt) / 1000;
  }
  const vs = ['1', '2', '3', '4'];
  const lines: string[] = [];
  lines.push(`time   ${vs.map((v) => `rel ${v}`.padStart(6)).join(' ')}  rebooting  holders  dead`);
  for (const r of rows.filter((r) => (r.tick * TICK) % 1800 === 0)) {
    const reb = Object.values(r.rebooting).reduce((x, y) => x + y, 0); const hol = Object.values(r.holders).reduce((x, y) => x + y, 0);
    lines.push(`${r.hours.toFixed(1).padStart(4)}h  ${vs.map((v) => String(r.on[v] ?? 0).padStart(6)).join(' ')}  ${String(reb).padStart(9)}  ${String(hol).padStart(7)}  ${String(r.dead).padStart(4)}`);
  }
  const idle = await daemonIdleRss(dir, setup.graphUrl, lockUrl);
  const summary = {
    nodes: N, processes: PROCS, groups: GROUPS, slotsPerGroup: SLOTS, ticks: TICKS, tickSecs: TICK, holderLeaseSecs: LEASE,
    maxConcurrentRebootsPerGroup: maxReboot, maxHoldersPerGroup: maxHolders,
    nodesThatTriedBadRelease3: attempted['3'] ?? 0, finalOnRelease: rows[rows.length - 1]!.on,
    killedHolders: killed.length, killedHoldersFreedAfterRealSecs: killedFreedAfter,
    simWallSecs: simWall, setupSecs, cycles, cpuMsPerCycle: cpu / 1000 / Math.max(1, cycles),
    workerRssMBAfterInit: workerRss / 2 ** 20, daemonIdleRssMB: idle.rss / 2 ** 20, daemonFirstCycle: idle.log, errors,
  };
  process.stdout.write(lines.join('\n') + '\n\n' + JSON.stringify(summary, null, 1) + '\n');
  const hours = rows.map((r) => r.hours);
  fs.writeFileSync(path.join(OUT, 'fleet.svg'), svgPlot(`ostree-agent fleet simulation: ${N} nodes, ${GROUPS}x${SLOTS} slots`, hours,
    [...vs.map((v) => ({ name: `release ${v}${v === '3' ? ' (bad)' : ''}`, points: rows.map((r) => r.on[v] ?? 0) })),
      { name: 'rebooting', points: rows.map((r) => Object.values(r.rebooting).reduce((x, y) => x + y, 0)) }], N));
  fs.writeFileSync(path.join(OUT, 'fleet.json'), JSON.stringify({ summary, rows }, null, 1));
  process.stderr.write(`fleet-sim: wrote ${OUT}/fleet.svg and fleet.json\n`);
  const ok = Object.entries(maxReboot).every(([, v]) => v <= SLOTS) && Object.values(maxHolders).every((v) => v <= SLOTS) && (attempted['3'] ?? 0) < N / 5;
  if (!ok) { process.stderr.write('fleet-sim: FAILED: more reboots than slots, or the bad release spread\n'); process.exitCode = 1; }
}

main().catch((e: unknown) => { process.stderr.write(`fleet-sim: ${(e as Error).stack}\n`); process.exit(1); });
