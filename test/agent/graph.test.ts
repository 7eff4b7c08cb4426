import { test } from 'node:test';
import assert from 'node:assert/strict';
import { META, parseGraph, type Graph } from '../../src/agent/graph/cincinnati.js';
import { selectUpdate, type SelectOptions } from '../../src/agent/graph/select.js';
import { derivedWariness, rolloutProgress, throttleRollouts } from '../../src/agent/graph/rollout.js';
import { isOstreeError } from '../../src/errors.js';

const P = (n: number) => n.toString(16).padStart(64, '0');
function node(i: number, extra: Record<string, string> = {}): { version: string; payload: string; metadata: Record<string, string> } {
  return { version: `1.${i}`, payload: P(i + 1), metadata: { [META.scheme]: 'checksum', [META.ageIndex]: String(i), ...extra } };
}
function graph(nodes: ReturnType<typeof node>[], edges: Array<[number, number]>): Graph {
  return parseGraph(JSON.stringify({ nodes, edges }));
}
const opts = (o: Partial<SelectOptions> = {}): SelectOptions => ({ booted: P(1), wariness: 0.5, nowSecs: 1_000_000, denied: new Set(), maxRelease: null, allowDowngrade: false, ...o });

test('graph: parse errors name what is wrong', () => {
  for (const [text, re] of [['{', /invalid update graph/], ['{"nodes":[]}', /"nodes" and "edges"/],
    ['{"nodes":[{"version":"1"}],"edges":[]}', /node 0 needs/], ['{"nodes":[{"version":"1","payload":"a"}],"edges":[[0,1]]}', /edge 0/],
    ['{"nodes":[{"version":"1","payload":"a","metadata":{"k":1}}],"edges":[]}', /metadata k is not a string/],
    ['{"nodes":[{"version":"1","payload":"../../etc","metadata":{"org.fedoraproject.coreos.scheme":"checksum"}}],"edges":[]}', /not a commit checksum/]] as const) {
    assert.throws(() => parseGraph(text), (e: unknown) => isOstreeError(e, 'ECORRUPT') && re.test(e.message), text);
  }
});

test('graph: picks the highest age index among the booted node\'s targets; none for an unknown booted commit', () => {
  const g = graph([node(0), node(1), node(2), node(3)], [[0, 1], [0, 2], [0, 3], [1, 2]]);
  const s = selectUpdate(g, opts());
  assert.equal(s.current?.version, '1.0');
  assert.equal(s.target?.version, '1.3');
  assert.equal(selectUpdate(g, opts({ booted: P(99) })).current, null);
  // a node without the checksum scheme is not matched (as Zincati)
  const g2 = graph([{ ...node(0), metadata: {} }, node(1)], [[0, 1]]);
  assert.equal(selectUpdate(g2, opts()).target, null);
  // a target that is not an OSTree commit is never taken
  const g3 = graph([node(0), { version: 'oci', payload: 'quay.io/x:y', metadata: { [META.scheme]: 'oci' } }], [[0, 1]]);
  assert.deepEqual(selectUpdate(g3, opts()).skipped.map((k) => k.why), ['not an OSTree commit (payload scheme is not "checksum")']);
});

test('graph: dead end, barrier, denylist, pin and downgrades', () => {
  const dead = graph([node(0, { [META.deadend]: 'true', [META.deadendReason]: 'broken upgrade path' }), node(1)], [[0, 1]]);
  const d = selectUpdate(dead, opts());
  assert.equal(d.deadend, 'broken upgrade path');
  assert.equal(d.target, null);
  const bar = graph([node(0), node(1, { [META.barrier]: 'true' }), node(2), node(3)], [[0, 1], [0, 2], [0, 3], [1, 3]]);
  assert.equal(selectUpdate(bar, opts()).target?.version, '1.1');
  assert.ok(selectUpdate(bar, opts()).skipped.some((k) => k.release.version === '1.3' && /barrier/.test(k.why)));
  assert.equal(selectUpdate(bar, opts({ booted: P(2) })).target?.version, '1.3');
  const g = graph([node(0), node(1), node(2), node(3)], [[0, 1], [0, 2], [0, 3]]);
  assert.equal(selectUpdate(g, opts({ denied: new Set([P(4)]) })).target?.version, '1.2');
  assert.equal(selectUpdate(g, opts({ maxRelease: '1.1' })).target?.version, '1.1');
  assert.throws(() => selectUpdate(g, opts({ maxRelease: '9.9' })), /max_release 9.9 is not in the update graph/);
  const down = graph([node(0), node(1)], [[1, 0]]);
  assert.equal(selectUpdate(down, opts({ booted: P(2) })).target, null);
  assert.equal(selectUpdate(down, opts({ booted: P(2), allowDowngrade: true })).target?.version, '1.0');
});

test('rollout: progress and throttling as the policy engine computes them', () => {
  const md = { [META.rollout]: 'true', [META.startEpoch]: '1000', [META.startValue]: '0.2', [META.duration]: '10' };
  assert.equal(rolloutProgress(md, 999), 0);
  assert.equal(rolloutProgress(md, 1000), 0.2);
  assert.ok(Math.abs(rolloutProgress(md, 1300)! - 0.6) < 1e-9); // halfway through 600 s
  assert.equal(rolloutProgress(md, 1601), 1);
  assert.equal(rolloutProgress({ [META.rollout]: 'true', [META.startValue]: '0.3' }, 5), 0.3); // no duration: stays
  assert.equal(rolloutProgress({ [META.startEpoch]: '1' }, 5), null); // no rollout key: not throttled
  const g = graph([node(0), node(1, md)], [[0, 1]]);
  assert.equal(throttleRollouts(g, 0.5, 1100).edges.length, 0); // progress 0.333 < 0.5
  assert.equal(throttleRollouts(g, 0.5, 1400).edges.length, 1); // 0.733
  assert.equal(selectUpdate(g, opts({ wariness: 0.0, nowSecs: 1000 })).target?.version, '1.1'); // a canary
  assert.equal(selectUpdate(g, opts({ wariness: 1.0, nowSecs: 1500 })).target, null);
  // derived wariness: stable per UUID, in (0, 1], spread
  const ws = Array.from({ length: 1000 }, (_, i) => derivedWariness(`node-${i}`));
  assert.equal(derivedWariness('node-1'), ws[1]);
  assert.ok(ws.every((x) => x > 0 && x <= 1));
  const below = ws.filter((x) => x < 0.5).length;
  assert.ok(below > 400 && below < 600, `${below} of 1000 below 0.5`);
});
