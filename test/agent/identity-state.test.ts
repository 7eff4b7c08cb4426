import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appSpecificId, resolveIdentity } from '../../src/agent/identity.js';
import { defaultConfig } from '../../src/agent/config/config.js';
import { countUserSessions } from '../../src/agent/sessions.js';
import { StateFile, emptyState } from '../../src/agent/state.js';
import { isOstreeError } from '../../src/errors.js';
import { tempDir } from '../common/tmp.js';

test('identity: the node UUID is derived from the machine ID (stable, v4-shaped, not the machine ID)', () => {
  const d = tempDir('agent-id-');
  fs.writeFileSync(path.join(d, 'machine-id'), 'a5d3a1f0c4b24d7e9f6b8c2d1e0f3a4b\n');
  const id = resolveIdentity(defaultConfig(), path.join(d, 'machine-id'));
  assert.equal(id.nodeUuid, appSpecificId('a5d3a1f0c4b24d7e9f6b8c2d1e0f3a4b'));
  assert.match(id.nodeUuid, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
  assert.notEqual(id.nodeUuid, 'a5d3a1f0c4b24d7e9f6b8c2d1e0f3a4b');
  assert.ok(id.wariness > 0 && id.wariness <= 1);
  const c = defaultConfig(); c.nodeUuid = 'f'.repeat(32); c.rolloutWariness = 0;
  assert.deepEqual(resolveIdentity(c, '/nonexistent'), { nodeUuid: 'f'.repeat(32), group: 'default', wariness: 0 });
  assert.throws(() => resolveIdentity(defaultConfig(), path.join(d, 'none')), (e: unknown) => isOstreeError(e, 'ECONFIG'));
});

test('sessions: only open user sessions hold a reboot back', () => {
  const d = tempDir('agent-sessions-');
  assert.equal(countUserSessions(path.join(d, 'missing')), 0);
  fs.writeFileSync(path.join(d, '1'), 'CLASS=user\nSTATE=active\n');
  fs.writeFileSync(path.join(d, '2'), 'CLASS=greeter\nSTATE=online\n');
  fs.writeFileSync(path.join(d, '3'), 'CLASS=user\nSTATE=closing\n');
  fs.writeFileSync(path.join(d, '1.ref'), '');
  fs.writeFileSync(path.join(d, 'c4'), 'CLASS=user\nSTATE=online\n');
  assert.equal(countUserSessions(d), 2);
});

test('state: round trip, atomic replacement, corrupt files named', () => {
  const d = tempDir('agent-state-');
  const st = new StateFile(path.join(d, 'st'));
  assert.deepEqual(st.load(), emptyState());
  const s = emptyState();
  s.denylist['a'.repeat(64)] = { version: '3', reason: 'rolled back', time: 'now' };
  st.save(s);
  assert.deepEqual(st.load(), s);
  assert.deepEqual(fs.readdirSync(path.join(d, 'st')), ['state.json']);
  fs.writeFileSync(st.file, '{"version": 2}');
  assert.throws(() => st.load(), (e: unknown) => isOstreeError(e, 'ECORRUPT') && e.message.includes(st.file));
});
