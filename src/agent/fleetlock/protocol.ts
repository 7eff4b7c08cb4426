/**
 * The FleetLock protocol (what Zincati speaks and airlock serves): `POST /v1/pre-reboot` takes
 * a reboot slot, `POST /v1/steady-state` gives it back; both carry the header
 * `fleet-lock-protocol: true` and the body `{"client_params": {"id": ..., "group": ...}}`.
 * 200 is success; an error is a JSON `{"kind": ..., "value": ...}` with a 4xx/5xx status.
 * Both calls are idempotent. Our extensions, same header and body shape:
 * `POST /v1/report-bad` (body adds `"release": {"version", "payload"}, "reason"`) and
 * `GET /v1/bad-releases` (the releases the fleet must not take).
 */
import { OstreeError } from '../../errors.js';

export const PROTOCOL_HEADER = 'fleet-lock-protocol';
export const PATHS = {
  preReboot: '/v1/pre-reboot',
  steadyState: '/v1/steady-state',
  reportBad: '/v1/report-bad',
  badReleases: '/v1/bad-releases',
} as const;

export interface ClientParams { id: string; group: string }
export interface BadRelease { version: string; payload: string; reason: string; reporter: string; group: string; time: string }
export interface ReportBadBody { client_params: ClientParams; release: { version: string; payload: string }; reason: string }

/** A FleetLock error answer. */
export class FleetLockError extends OstreeError {
  constructor(readonly status: number, readonly kind: string, readonly value: string) {
    super('EBUSY', `fleet lock: ${kind}: ${value} (HTTP ${status})`);
  }
}

const NAME_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The identity in a request body, checked (bad → a 400 `invalid_client_identity`). */
export function parseClientParams(body: unknown): ClientParams {
  const cp = (body as { client_params?: unknown } | null)?.client_params as Record<string, unknown> | undefined;
  if (typeof cp !== 'object' || cp === null) throw new FleetLockError(400, 'invalid_client_identity', 'missing client_params');
  const { id, group } = cp;
  if (typeof group !== 'string' || group === '') throw new FleetLockError(400, 'invalid_client_identity', 'empty client group');
  if (typeof id !== 'string' || id === '') throw new FleetLockError(400, 'invalid_client_identity', 'empty client ID');
  if (!NAME_RE.test(id) || !NAME_RE.test(group)) throw new FleetLockError(400, 'invalid_client_identity', 'id and group are 1-128 of [A-Za-z0-9_.:-]');
  return { id, group };
}

export function parseReportBad(body: unknown): ReportBadBody {
  const client_params = parseClientParams(body);
  const o = body as Record<string, unknown>;
  const rel = o['release'] as Record<string, unknown> | undefined;
  if (typeof rel !== 'object' || rel === null || typeof rel['payload'] !== 'string' || !/^[0-9a-f]{64}$/.test(rel['payload'])
    || typeof rel['version'] !== 'string' || rel['version'].length > 256) {
    throw new FleetLockError(400, 'invalid_release', 'release needs "version" and a 64-hex "payload"');
  }
  const reason = typeof o['reason'] === 'string' ? o['reason'].slice(0, 1024) : '';
  return { client_params, release: { version: rel['version'], payload: rel['payload'] }, reason };
}
