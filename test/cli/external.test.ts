/**
 * src/cli/external.ts: `ostree FOO` runs `ostree-FOO` from $PATH (upstream's CLI extensions) with
 * the remaining arguments and hands back its exit status; known verbs and names that could
 * escape a PATH directory are never looked up; `trivial-httpd` is libostree's helper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { externalProgram } from '../../src/cli/external.js';
import { tempDir } from '../common/tmp.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

function withExtension(dir: string, name: string, body: string): string {
  const file = path.join(dir, `ostree-${name}`);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

test('an unknown verb runs ostree-VERB from PATH with the rest of the arguments and its exit status', () => {
  const dir = tempDir('ext-');
  withExtension(dir, 'hello', 'echo "args:$*"; exit 3');
  const r = spawnSync(process.execPath, [cli, 'hello', 'a', '--b'], { env: { ...process.env, PATH: `${dir}:${process.env['PATH']}` }, encoding: 'utf8' });
  assert.equal(r.stdout, 'args:a --b\n');
  assert.equal(r.status, 3);
});

test('known verbs, path-like names and missing programs are not external', () => {
  const dir = tempDir('ext-');
  withExtension(dir, 'log', 'exit 0');
  const saved = process.env['PATH'];
  process.env['PATH'] = dir;
  try {
    assert.equal(externalProgram('log', (v) => v === 'log'), null);
    assert.equal(externalProgram('../log', () => false), null);
    assert.equal(externalProgram('nosuchcommand', () => false), null);
    assert.equal(externalProgram('log', () => false), path.join(dir, 'ostree-log'));
  } finally {
    process.env['PATH'] = saved;
  }
});

test('an unknown verb without an extension is a usage error naming it', () => {
  const r = spawnSync(process.execPath, [cli, 'nosuchcommand'], { env: { ...process.env, PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Unknown command 'nosuchcommand'/);
});

test('trivial-httpd is libostree\'s helper (package ostree, installed by make deps)', () => {
  assert.equal(externalProgram('trivial-httpd', () => false), '/usr/libexec/libostree/ostree-trivial-httpd');
});
