/**
 * The Cincinnati update graph as Fedora CoreOS serves it: `{"nodes": [{"version", "payload",
 * "metadata": {string: string}}], "edges": [[from, to], ...]}` with indices into `nodes`.
 * Payloads are OSTree commit checksums (metadata `org.fedoraproject.coreos.scheme` =
 * `checksum`). Here the graph is a static file, so what Fedora's policy engine does on the
 * server (drop edges out of dead ends, hide throttled rollouts) the client does (rollout.ts).
 */
import { OstreeError } from '../../errors.js';

export const META = {
  scheme: 'org.fedoraproject.coreos.scheme',
  ageIndex: 'org.fedoraproject.coreos.releases.age_index',
  barrier: 'org.fedoraproject.coreos.updates.barrier',
  barrierReason: 'org.fedoraproject.coreos.updates.barrier_reason',
  deadend: 'org.fedoraproject.coreos.updates.deadend',
  deadendReason: 'org.fedoraproject.coreos.updates.deadend_reason',
  rollout: 'org.fedoraproject.coreos.updates.rollout',
  startEpoch: 'org.fedoraproject.coreos.updates.start_epoch',
  startValue: 'org.fedoraproject.coreos.updates.start_value',
  duration: 'org.fedoraproject.coreos.updates.duration_minutes',
} as const;

export interface GraphNode { version: string; payload: string; metadata: Record<string, string> }
export interface Graph { nodes: GraphNode[]; edges: Array<[number, number]> }

/** A release the agent may take: a graph node with its age (its index when it has none). */
export interface Release { version: string; payload: string; ageIndex: number }

export const GRAPH_MAX_BYTES = 16 * 1024 * 1024;

const bad = (why: string): never => { throw new OstreeError('ECORRUPT', `invalid update graph: ${why}`); };

function parseNode(v: unknown, i: number): GraphNode {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(`node ${i} is not an object`);
  const o = v as Record<string, unknown>;
  if (typeof o['version'] !== 'string' || typeof o['payload'] !== 'string') return bad(`node ${i} needs string "version" and "payload"`);
  const metadata: Record<string, string> = {};
  const md = o['metadata'] ?? {};
  if (typeof md !== 'object' || md === null || Array.isArray(md)) return bad(`node ${i}: "metadata" is not an object`);
  for (const [k, val] of Object.entries(md)) {
    if (typeof val !== 'string') return bad(`node ${i}: metadata ${k} is not a string`);
    metadata[k] = val;
  }
  // A checksum payload names files and commits: nothing but a SHA-256 gets through.
  if (metadata[META.scheme] === 'checksum' && !/^[0-9a-f]{64}$/.test(o['payload'])) return bad(`node ${i}: payload is not a commit checksum (64 lowercase hex digits)`);
  return { version: o['version'], payload: o['payload'], metadata };
}

export function parseGraph(text: string): Graph {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return bad((e as Error).message); }
  if (typeof v !== 'object' || v === null) return bad('not a JSON object');
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o['nodes']) || !Array.isArray(o['edges'])) return bad('expected "nodes" and "edges" arrays');
  const nodes = (o['nodes'] as unknown[]).map(parseNode);
  const edges = (o['edges'] as unknown[]).map((e, i): [number, number] => {
    if (!Array.isArray(e) || e.length !== 2 || !e.every((x) => Number.isInteger(x) && x >= 0 && x < nodes.length)) {
      return bad(`edge ${i} is not a pair of node indices below ${nodes.length}`);
    }
    return [e[0] as number, e[1] as number];
  });
  return { nodes, edges };
}

export function releaseOf(g: Graph, i: number): Release {
  const n = g.nodes[i]!;
  const age = Number(n.metadata[META.ageIndex]);
  return { version: n.version, payload: n.payload, ageIndex: Number.isFinite(age) ? age : i };
}

export function isChecksumNode(n: GraphNode): boolean {
  return n.metadata[META.scheme] === 'checksum';
}

export function findNode(g: Graph, checksum: string): number {
  return g.nodes.findIndex((n) => isChecksumNode(n) && n.payload === checksum);
}

/** Why the release at `i` is a dead end, or null when it is not one. */
export function deadendReason(g: Graph, i: number): string | null {
  const md = g.nodes[i]!.metadata;
  if (md[META.deadend] !== 'true') return null;
  return md[META.deadendReason] || '(unknown reason)';
}
