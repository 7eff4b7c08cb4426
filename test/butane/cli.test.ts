/**
 * The `butane` command: Butane's options, stdin when no input is named, -o through a temporary
 * name, diagnostics as `input:line:col: error: path: message`, exit 0 / 1 (refused) / 2 (usage).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { bu } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/butane/cli.js', import.meta.url));
let dir: string;

function butane(args: string[], input = '') {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: dir, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const HOSTNAME = bu('1.4.0', 'storage:\n  files:\n    - path: /etc/hostname\n      mode: 0644\n      contents:\n        inline: node1\n');
const HOSTNAME_JSON = '{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"compression":"","source":"data:,node1"},"mode":420}]}}';

before(() => {
  dir = tempDir('butane-cli-');
  fs.writeFileSync(path.join(dir, 'host.bu'), HOSTNAME);
  fs.mkdirSync(path.join(dir, 'files'));
  fs.writeFileSync(path.join(dir, 'files', 'motd'), 'hi\n');
});

test('reads stdin when no input is named, writes one JSON line to stdout', () => {
  const r = butane([], HOSTNAME);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${HOSTNAME_JSON}\n`);
  assert.equal(r.stderr, '');
});

test('INPUT, --pretty and -o FILE (through a temporary name: nothing else is left)', () => {
  const r = butane(['--pretty', '-o', 'out.ign', 'host.bu']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(fs.readFileSync(path.join(dir, 'out.ign'), 'utf8'), `${JSON.stringify(JSON.parse(HOSTNAME_JSON), null, 2)}\n`);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('tmp')), []);
});

test('--files-dir (and -d) lets local: sources in', () => {
  const text = bu('1.4.0', 'storage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd\n');
  for (const flag of [['--files-dir', 'files'], ['-d', 'files'], ['--files-dir=files']]) {
    const r = butane(flag, text);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"source":"data:,hi%0A"/);
  }
  const refused = butane([], text);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /<stdin>:7:16: error: storage\.files\.0\.contents\.local: local file paths are relative to a files directory/);
});

test('an unknown key exits 1 naming the path, line and column; nothing on stdout', () => {
  const r = butane([], bu('1.4.0', 'storage:\n  files:\n    - path: /f\n      mod: 0644\n'));
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '<stdin>:6:7: error: storage.files.0.mod: unknown key\nError translating config: the config is invalid\n');
});

test('warnings go to stderr; --strict makes them fatal', () => {
  const text = bu('1.4.0', 'storage:\n  files:\n    - path: /f\n      mode: 400\n');
  const lax = butane([], text);
  assert.equal(lax.status, 0);
  assert.match(lax.stderr, /<stdin>:6:13: warning: storage\.files\.0\.mode: unreasonable mode/);
  const strict = butane(['--strict'], text);
  assert.equal(strict.status, 1);
  assert.equal(strict.stdout, '');
  assert.match(strict.stderr, /Error translating config: config produced warnings and strict mode is on/);
});

test('--check validates without output', () => {
  const r = butane(['-c', 'host.bu']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '');
});

test('usage errors exit 2; a missing input or unwritable output exits 1', () => {
  assert.equal(butane(['--no-such-flag']).status, 2);
  assert.equal(butane(['a.bu', 'b.bu']).status, 2);
  const missing = butane(['nope.bu']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /failed to open nope\.bu/);
  const unwritable = butane(['-o', 'no/such/dir/out.ign', 'host.bu']);
  assert.equal(unwritable.status, 1);
  assert.match(unwritable.stderr, /failed to write no\/such\/dir\/out\.ign/);
});

test('--help and --version exit 0', () => {
  assert.match(butane(['--help']).stdout, /^Usage: butane \[options\] \[input-file\]/);
  assert.equal(butane(['-V']).status, 0);
});
