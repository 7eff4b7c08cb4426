/**
 * `ostree-agent forget VERSION`: take a release off this node's local denylist (a rollback or a
 * failed health check judged here), so the agent may take it again. The fleet's verdict lives
 * on the lock server, not here: a release refused only because the fleet reported it bad is an
 * error naming where to undo it, since forgetting the local cache would be undone by the next
 * cycle anyway.
 */
import { OstreeError } from '../errors.js';
import type { AgentState, DenyEntry } from './state.js';

export interface Forgotten { payload: string; entry: DenyEntry }

/** `release` is a version or a full payload checksum. Mutates `s`; throws ENOENT when nothing matches. */
export function forgetRelease(s: AgentState, release: string): Forgotten[] {
  const matches = (payload: string, e: DenyEntry): boolean => e.version === release || payload === release;
  const gone = Object.entries(s.denylist).filter(([p, e]) => matches(p, e)).map(([payload, entry]) => ({ payload, entry }));
  if (gone.length === 0) {
    if (Object.entries(s.fleetBad).some(([p, e]) => matches(p, e))) {
      throw new OstreeError('ENOENT', `release ${release} is refused by the fleet (reported bad to the lock server), not by this node: its verdict is removed on the lock server's etcd (see docs/agent.md)`);
    }
    const known = Object.values(s.denylist).map((e) => e.version);
    throw new OstreeError('ENOENT', `release ${release} is not on this node's denylist (${known.length ? `denied here: ${known.join(', ')}` : 'it is empty'})`);
  }
  for (const g of gone) delete s.denylist[g.payload];
  // An attempt on that release still being judged would deny it again: it is over too.
  if (s.attempt && gone.some((g) => g.payload === s.attempt!.payload) && s.attempt.phase === 'judged-bad') s.attempt = null;
  return gone;
}
