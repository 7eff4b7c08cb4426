/** Where the FleetLock server keeps its state: an interface, one file per backend (etcd-store.ts). */
import type { BadRelease } from './protocol.js';

export interface Holder {
  id: string;
  /** when the slot was taken (ISO 8601) */
  since: string;
  /** seconds until the lease frees the slot if the holder never reports back, or null if unknown */
  ttlSecs: number | null;
}

export type LockOutcome = { granted: true; already: boolean } | { granted: false; holders: string[] };

export interface LockStore {
  /** Take a slot of `group` for `id` (already held: granted, lease unchanged). */
  lock(group: string, id: string, slots: number, leaseSecs: number): Promise<LockOutcome>;
  /** Free `id`'s slot of `group` (none held: nothing to do). Returns whether one was freed. */
  unlock(group: string, id: string): Promise<boolean>;
  holders(group: string): Promise<Holder[]>;
  markBad(b: BadRelease): Promise<void>;
  badReleases(): Promise<BadRelease[]>;
  close(): Promise<void>;
}
