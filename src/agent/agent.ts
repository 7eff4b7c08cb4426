/**
 * The update agent: one `cycle()` is one pass of Zincati's loop, with this project's additions.
 *
 *   1. after a reboot into an update, the health verdict: good → steady state (the slot is
 *      given back); bad, or booted back into the old release (rolled back) → the release goes
 *      on the local denylist and is reported bad to the lock server, so the fleet stops taking it
 *   2. otherwise give back a slot this node may still hold (steady state, idempotent)
 *   3. the fleet's bad releases (cached when the server is unreachable), the graph, the choice
 *   4. pull and stage the choice with its finalization locked
 *   5. reboot when every strategy allows it (rebootGate)
 *
 * The clock is passed in (`now`), so a simulation can run many agents on a simulated clock.
 */
import { OstreeError } from '../errors.js';
import type { AgentConfig } from './config/config.js';
import { FleetLockClient } from './fleetlock/client.js';
import { fetchGraph } from './graph/client.js';
import { selectUpdate, type Selection } from './graph/select.js';
import type { Release } from './graph/cincinnati.js';
import type { HealthVerdict, NodeHost } from './host.js';
import { HttpClient } from './http.js';
import type { Identity } from './identity.js';
import { resolveTimeZone } from './schedule/weekly.js';
import type { AgentState, StateFile } from './state.js';
import { rebootGate } from './strategy.js';

export type Phase = 'disabled' | 'idle' | 'no-update' | 'staged' | 'rebooting' | 'awaiting-verdict' | 'error';

export interface CycleReport {
  time: string;
  phase: Phase;
  booted: string;
  /** what the agent waits for before its next step, or null */
  waitingFor: string | null;
  target: { version: string; payload: string } | null;
  deadend: string | null;
  skipped: Array<{ version: string; why: string }>;
  denylist: string[];
  events: string[];
  error: string | null;
}

export interface AgentOptions {
  config: AgentConfig;
  identity: Identity;
  host: NodeHost;
  state: StateFile;
  /** one per agent (the simulation runs many in one process) */
  http?: HttpClient;
  log?: (line: string) => void;
}

export interface CycleOptions { now?: Date; updateNow?: boolean }

export class UpdateAgent {
  readonly http: HttpClient;
  private readonly lock: FleetLockClient | null;
  private readonly tz: string;
  constructor(private readonly o: AgentOptions) {
    this.http = o.http ?? new HttpClient();
    const c = o.config;
    this.lock = c.fleetLockBaseUrl ? new FleetLockClient(this.http, c.fleetLockBaseUrl, { id: o.identity.nodeUuid, group: o.identity.group }) : null;
    this.tz = resolveTimeZone(c.timeZone);
  }

  private log(line: string): void { this.o.log?.(line); }

  private deny(s: AgentState, r: { payload: string; version: string }, reason: string, now: Date): void {
    s.denylist[r.payload] = { version: r.version, reason, time: now.toISOString() };
  }

  /** Report a release bad to the fleet; an unreachable server is retried next cycle (the local denylist holds meanwhile). */
  private async reportBad(r: { payload: string; version: string }, reason: string, rep: CycleReport): Promise<boolean> {
    if (!this.lock) return true;
    try { await this.lock.reportBad(r, reason); rep.events.push(`reported ${r.version} bad to the fleet`); return true; } catch (e) {
      rep.events.push(`could not report ${r.version} bad yet: ${(e as Error).message}`);
      return false;
    }
  }

  /** Step 1: judge the update this node rebooted into. Returns true when the cycle must stop here. */
  private async judge(s: AgentState, booted: string, now: Date, rep: CycleReport): Promise<boolean> {
    const a = s.attempt;
    if (!a || (a.phase !== 'rebooting' && a.phase !== 'judged-bad')) return false;
    const rel = { payload: a.payload, version: a.version };
    if (a.phase === 'rebooting' && a.bootId === await this.o.host.bootId()) {
      rep.phase = 'rebooting';
      rep.waitingFor = `the reboot into ${a.version} asked for at ${a.since}`;
      return true;
    }
    if (booted !== a.payload) {
      if (a.phase === 'rebooting') this.deny(s, rel, `rolled back on this node (booted ${booted} again)`, now);
      if (!(await this.reportBad(rel, s.denylist[a.payload]?.reason ?? 'rolled back', rep))) {
        rep.waitingFor = `the lock server, to report ${a.version} bad (denied here already)`;
        return true;
      }
      rep.events.push(`${a.version} was rolled back: denied here from now on`);
      s.attempt = null;
      return false;
    }
    const v: HealthVerdict = a.phase === 'judged-bad' ? { state: 'bad', reason: 'failed its health checks' } : await this.o.host.health(booted);
    if (v.state === 'pending') { rep.phase = 'awaiting-verdict'; rep.waitingFor = `the health verdict on ${a.version} (${v.why})`; return true; }
    if (v.state === 'bad') {
      if (!s.denylist[a.payload]) this.deny(s, rel, `failed its health checks: ${v.reason}`, now);
      a.phase = 'judged-bad';
      await this.reportBad(rel, v.reason, rep);
      rep.phase = 'awaiting-verdict';
      rep.waitingFor = `the rollback from ${a.version}, which failed its health checks`;
      return true;
    }
    rep.events.push(`${a.version} booted and passed its health checks`);
    s.attempt = null;
    s.mayHoldSlot = true;
    return false;
  }

  /**
   * Step 2: steady state gives back a slot this node may hold. An unreachable server does not
   * stop the cycle (staging needs no slot; taking one again later is idempotent): it is retried.
   */
  private async reportSteady(s: AgentState, rep: CycleReport): Promise<void> {
    if (!s.mayHoldSlot || !this.o.config.strategies.includes('fleet_lock') || !this.lock) return;
    try {
      await this.lock.steadyState();
      s.mayHoldSlot = false;
      rep.events.push('reported steady state');
    } catch (e) {
      rep.events.push(`steady-state report not taken yet: ${(e as Error).message}`);
    }
  }

  private async fleetBad(s: AgentState, rep: CycleReport): Promise<void> {
    if (!this.lock) return;
    try {
      const list = await this.lock.badReleases();
      s.fleetBad = Object.fromEntries(list.map((b) => [b.payload, { version: b.version, reason: `reported bad by ${b.reporter}: ${b.reason}`, time: b.time }]));
    } catch (e) {
      rep.events.push(`fleet bad-release list unavailable, using the last one (${(e as Error).message})`);
    }
  }

  private async choose(s: AgentState, booted: string, now: Date): Promise<Selection> {
    const c = this.o.config;
    const id = this.o.identity;
    const graph = await fetchGraph(this.http, c.cincinnatiBaseUrl!, {
      basearch: 'x86_64', group: id.group, node_uuid: id.nodeUuid, os_version: booted, rollout_wariness: String(id.wariness),
    });
    const denied = new Set([...Object.keys(s.denylist), ...Object.keys(s.fleetBad)]);
    return selectUpdate(graph, { booted, wariness: id.wariness, nowSecs: Math.floor(now.getTime() / 1000), denied, maxRelease: c.maxRelease, allowDowngrade: c.allowDowngrade });
  }

  private async stageAndMaybeReboot(s: AgentState, t: Release, booted: string, now: Date, o: CycleOptions, rep: CycleReport): Promise<void> {
    if ((await this.o.host.staged()) !== t.payload || s.attempt?.payload !== t.payload) {
      rep.events.push(`staging ${t.version}`);
      await this.o.host.stage(t);
      s.attempt = { payload: t.payload, version: t.version, from: booted, phase: 'staged', since: now.toISOString() };
      this.o.state.save(s);
    }
    rep.phase = 'staged';
    const gate = await rebootGate({
      config: this.o.config, timeZone: this.tz, now, ignoreWindow: !!o.updateNow,
      sessions: () => this.o.host.activeSessions(), lock: this.lock,
    });
    if (!gate.allowed) { rep.waitingFor = gate.waitingFor; return; }
    s.attempt = { ...s.attempt!, phase: 'rebooting', since: now.toISOString(), bootId: await this.o.host.bootId() };
    s.mayHoldSlot = true;
    this.o.state.save(s);
    rep.phase = 'rebooting';
    rep.events.push(`rebooting into ${t.version}`);
    this.log(`rebooting into ${t.version} (${t.payload})`);
    await this.o.host.finalizeAndReboot();
  }

  async cycle(o: CycleOptions = {}): Promise<CycleReport> {
    const now = o.now ?? new Date();
    const s = this.o.state.load();
    const rep: CycleReport = { time: now.toISOString(), phase: 'idle', booted: '', waitingFor: null, target: null, deadend: null, skipped: [], denylist: [], events: [], error: null };
    try {
      rep.booted = (await this.o.host.booted()).checksum;
      await this.run(s, rep.booted, now, o, rep);
    } catch (e) {
      rep.phase = 'error';
      rep.error = e instanceof OstreeError ? e.message : String(e);
    } finally {
      this.o.state.save(s);
      rep.denylist = Object.values(s.denylist).map((d) => d.version);
    }
    for (const ev of rep.events) this.log(ev);
    if (rep.error) this.log(`error: ${rep.error}`);
    return rep;
  }

  private async run(s: AgentState, booted: string, now: Date, o: CycleOptions, rep: CycleReport): Promise<void> {
    if (await this.judge(s, booted, now, rep)) return;
    await this.reportSteady(s, rep);
    if (!this.o.config.enabled && !o.updateNow) { rep.phase = 'disabled'; return; }
    await this.fleetBad(s, rep);
    const sel = await this.choose(s, booted, now);
    rep.deadend = sel.deadend;
    rep.skipped = sel.skipped.map((k) => ({ version: k.release.version, why: k.why }));
    if (!sel.current) { rep.phase = 'no-update'; rep.waitingFor = 'the booted release to appear in the update graph'; return; }
    if (!sel.target) { rep.phase = 'no-update'; return; }
    rep.target = { version: sel.target.version, payload: sel.target.payload };
    await this.stageAndMaybeReboot(s, sel.target, booted, now, o, rep);
  }

  close(): void { this.http.close(); }
}
