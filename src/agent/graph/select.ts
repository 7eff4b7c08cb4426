/**
 * Choosing the next release, as Zincati does: find the booted commit among the graph's nodes,
 * take the targets of its edges (after the policy filters), leave out denied releases, and pick
 * the one with the highest age index. Beyond Zincati: a barrier release is not jumped over (a
 * target newer than a barrier that is newer than the booted one is left out: the node goes
 * through the barrier first), and a configured highest release caps the choice.
 */
import { OstreeError } from '../../errors.js';
import { META, deadendReason, findNode, isChecksumNode, releaseOf, type Graph, type Release } from './cincinnati.js';
import { filterDeadends, throttleRollouts } from './rollout.js';

export interface SelectOptions {
  booted: string;
  wariness: number;
  nowSecs: number;
  /** payloads never to take (local denylist and fleet-wide bad releases) */
  denied: ReadonlySet<string>;
  maxRelease: string | null;
  allowDowngrade: boolean;
}

export interface Selection {
  /** the booted release, or null when the graph does not list it */
  current: Release | null;
  target: Release | null;
  /** the booted release is a dead end: why */
  deadend: string | null;
  /** why each candidate was left out (for status and logs) */
  skipped: Array<{ release: Release; why: string }>;
}

function lowestBarrierAbove(g: Graph, age: number): number {
  let best = Infinity;
  g.nodes.forEach((n, i) => {
    if (n.metadata[META.barrier] !== 'true') return;
    const a = releaseOf(g, i).ageIndex;
    if (a > age && a < best) best = a;
  });
  return best;
}

function maxAge(g: Graph, maxRelease: string | null): number {
  if (maxRelease === null) return Infinity;
  const i = g.nodes.findIndex((n) => n.version === maxRelease);
  if (i < 0) throw new OstreeError('ESTATE', `updates.max_release ${maxRelease} is not in the update graph; not updating`);
  return releaseOf(g, i).ageIndex;
}

export function selectUpdate(raw: Graph, o: SelectOptions): Selection {
  const pos = findNode(raw, o.booted);
  if (pos < 0) return { current: null, target: null, deadend: null, skipped: [] };
  const current = releaseOf(raw, pos);
  const deadend = deadendReason(raw, pos);
  const g = filterDeadends(throttleRollouts(raw, o.wariness, o.nowSecs));
  const barrier = lowestBarrierAbove(raw, current.ageIndex);
  const cap = maxAge(raw, o.maxRelease);
  const skipped: Selection['skipped'] = [];
  let target: Release | null = null;
  const seen = new Set<number>();
  for (const [from, to] of g.edges) {
    if (from !== pos || seen.has(to)) continue;
    seen.add(to);
    const r = releaseOf(raw, to);
    const why = !isChecksumNode(raw.nodes[to]!) ? 'not an OSTree commit (payload scheme is not "checksum")'
      : o.denied.has(r.payload) ? 'denied (bad release or rolled back here)'
      : r.ageIndex > barrier ? 'beyond a barrier release not yet taken'
        : r.ageIndex > cap ? `newer than updates.max_release ${o.maxRelease}`
          : r.ageIndex <= current.ageIndex && !o.allowDowngrade ? 'a downgrade (updates.allow_downgrade is false)'
            : null;
    if (why) { skipped.push({ release: r, why }); continue; }
    if (!target || r.ageIndex > target.ageIndex) target = r;
  }
  return { current, target, deadend, skipped };
}
