/**
 * Scalar typing as Butane's Go YAML decoder does it: octal modes with a leading zero, YAML 1.1
 * booleans in boolean fields, quoted numbers refused for integers, any scalar as a string.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bu, errorAt, ok, refused } from './helpers.js';

function fileMode(written: string): unknown {
  const r = ok(bu('1.4.0', `storage:\n  files:\n    - path: /f\n      mode: ${written}\n`));
  return ((r.config.storage as { files: { mode: unknown }[] }).files[0]!).mode;
}

test('mode 0644 is octal 420, as Butane reads it (a YAML 1.2 parser would read 644)', () => {
  assert.equal(fileMode('0644'), 420);
  assert.equal(fileMode('0755'), 493);
  assert.equal(fileMode('00'), 0);
});

test('other integer spellings of Go: 0o, 0x, 0b, underscores, decimal', () => {
  assert.equal(fileMode('0o644'), 420);
  assert.equal(fileMode('0x1A4'), 420);
  assert.equal(fileMode('0b110100100'), 420);
  assert.equal(fileMode('0_644'), 420);
  assert.equal(fileMode('420'), 420);
  // not octal (8 is no octal digit): read as a float, then truncated, as yaml.v3 does
  assert.equal(fileMode('0648'), 648);
});

test('a quoted mode is a string, refused for an integer field', () => {
  const d = errorAt(refused(bu('1.4.0', 'storage:\n  files:\n    - path: /f\n      mode: "0644"\n')), 'storage.files.0.mode');
  assert.match(d.message, /expected an integer, got the quoted string "0644"/);
  assert.equal(d.line, 6);
  assert.equal(d.column, 13);
});

test('a word for an integer field is refused', () => {
  assert.match(errorAt(refused(bu('1.4.0', 'passwd:\n  users:\n    - name: a\n      uid: lots\n')), 'passwd.users.0.uid').message, /expected an integer, got "lots"/);
});

function enabled(written: string): unknown {
  const r = ok(bu('1.4.0', `systemd:\n  units:\n    - name: a.service\n      enabled: ${written}\n`));
  return ((r.config.systemd as { units: { enabled: unknown }[] }).units[0]!).enabled;
}

test('booleans: true/false and the YAML 1.1 words yes/no/on/off', () => {
  for (const t of ['true', 'True', 'TRUE', 'yes', 'Yes', 'on', 'ON', 'y', '"yes"']) assert.equal(enabled(t), true, t);
  for (const f of ['false', 'False', 'no', 'NO', 'off', 'n']) assert.equal(enabled(f), false, f);
});

test('a quoted "true" and other words are refused for a boolean field', () => {
  for (const bad of ['"true"', 'maybe', '1']) {
    assert.match(errorAt(refused(bu('1.4.0', `systemd:\n  units:\n    - name: a.service\n      enabled: ${bad}\n`)), 'systemd.units.0.enabled').message, /expected true or false/, bad);
  }
});

test('string fields take numbers and booleans as written', () => {
  const r = ok(bu('1.4.0', 'passwd:\n  users:\n    - name: 0644\n      shell: yes\n      gecos: 1.50\n'));
  const user = (r.config.passwd as { users: Record<string, unknown>[] }).users[0]!;
  assert.equal(user.name, '0644');
  assert.equal(user.shell, 'yes');
  assert.equal(user.gecos, '1.50');
});

test('null and empty values mean "not set"', () => {
  const r = ok(bu('1.4.0', 'storage:\n  files:\n    - path: /f\n      mode: ~\n      overwrite: null\n      contents:\n'));
  assert.deepEqual((r.config.storage as { files: unknown[] }).files[0], { path: '/f' });
});

test('anchors, aliases and merge keys are followed; keys written beside a merge win', () => {
  const yaml = [
    'storage:',
    '  files:',
    '    - &base',
    '      path: /a',
    '      mode: 0600',
    '      user: {name: core}',
    '    - <<: *base',
    '      path: /b',
    '    - path: /c',
    '      mode: 0640',
    '',
  ].join('\n');
  const files = (ok(bu('1.4.0', yaml)).config.storage as { files: unknown[] }).files;
  assert.deepEqual(files[1], { path: '/b', user: { name: 'core' }, mode: 0o600 });
  assert.deepEqual(files[2], { path: '/c', mode: 0o640 });
});
