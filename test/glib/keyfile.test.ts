import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { KeyFile, KEYFILE_MAX_BYTES } from '../../src/glib/keyfile.js';
import { OstreeError } from '../../src/errors.js';
import { tempDir } from '../common/tmp.js';

test('origin file with a transient group round-trips byte for byte (as g_key_file_to_data writes it)', () => {
  const text = '[origin]\nrefspec=emu:emu/stable\n\n[libostree-transient]\npinned=true\n';
  const kf = KeyFile.parse(text);
  assert.equal(kf.get('origin', 'refspec'), 'emu:emu/stable');
  assert.equal(kf.getBoolean('libostree-transient', 'pinned', false), true);
  assert.equal(kf.toString(), text);
});

test('repo config with quoted, dotted remote names keeps group names and order', () => {
  const text = '[core]\nrepo_version=1\nmode=bare\n\n[remote "te.st"]\nurl=file:///x\ngpg-verify=false\n\n[sysroot]\nbls-append-except-default=grub_users=""\n';
  const kf = KeyFile.parse(text);
  assert.deepEqual(kf.groupNames(), ['core', 'remote "te.st"', 'sysroot']);
  assert.equal(kf.get('sysroot', 'bls-append-except-default'), 'grub_users=""');
  assert.equal(kf.toString(), text);
});

test('set adds groups and keys at the end; removeGroup and removeKey drop them', () => {
  const kf = KeyFile.parse('[origin]\nrefspec=a\n');
  kf.set('libostree-transient', 'pinned', 'true');
  kf.set('origin', 'unlocked', 'hotfix');
  assert.equal(kf.toString(), '[origin]\nrefspec=a\nunlocked=hotfix\n\n[libostree-transient]\npinned=true\n');
  kf.removeGroup('libostree-transient');
  kf.removeKey('origin', 'unlocked');
  assert.equal(kf.toString(), '[origin]\nrefspec=a\n');
});

test('escapes: tab, backslash and a leading space survive a round trip; an escaped newline is read', () => {
  const kf = new KeyFile();
  kf.set('g', 'k', ' lead\tmid\\end');
  const text = kf.toString();
  assert.equal(text, '[g]\nk=\\slead\\tmid\\\\end\n');
  assert.equal(KeyFile.parse(text).get('g', 'k'), ' lead\tmid\\end');
  // a file written by GLib may hold an escaped newline: it is read, and written back escaped
  const other = KeyFile.parse('[g]\nk=a\\nb\n');
  assert.equal(other.get('g', 'k'), 'a\nb');
  assert.equal(other.toString(), '[g]\nk=a\\nb\n');
});

for (const [what, group, key, value] of [
  ['a newline in a value', 'g', 'k', 'a\nb'],
  ['a carriage return in a value', 'g', 'k', 'a\rb'],
  ['a NUL in a value', 'g', 'k', 'a\0b'],
  ['a newline in a key', 'g', 'k\nx', 'v'],
  ['a NUL in a key', 'g', 'k\0', 'v'],
  ["'=' in a key", 'g', 'k=x', 'v'],
  ["'[' in a key", 'g', 'k[x', 'v'],
  ['an empty key', 'g', '', 'v'],
  ["a key starting with '#'", 'g', '#k', 'v'],
  ["']' in a group name", 'g]x', 'k', 'v'],
  ['a newline in a group name', 'g\n[h', 'k', 'v'],
  ['an empty group name', '', 'k', 'v'],
] as const) {
  test(`set refuses ${what} (EINVAL), leaving the file unchanged`, () => {
    const kf = KeyFile.parse('[origin]\nrefspec=a\n');
    assert.throws(() => kf.set(group, key, value), (e: unknown) => e instanceof OstreeError && e.code === 'EINVAL' && /Invalid key file/.test(e.message));
    assert.equal(kf.toString(), '[origin]\nrefspec=a\n');
  });
}

test('a key file larger than the bound is refused before it is read or parsed', () => {
  const dir = tempDir('kf-');
  try {
    const p = path.join(dir, 'config');
    fs.writeFileSync(p, '[core]\n' + '#'.repeat(KEYFILE_MAX_BYTES) + '\n');
    assert.throws(() => KeyFile.readFile(p), (e: unknown) => e instanceof OstreeError && e.message.includes(p) && /limit/.test(e.message));
    assert.throws(() => KeyFile.parse('#'.repeat(KEYFILE_MAX_BYTES + 1)), /larger than the limit/);
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    assert.throws(() => KeyFile.readFile(path.join(dir, 'fifo')), /not a regular file/);
    assert.equal(KeyFile.readFile(path.join(dir, 'missing')), null);
    fs.writeFileSync(p, '[core]\nmode=bare\n');
    assert.equal(KeyFile.readFile(p)?.get('core', 'mode'), 'bare');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('string lists parse and serialize with trailing semicolons', () => {
  const kf = new KeyFile();
  kf.setList('packages', 'requested', ['vim', 'a;b']);
  assert.equal(kf.get('packages', 'requested'), 'vim;a\\;b;');
  assert.deepEqual(KeyFile.parse(kf.toString()).getList('packages', 'requested'), ['vim', 'a;b']);
});

test('comments before a group are kept', () => {
  const text = '# made by hand\n[core]\nmode=bare\n';
  assert.equal(KeyFile.parse(text).toString(), text);
});

for (const [name, text] of [
  ['a key outside any group', 'refspec=x\n'],
  ['a malformed group header', '[origin\nrefspec=x\n'],
  ['a line without =', '[origin]\nrefspec\n'],
  ['an invalid escape', '[origin]\nrefspec=a\\qb\n'],
  ['a boolean that is not a boolean', '[libostree-transient]\npinned=maybe\n'],
] as const) {
  test(`bad key file: ${name} gives ECONFIG naming the line`, () => {
    assert.throws(
      () => {
        const kf = KeyFile.parse(text, 'test.origin');
        kf.getBoolean('libostree-transient', 'pinned', false);
      },
      (e: unknown) => e instanceof OstreeError && e.code === 'ECONFIG' && /test\.origin|pinned/.test(e.message),
    );
  });
}
