import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyFile } from '../../src/glib/keyfile.js';
import { OstreeError } from '../../src/errors.js';

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

test('escapes: newline, tab, backslash and a leading space survive a round trip', () => {
  const kf = new KeyFile();
  kf.set('g', 'k', ' lead\tmid\\end\nnext');
  const text = kf.toString();
  assert.equal(text, '[g]\nk=\\slead\\tmid\\\\end\\nnext\n');
  assert.equal(KeyFile.parse(text).get('g', 'k'), ' lead\tmid\\end\nnext');
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
