/**
 * The agent's configuration: Zincati's keys (docs/agent.md lists every one) plus ours, merged
 * from the fragments in order (a later fragment's key wins; periodic windows accumulate, as
 * Zincati's do) and checked into a typed value. A wrong type or value is an ECONFIG error
 * naming the fragment and the key.
 */
import { OstreeError } from '../../errors.js';
import type { Fragment } from './fragments.js';
import { parseWindowSpec, type WindowSpec } from '../schedule/weekly.js';

export type StrategyName = 'immediate' | 'periodic' | 'fleet_lock';

export interface AgentConfig {
  steadyIntervalSecs: number;
  group: string;
  /** null: derived from the node UUID (docs/agent.md) */
  rolloutWariness: number | null;
  /** null: derived from /etc/machine-id */
  nodeUuid: string | null;
  cincinnatiBaseUrl: string | null;
  enabled: boolean;
  allowDowngrade: boolean;
  /** every strategy named must allow a reboot (periodic AND fleet_lock) */
  strategies: StrategyName[];
  fleetLockBaseUrl: string | null;
  timeZone: string;
  windows: WindowSpec[];
  /** the highest release (version) this node may take, or null */
  maxRelease: string | null;
  rebootWithActiveSessions: boolean;
}

export function defaultConfig(): AgentConfig {
  return {
    steadyIntervalSecs: 300, group: 'default', rolloutWariness: null, nodeUuid: null,
    cincinnatiBaseUrl: null, enabled: true, allowDowngrade: false, strategies: ['immediate'],
    fleetLockBaseUrl: null, timeZone: 'UTC', windows: [], maxRelease: null, rebootWithActiveSessions: false,
  };
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

class FragmentReader {
  constructor(private readonly file: string) {}
  bad(key: string, want: string): never {
    throw new OstreeError('ECONFIG', `${this.file}: key ${key}: expected ${want}`, { path: this.file });
  }
  table(t: Table, key: string): Table | undefined {
    const v = t[key.split('.').pop()!];
    if (v === undefined) return undefined;
    return isTable(v) ? v : this.bad(key, 'a table');
  }
  str(t: Table, name: string, key: string): string | undefined {
    const v = t[name];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : this.bad(key, 'a string');
  }
  bool(t: Table, name: string, key: string): boolean | undefined {
    const v = t[name];
    if (v === undefined) return undefined;
    return typeof v === 'boolean' ? v : this.bad(key, 'true or false');
  }
}

const STRATEGIES: readonly string[] = ['immediate', 'periodic', 'fleet_lock'];

function parseStrategies(r: FragmentReader, v: unknown): StrategyName[] {
  const names = typeof v === 'string' ? v.split('+').map((s) => s.trim())
    : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[]
      : r.bad('updates.strategy', 'a string or an array of strings');
  if (names.length === 0) r.bad('updates.strategy', 'at least one strategy');
  for (const n of names) if (!STRATEGIES.includes(n)) r.bad('updates.strategy', `one of immediate, periodic, fleet_lock (got "${n}")`);
  const uniq = [...new Set(names)] as StrategyName[];
  // immediate composed with anything adds nothing
  return uniq.length > 1 ? uniq.filter((s) => s !== 'immediate') : uniq;
}

function applyAgent(c: AgentConfig, r: FragmentReader, t: Table): void {
  const timing = r.table(t, 'agent.timing');
  if (!timing || timing['steady_interval_secs'] === undefined) return;
  const v = timing['steady_interval_secs'];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) r.bad('agent.timing.steady_interval_secs', 'a positive integer');
  c.steadyIntervalSecs = v as number;
}

function applyIdentity(c: AgentConfig, r: FragmentReader, t: Table): void {
  const g = r.str(t, 'group', 'identity.group');
  if (g !== undefined) {
    if (g === '' || !/^[A-Za-z0-9_.-]+$/.test(g)) r.bad('identity.group', 'a non-empty name of letters, digits, "_", "." and "-"');
    c.group = g;
  }
  const u = r.str(t, 'node_uuid', 'identity.node_uuid');
  if (u !== undefined) {
    const hex = u.replace(/-/g, '').toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hex)) r.bad('identity.node_uuid', 'a UUID (32 hexadecimal digits, dashes allowed)');
    c.nodeUuid = hex;
  }
  const w = t['rollout_wariness'];
  if (w !== undefined) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1) r.bad('identity.rollout_wariness', 'a number from 0.0 to 1.0');
    c.rolloutWariness = w as number;
  }
}

function applyUpdates(c: AgentConfig, r: FragmentReader, t: Table): void {
  c.enabled = r.bool(t, 'enabled', 'updates.enabled') ?? c.enabled;
  c.allowDowngrade = r.bool(t, 'allow_downgrade', 'updates.allow_downgrade') ?? c.allowDowngrade;
  c.rebootWithActiveSessions = r.bool(t, 'reboot_with_active_sessions', 'updates.reboot_with_active_sessions') ?? c.rebootWithActiveSessions;
  if (t['strategy'] !== undefined) c.strategies = parseStrategies(r, t['strategy']);
  const max = r.str(t, 'max_release', 'updates.max_release');
  if (max !== undefined) c.maxRelease = max === '' ? null : max;
  const fl = r.table(t, 'updates.fleet_lock');
  if (fl) c.fleetLockBaseUrl = r.str(fl, 'base_url', 'updates.fleet_lock.base_url') ?? c.fleetLockBaseUrl;
  const p = r.table(t, 'updates.periodic');
  if (!p) return;
  c.timeZone = r.str(p, 'time_zone', 'updates.periodic.time_zone') ?? c.timeZone;
  const win = p['window'];
  if (win === undefined) return;
  if (!Array.isArray(win)) r.bad('updates.periodic.window', 'an array of tables ([[updates.periodic.window]])');
  (win as unknown[]).forEach((w, i) => {
    const key = `updates.periodic.window[${i}]`;
    if (!isTable(w)) r.bad(key, 'a table');
    try { c.windows.push(parseWindowSpec(w)); } catch (e) { r.bad(key, (e as Error).message); }
  });
}

/** Merge `fragments` (in order) over the defaults. */
export function mergeConfig(fragments: Fragment[]): AgentConfig {
  const c = defaultConfig();
  for (const f of fragments) {
    const r = new FragmentReader(f.file);
    const agent = r.table(f.data, 'agent'); if (agent) applyAgent(c, r, agent);
    const id = r.table(f.data, 'identity'); if (id) applyIdentity(c, r, id);
    const cin = r.table(f.data, 'cincinnati');
    if (cin) c.cincinnatiBaseUrl = r.str(cin, 'base_url', 'cincinnati.base_url') ?? c.cincinnatiBaseUrl;
    const up = r.table(f.data, 'updates'); if (up) applyUpdates(c, r, up);
  }
  return c;
}

/** What the merged configuration lacks for the strategies it names (checked when the agent starts). */
export function checkUsable(c: AgentConfig): void {
  if (c.strategies.includes('fleet_lock') && !c.fleetLockBaseUrl) {
    throw new OstreeError('ECONFIG', 'strategy fleet_lock needs updates.fleet_lock.base_url');
  }
  if (c.strategies.includes('periodic') && c.windows.length === 0) {
    throw new OstreeError('ECONFIG', 'strategy periodic needs at least one [[updates.periodic.window]]');
  }
  if (c.enabled && !c.cincinnatiBaseUrl) throw new OstreeError('ECONFIG', 'cincinnati.base_url is not set');
}
