/**
 * The driver-state file (src/agent/driver-state.ts, driver-report.ts): the format both sides
 * share, the lines the status commands print, and a stale or hostile file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { driverStatePath, driverStatusLines, parseDriverState, serializeDriverState, type DriverState } from '../../src/agent/driver-state.js';
import { driverText, writeDriverState } from '../../src/agent/driver-report.js';
import type { CycleReport } from '../../src/agent/agent.js';

const base: CycleReport = { time: '2026-12-06T17:40:00.000Z', phase: 'no-update', booted: 'c1', waitingFor: null, target: null, deadend: null, skipped: [], denylist: [], events: [], error: null };
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'driver-state-'));

test('driver state: serialize and parse give the same state back', () => {
  const s: DriverState = { version: 1, driver: 'ostree-agent', pid: 42, phase: 'staged', text: 'update 2 staged', last_checked: base.time };
  assert.deepEqual(parseDriverState(serializeDriverState(s)), s);
  assert.deepEqual(parseDriverState(serializeDriverState({ ...s, pid: null })), { ...s, pid: null });
});

test('driver state: malformed files are reported, not thrown', () => {
  const good = { version: 1, driver: 'ostree-agent', pid: 1, phase: 'idle', text: 't', last_checked: 'x' };
  for (const [text, why] of [
    ['{', /not JSON/], ['[]', /not a JSON object/], [JSON.stringify({ ...good, version: 2 }), /unknown version 2/],
    [JSON.stringify({ ...good, pid: -3 }), /pid/], [JSON.stringify({ ...good, pid: '7' }), /pid/],
    [JSON.stringify({ ...good, text: 'two\nlines' }), /one-line strings/], [JSON.stringify({ ...good, phase: undefined }), /one-line strings/],
  ] as const) {
    const r = parseDriverState(text);
    assert.ok('invalid' in r, text);
    assert.match(r.invalid, why);
  }
});

test('driver status lines: none without the file; active, inactive and unknown with it', () => {
  const run = tmp();
  assert.equal(driverStatusLines(run), '');
  const rep: CycleReport = { ...base, phase: 'staged', target: { version: '2', payload: 'c2' }, waitingFor: 'the next update window (2026-12-09T03:00:00.000Z)' };
  writeDriverState(run, rep, process.pid);
  assert.equal(driverStatusLines(run),
    'AutomaticUpdatesDriver: ostree-agent\n  DriverState: active; update 2 staged; waiting for the next update window (2026-12-09T03:00:00.000Z) (last checked Sun 2026-12-06 17:40:00 UTC)\n');
  // a daemon that has exited
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeDriverState(run, base, Number(gone.stdout));
  assert.match(driverStatusLines(run), /^ {2}DriverState: inactive; periodically polling for updates \(last checked Sun 2026-12-06 17:40:00 UTC\)$/m);
  fs.writeFileSync(driverStatePath(run), 'garbage');
  assert.match(driverStatusLines(run), /^ {2}DriverState: unknown \(.*driver-state\.json: not JSON/m);
  fs.rmSync(driverStatePath(run));
  fs.mkdirSync(driverStatePath(run));
  assert.match(driverStatusLines(run), /^ {2}DriverState: unknown \(.*not a regular file/m);
  fs.rmSync(run, { recursive: true });
});

test('driver state: a one-shot cycle keeps the daemon\'s pid; without a daemon it names none', () => {
  const run = tmp();
  writeDriverState(run, base, 'keep');
  assert.equal((parseDriverState(fs.readFileSync(driverStatePath(run), 'utf8')) as DriverState).pid, null);
  assert.match(driverStatusLines(run), /DriverState: inactive; /);
  writeDriverState(run, base, process.pid);
  writeDriverState(run, { ...base, phase: 'staged', target: { version: '2', payload: 'c2' } }, 'keep');
  const s = parseDriverState(fs.readFileSync(driverStatePath(run), 'utf8')) as DriverState;
  assert.equal(s.pid, process.pid);
  assert.equal(s.phase, 'staged');
  assert.deepEqual(fs.readdirSync(path.dirname(driverStatePath(run))), ['driver-state.json'], 'no temporary file left');
  fs.rmSync(run, { recursive: true });
});

test('driver text: one line per phase, Zincati\'s wording where it has one', () => {
  assert.equal(driverText(base), 'periodically polling for updates (last checked Sun 2026-12-06 17:40:00 UTC)');
  assert.equal(driverText({ ...base, phase: 'disabled' }), 'updates disabled by the configuration (last checked Sun 2026-12-06 17:40:00 UTC)');
  assert.equal(driverText({ ...base, phase: 'staged', target: { version: '7', payload: 'c' } }), 'update 7 staged; reboot pending (last checked Sun 2026-12-06 17:40:00 UTC)');
  assert.equal(driverText({ ...base, phase: 'rebooting', target: { version: '7', payload: 'c' } }), 'rebooting into 7');
  assert.equal(driverText({ ...base, phase: 'error', error: 'GET x: refused\nsecond line' }), 'last check failed: GET x: refused second line (last checked Sun 2026-12-06 17:40:00 UTC)');
  assert.equal(driverText({ ...base, deadend: 'migrate by hand' }), 'periodically polling for updates; the booted release is a dead end (last checked Sun 2026-12-06 17:40:00 UTC)');
});
