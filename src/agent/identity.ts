/**
 * The node's identity: its UUID (configured, else derived from /etc/machine-id the way systemd
 * derives application-specific IDs, so the machine ID itself is never sent: HMAC-SHA256 keyed
 * by the machine ID over Zincati's application ID, shaped as a version-4 UUID), its group, and
 * its rollout wariness (configured, else derived from the UUID: rollout.ts).
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import { OstreeError } from '../errors.js';
import type { AgentConfig } from './config/config.js';
import { derivedWariness } from './graph/rollout.js';

/** Zincati's application ID (`de35106b6ec24688b63afddaa156679b`): the same node gets the same UUID. */
const APP_ID = Buffer.from('de35106b6ec24688b63afddaa156679b', 'hex');

export interface Identity { nodeUuid: string; group: string; wariness: number }

export function appSpecificId(machineId: string): string {
  if (!/^[0-9a-f]{32}$/.test(machineId)) throw new OstreeError('ECONFIG', `invalid machine ID "${machineId}"`);
  const h = createHmac('sha256', Buffer.from(machineId, 'hex')).update(APP_ID).digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  return h.toString('hex');
}

export function resolveIdentity(c: AgentConfig, machineIdFile = '/etc/machine-id'): Identity {
  let nodeUuid = c.nodeUuid;
  if (nodeUuid === null) {
    let mid: string;
    try { mid = fs.readFileSync(machineIdFile, 'utf8').trim(); } catch (e) {
      throw new OstreeError('ECONFIG', `identity.node_uuid is not set and ${machineIdFile} is unreadable: ${(e as Error).message}`);
    }
    nodeUuid = appSpecificId(mid);
  }
  return { nodeUuid, group: c.group, wariness: c.rolloutWariness ?? derivedWariness(nodeUuid) };
}
