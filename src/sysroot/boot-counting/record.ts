/**
 * The boot checks' record across boots, `/boot/ostree/boot-check.json` (next to upstream's
 * finalize-failure stamp, on the filesystem the bootloader configuration lives on): the verdict
 * of the last boot check, the deployments that failed theirs (so a rollback never goes back to
 * one, and `admin status` can say why), and how many automatic rollback reboots happened since
 * the last good boot (the bound on reboot loops).  Parse and serialize side by side; the file
 * is replaced atomically.
 *
 *   { "version": 1,
 *     "last": { "deployment": "<counter id>", "time": "<ISO 8601>", "result": "green" | "red",
 *               "checks": [ { "name": "10-foo.sh", "kind": "required" | "wanted", "ok": true,
 *                             "status": 0, "signal": null, "ms": 12 } ],
 *               "failures": [ "required check 10-foo.sh failed (exit status 1)" ],
 *               "action": "<what the check did about it>" } | null,
 *     "failed": { "<counter id>": { "time": "<ISO 8601>", "reason": "<why>" } },
 *     "autoReboots": 0 }
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { mkdirp, readFileBounded, writeFileAtomic } from '../../util/fs.js';

export interface CheckResult {
  name: string;
  kind: 'required' | 'wanted';
  ok: boolean;
  /** exit status, or null when killed by a signal or not started */
  status: number | null;
  signal: string | null;
  ms: number;
}

export interface BootVerdict {
  deployment: string;
  time: string;
  result: 'green' | 'red';
  checks: CheckResult[];
  failures: string[];
  action: string;
}

export interface BootCheckRecord {
  version: 1;
  last: BootVerdict | null;
  failed: Record<string, { time: string; reason: string }>;
  autoReboots: number;
}

const RECORD_MAX_BYTES = 256 * 1024;

export function emptyRecord(): BootCheckRecord {
  return { version: 1, last: null, failed: {}, autoReboots: 0 };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseRecord(text: string, source: string): BootCheckRecord {
  const bad = (why: string): never => { throw new OstreeError('ECORRUPT', `${source}: invalid boot check record: ${why}`, { path: source }); };
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return bad((e as Error).message); }
  if (!isObj(v) || v['version'] !== 1) return bad('expected an object with "version": 1');
  const r = emptyRecord();
  if (typeof v['autoReboots'] === 'number' && Number.isSafeInteger(v['autoReboots']) && v['autoReboots'] >= 0) r.autoReboots = v['autoReboots'];
  else if (v['autoReboots'] !== undefined) bad('"autoReboots" is not a count');
  if (v['failed'] !== undefined) {
    if (!isObj(v['failed'])) bad('"failed" is not an object');
    for (const [id, f] of Object.entries(v['failed'] as Record<string, unknown>)) {
      if (!isObj(f) || typeof f['time'] !== 'string' || typeof f['reason'] !== 'string') bad(`"failed" entry ${id} needs "time" and "reason"`);
      r.failed[id] = { time: (f as { time: string }).time, reason: (f as { reason: string }).reason };
    }
  }
  if (v['last'] !== null && v['last'] !== undefined) r.last = parseVerdict(v['last'], bad);
  return r;
}

function parseVerdict(v: unknown, bad: (why: string) => never): BootVerdict {
  if (!isObj(v)) return bad('"last" is not an object');
  const str = (k: string): string => (typeof v[k] === 'string' ? v[k] as string : bad(`"last.${k}" is not a string`));
  const result = str('result');
  if (result !== 'green' && result !== 'red') bad('"last.result" is neither "green" nor "red"');
  if (!Array.isArray(v['checks']) || !Array.isArray(v['failures'])) bad('"last.checks" and "last.failures" must be arrays');
  const checks = (v['checks'] as unknown[]).map((c): CheckResult => {
    if (!isObj(c) || typeof c['name'] !== 'string' || (c['kind'] !== 'required' && c['kind'] !== 'wanted') || typeof c['ok'] !== 'boolean') {
      return bad('a check needs "name", "kind" and "ok"');
    }
    return {
      name: c['name'], kind: c['kind'], ok: c['ok'],
      status: typeof c['status'] === 'number' ? c['status'] : null,
      signal: typeof c['signal'] === 'string' ? c['signal'] : null,
      ms: typeof c['ms'] === 'number' ? c['ms'] : 0,
    };
  });
  const failures = (v['failures'] as unknown[]).map((f) => (typeof f === 'string' ? f : bad('"last.failures" holds a non-string')));
  return { deployment: str('deployment'), time: str('time'), result: result as 'green' | 'red', checks, failures, action: str('action') };
}

export function serializeRecord(r: BootCheckRecord): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/** The record at `file` (an empty one when there is none). */
export function readRecord(file: string): BootCheckRecord {
  const data = readFileBounded(file, RECORD_MAX_BYTES, { what: 'Boot check record' });
  return data === null ? emptyRecord() : parseRecord(data.toString('utf8'), file);
}

export function writeRecord(file: string, r: BootCheckRecord): void {
  mkdirp(path.dirname(file), 0o755);
  writeFileAtomic(file, serializeRecord(r), { mode: 0o644, sync: true });
  const fd = fs.openSync(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}
