import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mergeConfig, checkUsable } from '../../src/agent/config/config.js';
import { readFragments, parseFragment } from '../../src/agent/config/fragments.js';
import { isOstreeError } from '../../src/errors.js';
import { tempDir } from '../common/tmp.js';

function put(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

test('config: fragments merge in name order, later directories shadow same-named files, Zincati fragments first', () => {
  const root = tempDir('agent-config-');
  put(root, 'usr/lib/ostree-agent/config.d/10-base.toml', '[identity]\ngroup = "workers"\n[cincinnati]\nbase_url = "http://lib/"\n[updates]\nstrategy = "periodic"\n');
  put(root, 'etc/ostree-agent/config.d/10-base.toml', '[cincinnati]\nbase_url = "http://etc/"\n');
  put(root, 'etc/ostree-agent/config.d/20-win.toml', '[[updates.periodic.window]]\ndays = ["Sat", "Sun"]\nstart_time = "22:30"\nlength_minutes = 60\n');
  put(root, 'run/ostree-agent/config.d/30-win.toml', '[updates.periodic]\ntime_zone = "Europe/Rome"\n[[updates.periodic.window]]\ndays = ["Wed"]\nstart_time = "01:00"\nlength_minutes = 30\n');
  put(root, 'etc/zincati/config.d/55-zincati.toml', '[identity]\ngroup = "from-zincati"\nrollout_wariness = 0.25\n[agent.timing]\nsteady_interval_secs = 35\n[updates]\nstrategy = "fleet_lock"\n[updates.fleet_lock]\nbase_url = "http://lock:3333/"\n');
  put(root, 'etc/ostree-agent/config.d/README', 'not toml');
  const c = mergeConfig(readFragments(root));
  // usr/lib's 10-base.toml is shadowed entirely by etc's: its group is gone, zincati's stays
  assert.equal(c.group, 'from-zincati');
  assert.equal(c.cincinnatiBaseUrl, 'http://etc/');
  assert.equal(c.rolloutWariness, 0.25);
  assert.equal(c.steadyIntervalSecs, 35);
  assert.deepEqual(c.strategies, ['fleet_lock']);
  assert.equal(c.fleetLockBaseUrl, 'http://lock:3333/');
  assert.equal(c.timeZone, 'Europe/Rome');
  // windows accumulate across fragments
  assert.deepEqual(c.windows, [{ days: [5, 6], startMinute: 22 * 60 + 30, lengthMinutes: 60 }, { days: [2], startMinute: 60, lengthMinutes: 30 }]);
  assert.doesNotThrow(() => checkUsable(c));
});

test('config: strategies compose, pin and sessions keys, defaults', () => {
  const c = mergeConfig([parseFragment('[updates]\nstrategy = "periodic+fleet_lock"\nmax_release = "41.1"\nreboot_with_active_sessions = true\nenabled = false\n', 'x.toml')]);
  assert.deepEqual(c.strategies, ['periodic', 'fleet_lock']);
  assert.equal(c.maxRelease, '41.1');
  assert.equal(c.rebootWithActiveSessions, true);
  assert.equal(c.enabled, false);
  const a = mergeConfig([parseFragment('[updates]\nstrategy = ["immediate", "fleet_lock"]\n', 'y.toml')]);
  assert.deepEqual(a.strategies, ['fleet_lock']);
  const d = mergeConfig([]);
  assert.equal(d.steadyIntervalSecs, 300);
  assert.equal(d.group, 'default');
  assert.deepEqual(d.strategies, ['immediate']);
  assert.throws(() => checkUsable(mergeConfig([parseFragment('[updates]\nstrategy = "fleet_lock"\n[cincinnati]\nbase_url="http://x/"\n', 'z.toml')])), /fleet_lock needs updates.fleet_lock.base_url/);
});

test('config: bad values are ECONFIG errors naming the file and key', () => {
  const bad: Array<[string, RegExp]> = [
    ['[identity]\nrollout_wariness = 1.5\n', /identity.rollout_wariness/],
    ['[identity]\nnode_uuid = "xyz"\n', /identity.node_uuid/],
    ['[agent.timing]\nsteady_interval_secs = 0\n', /steady_interval_secs/],
    ['[updates]\nstrategy = "sometimes"\n', /updates.strategy.*sometimes/],
    ['[[updates.periodic.window]]\ndays = ["Funday"]\nstart_time = "10:00"\nlength_minutes = 5\n', /window\[0\].*Funday/],
    ['[[updates.periodic.window]]\ndays = ["Mon"]\nstart_time = "24:00"\nlength_minutes = 5\n', /window\[0\].*start_time/],
    ['[[updates.periodic.window]]\ndays = ["Mon"]\nstart_time = "10:00"\nlength_minutes = 0\n', /length_minutes/],
    ['[cincinnati]\nbase_url = 3\n', /cincinnati.base_url/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => mergeConfig([parseFragment(text, '/etc/ostree-agent/config.d/50.toml')]),
      (e: unknown) => isOstreeError(e, 'ECONFIG') && re.test(e.message) && e.message.startsWith('/etc/ostree-agent/config.d/50.toml'), text);
  }
  assert.throws(() => parseFragment('[identity\n', 'broken.toml'), (e: unknown) => isOstreeError(e, 'ECONFIG') && /broken.toml: invalid TOML/.test(e.message));
});
