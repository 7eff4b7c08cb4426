/**
 * What the agent needs from the machine it updates, behind one interface so the same agent
 * code drives a real sysroot (hosts/ostree-host.ts) or a directory standing in for one in the
 * fleet simulation (hosts/dir-host.ts).
 */
import type { Release } from './graph/cincinnati.js';

export interface BootedRelease { checksum: string; version: string | null }

export type HealthVerdict =
  | { state: 'good' }
  | { state: 'bad'; reason: string }
  | { state: 'pending'; why: string };

export interface NodeHost {
  booted(): Promise<BootedRelease>;
  /** the checksum of the staged deployment, or null */
  staged(): Promise<string | null>;
  /** Pull `r` and stage it with its finalization locked (nothing changes at a shutdown). */
  stage(r: Release): Promise<void>;
  /** Unlock the staged deployment's finalization and reboot into it. */
  finalizeAndReboot(): Promise<void>;
  /** The health verdict on the booted deployment `checksum` (boot counting and boot checks). */
  health(checksum: string): Promise<HealthVerdict>;
  /** Changes at every boot (the agent tells a reboot that happened from one still to come). */
  bootId(): Promise<string>;
  /** How many user login sessions are open. */
  activeSessions(): Promise<number>;
}
