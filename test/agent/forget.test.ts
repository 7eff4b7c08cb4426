/** `ostree-agent forget RELEASE` (src/agent/forget.ts): the library and the command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { forgetRelease } from '../../src/agent/forget.js';
import { StateFile, emptyState, type AgentState } from '../../src/agent/state.js';
import { isOstreeError } from '../../src/errors.js';
import { tempDir } from '../common/tmp.js';

const AGENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli-agent/main.js');
const P2 = '2'.repeat(64);
const P3 = '3'.repeat(64);
const P4 = '4'.repeat(64);

function sample(): AgentState {
  const s = emptyState();
  s.denylist[P2] = { version: '2', reason: 'rolled back on this node (booted c1 again)', time: '2026-12-01T00:00:00Z' };
  s.denylist[P3] = { version: '3', reason: 'failed its health checks: red', time: '2026-12-02T00:00:00Z' };
  s.fleetBad[P4] = { version: '4', reason: 'reported bad by n1: panic', time: '2026-12-03T00:00:00Z' };
  return s;
}

test('forget: by version or by checksum, only that release; an attempt judged bad on it ends', () => {
  const s = sample();
  s.attempt = { payload: P3, version: '3', from: P2, phase: 'judged-bad', since: 'x' };
  assert.deepEqual(forgetRelease(s, '3').map((g) => g.payload), [P3]);
  assert.deepEqual(Object.keys(s.denylist), [P2]);
  assert.equal(s.attempt, null);
  forgetRelease(s, P2);
  assert.deepEqual(s.denylist, {});
  assert.deepEqual(Object.keys(s.fleetBad), [P4], 'the fleet list is not the node\'s to change');
});

test('forget: an unknown release and a fleet verdict are ENOENT errors that say why', () => {
  const s = sample();
  assert.throws(() => forgetRelease(s, '9'), (e: unknown) => isOstreeError(e, 'ENOENT') && /release 9 is not on this node's denylist \(denied here: 2, 3\)/.test((e as Error).message));
  assert.throws(() => forgetRelease(s, '4'), (e: unknown) => isOstreeError(e, 'ENOENT') && /refused by the fleet .* lock server/.test((e as Error).message));
  assert.throws(() => forgetRelease(emptyState(), '2'), /\(it is empty\)/);
  assert.deepEqual(Object.keys(s.denylist).sort(), [P2, P3], 'nothing changed');
});

test('forget: the command edits state.json atomically, refuses unknown releases with exit 1', () => {
  const d = tempDir('agent-forget-');
  const st = new StateFile(path.join(d, 'state'));
  st.save(sample());
  const run = (...args: string[]) => spawnSync(process.execPath, [AGENT, '--state-dir', st.dir, 'forget', ...args], { encoding: 'utf8' });
  let r = run('3');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `forgot 3 (${P3}): failed its health checks: red\n`);
  assert.deepEqual(Object.keys(st.load().denylist), [P2]);
  r = run('3');
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'error: release 3 is not on this node\'s denylist (denied here: 2)\n');
  assert.equal(r.stdout, '');
  r = run();
  assert.notEqual(r.status, 0, 'a release is required');
  assert.match(r.stderr, /missing required argument/);
  assert.deepEqual(fs.readdirSync(st.dir).sort(), ['lock', 'state.json'], 'no temporary file left');
  fs.writeFileSync(st.file, '{"version": 7}');
  r = run('2');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*state\.json: invalid agent state/);
});
