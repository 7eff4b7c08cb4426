/**
 * One worker process of the fleet simulation: many agents, each the real UpdateAgent with its
 * own HTTP client, state directory and directory sysroot (DirHost) on tmpfs. The coordinator
 * sends clock ticks; a node runs its cycle every steady interval (staggered by its index), a
 * reboot keeps it down for one tick, then it boots: into the new release, or, for a release
 * that fails its health checks, into it with a red verdict and back into the old one a tick
 * later (the boot counter's rollback).
 */
import * as path from 'node:path';
import { UpdateAgent } from '../../src/agent/agent.js';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/config.js';
import { DirHost } from '../../src/agent/hosts/dir-host.js';
import { HttpClient } from '../../src/agent/http.js';
import { StateFile } from '../../src/agent/state.js';
import { derivedWariness } from '../../src/agent/graph/rollout.js';
import { parseWindowSpec } from '../../src/agent/schedule/weekly.js';
import type { FromWorker, NodeSpec, SimSetup, TickStats, ToWorker } from './protocol.js';

interface SimNode {
  spec: NodeSpec;
  host: DirHost;
  agent: UpdateAgent;
  /** down until this tick (rebooting), with what it boots into */
  downUntil: number;
  bootInto: { payload: string; from: string } | null;
  /** booted a bad release: roll back at this tick */
  rollbackAt: number;
  rollbackTo: string;
  dead: boolean;
  attempted: Set<string>;
}

let setup: SimSetup;
const nodes: SimNode[] = [];
let currentTick = 0;
let rebootsStarted = 0;

function send(m: FromWorker): void { process.send!(m); }

function configFor(spec: NodeSpec): AgentConfig {
  const c = defaultConfig();
  c.steadyIntervalSecs = setup.steadyIntervalSecs;
  c.group = spec.group;
  c.nodeUuid = spec.uuid;
  c.cincinnatiBaseUrl = setup.graphUrl;
  c.fleetLockBaseUrl = setup.lockUrl;
  c.strategies = spec.periodic ? ['periodic', 'fleet_lock'] : ['fleet_lock'];
  // the periodic nodes may reboot on the first 8 simulated hours of each day only (UTC)
  if (spec.periodic) c.windows = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].map((d) => parseWindowSpec({ days: [d], start_time: '00:00', length_minutes: 8 * 60 }));
  return c;
}

function makeNode(spec: NodeSpec): SimNode {
  const dir = path.join(setup.dir, 'nodes', String(spec.idx));
  const http = new HttpClient({ timeoutMs: 30_000 });
  const node = {} as SimNode;
  const host = new DirHost({
    dir: path.join(dir, 'sysroot'), http, repoUrl: setup.repoUrl,
    onReboot: (_h, target) => {
      node.downUntil = currentTick + 1;
      node.bootInto = { payload: target, from: host.read().booted };
      node.attempted.add(target);
      rebootsStarted++;
    },
  });
  host.init(setup.initial);
  const config = configFor(spec);
  const agent = new UpdateAgent({ config, identity: { nodeUuid: spec.uuid, group: spec.group, wariness: derivedWariness(spec.uuid) }, host, state: new StateFile(path.join(dir, 'state')), http });
  Object.assign(node, { spec, host, agent, downUntil: -1, bootInto: null, rollbackAt: -1, rollbackTo: '', dead: false, attempted: new Set<string>() });
  return node;
}

/** Boot a node whose reboot is over; true when it booted (its agent starts: a cycle at once, as the daemon does). */
function bootIfDue(n: SimNode, tick: number): boolean {
  if (n.bootInto && tick >= n.downUntil) {
    const { payload, from } = n.bootInto;
    n.bootInto = null;
    if (setup.bad.includes(payload)) {
      n.host.boot(payload, 'red', `release ${setup.versions[payload]} failed its health check`);
      n.rollbackAt = tick + 1; n.rollbackTo = from;
    } else n.host.boot(payload, 'green');
    return true;
  }
  if (n.rollbackAt >= 0 && tick >= n.rollbackAt) {
    n.rollbackAt = -1;
    n.host.boot(n.rollbackTo, null);
    return true;
  }
  return false;
}

async function pool<T>(items: T[], limit: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => { while (i < items.length) await f(items[i++]!); }));
}

async function tick(tickNo: number, killGroup: string | null, kill: number): Promise<TickStats> {
  currentTick = tickNo;
  rebootsStarted = 0;
  const killed: string[] = [];
  if (killGroup) {
    for (const n of nodes) {
      if (killed.length >= kill) break;
      if (!n.dead && n.bootInto && n.spec.group === killGroup) { n.dead = true; killed.push(n.spec.uuid); }
    }
  }
  const now = new Date(setup.startEpochMs + tickNo * setup.tickSecs * 1000);
  const every = Math.max(1, Math.round(setup.steadyIntervalSecs / setup.tickSecs));
  const due: SimNode[] = [];
  for (const n of nodes) {
    if (n.dead) continue;
    const booted = bootIfDue(n, tickNo);
    if (n.bootInto) continue; // down
    if (booted || (tickNo + n.spec.idx) % every === 0) due.push(n);
  }
  const errors: string[] = [];
  const cpu0 = process.cpuUsage();
  await pool(due, setup.concurrency, async (n) => {
    const rep = await n.agent.cycle({ now });
    if (rep.error && errors.length < 5) errors.push(`${n.spec.idx}: ${rep.error}`);
  });
  const cpu = process.cpuUsage(cpu0);
  const onRelease: Record<string, number> = {};
  const rebooting: Record<string, number> = {};
  const attempted: Record<string, number> = {};
  let dead = 0;
  for (const n of nodes) {
    for (const p of n.attempted) attempted[setup.versions[p]!] = (attempted[setup.versions[p]!] ?? 0) + 1;
    if (n.dead) { dead++; continue; }
    if (n.bootInto) { rebooting[n.spec.group] = (rebooting[n.spec.group] ?? 0) + 1; continue; }
    const v = setup.versions[n.host.read().booted] ?? '?';
    onRelease[v] = (onRelease[v] ?? 0) + 1;
  }
  return { type: 'tick-done', tick: tickNo, onRelease, rebooting, dead, rebootsStarted, attempted, killed, cycles: due.length, cpuMicros: cpu.user + cpu.system, errors };
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    setup = m.setup;
    for (const s of m.nodes) nodes.push(makeNode(s));
    send({ type: 'ready', rssBytes: process.memoryUsage().rss });
  } else if (m.type === 'tick') {
    tick(m.tick, m.killRebootingIn, m.kill).then(send, (e: unknown) => { process.stderr.write(`worker: ${(e as Error).stack}\n`); process.exit(1); });
  }
});
