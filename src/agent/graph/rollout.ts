/**
 * Phased rollouts, as Fedora's policy engine computes them (the static graph leaves it to the
 * client): a release with the `rollout` metadata key is offered to a node only once the
 * rollout's progress reaches the node's wariness. Progress is `start_value` before nothing,
 * then grows linearly from `start_value` at `start_epoch` to 1.0 after `duration_minutes`
 * (no duration: it stays at `start_value`; before `start_epoch` it is 0). A node without a
 * configured `rollout_wariness` gets one derived from its UUID, spread over (0, 1].
 */
import { createHash } from 'node:crypto';
import { META, type Graph } from './cincinnati.js';

/** Rollout progress (0..1) of a node's metadata at `nowSecs`, or null when it is not rolling out. */
export function rolloutProgress(md: Record<string, string>, nowSecs: number): number | null {
  if (!(META.rollout in md)) return null;
  const epoch = Number.parseInt(md[META.startEpoch] ?? '0', 10);
  const startEpoch = Number.isFinite(epoch) ? epoch : 0;
  const sv = Number.parseFloat(md[META.startValue] ?? '0');
  const startValue = Number.isFinite(sv) ? sv : 0;
  const mins = Number.parseInt(md[META.duration] ?? '', 10);
  if (nowSecs < startEpoch) return 0;
  if (!Number.isFinite(mins) || mins < 0) return startValue;
  const end = startEpoch + Math.max(mins, 1) * 60;
  if (nowSecs > end) return 1;
  return startValue + ((1 - startValue) / (end - startEpoch)) * (nowSecs - startEpoch);
}

/** The wariness of a node that did not configure one: its UUID's hash scaled into (0, 1]. */
export function derivedWariness(nodeUuid: string): number {
  const h = createHash('sha256').update(nodeUuid).digest();
  const scaled = Number(h.readBigUInt64BE(0)) / 2 ** 64;
  return Math.min(1, Math.max(0.000001, scaled));
}

/** Drop the edges towards releases whose rollout has not reached `wariness` yet. */
export function throttleRollouts(g: Graph, wariness: number, nowSecs: number): Graph {
  const hidden = new Set<number>();
  g.nodes.forEach((n, i) => {
    const p = rolloutProgress(n.metadata, nowSecs);
    if (p !== null && wariness > p) hidden.add(i);
  });
  return { nodes: g.nodes, edges: g.edges.filter(([, to]) => !hidden.has(to)) };
}

/** Drop the edges out of dead-end releases. */
export function filterDeadends(g: Graph): Graph {
  return { nodes: g.nodes, edges: g.edges.filter(([from]) => g.nodes[from]!.metadata[META.deadend] !== 'true') };
}
