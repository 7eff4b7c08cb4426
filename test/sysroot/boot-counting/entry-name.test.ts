/**
 * Entry names with boot counting, as upstream 2025.3 writes them (its
 * tests/test-admin-boot-counting-tries.sh: one deployment with `sysroot.boot-counting-tries 3`
 * is `ostree-1+3.conf`), and the key's bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bootCountingTries, counterToWrite, entryFileName, parseCounterSuffix } from '../../../src/sysroot/boot-counting/entry-name.js';
import { KeyFile } from '../../../src/glib/keyfile.js';
import { OstreeError } from '../../../src/errors.js';
import { tmpfsScratch, newSysroot, ours, ok } from '../../common/sysroot-helpers.js';

test('names: new entries get the tries, blessed ones none, counted ones keep theirs; off keeps 2022.7 names', () => {
  assert.equal(entryFileName(1, 'os', 3, counterToWrite(undefined, 3)), 'ostree-1+3.conf');
  assert.equal(entryFileName(2, 'os', 3, counterToWrite(null, 3)), 'ostree-2.conf');
  assert.equal(entryFileName(2, 'os', 3, counterToWrite({ left: 1, done: 2 }, 3)), 'ostree-2+1-2.conf');
  assert.equal(entryFileName(2, 'os', 0, counterToWrite({ left: 1, done: 2 }, 0)), 'ostree-2-os.conf');
  assert.deepEqual(parseCounterSuffix('+3'), { left: 3, done: 0 });
  assert.deepEqual(parseCounterSuffix('+0-3'), { left: 0, done: 3 });
  assert.equal(parseCounterSuffix(undefined), null);
});

test('sysroot.boot-counting-tries: 0..5, anything else is ECONFIG in upstream\'s words', () => {
  const kf = (v: string) => KeyFile.parse(`[sysroot]\nboot-counting-tries=${v}\n`, 'config');
  assert.equal(bootCountingTries(undefined), 0);
  assert.equal(bootCountingTries(kf('5')), 5);
  for (const v of ['6', '-1', 'three', '']) {
    assert.throws(() => bootCountingTries(kf(v)), (e: unknown) => e instanceof OstreeError && e.code === 'ECONFIG' && e.message.startsWith('Parsing sysroot.boot-counting-tries'));
  }
});

test('upstream\'s test-admin-boot-counting-tries: one deployment with 3 tries is ostree-1+3.conf', async () => {
  const s = tmpfsScratch('ostree-ts-bcnames-');
  try {
    const { sysroot } = await newSysroot(s.dir, { bootloader: 'syslinux' });
    fs.mkdirSync(path.join(sysroot, 'boot/syslinux'), { recursive: true });
    fs.writeFileSync(path.join(sysroot, 'boot/syslinux/syslinux.cfg'), '');
    const repo = `--repo=${path.join(sysroot, 'ostree/repo')}`;
    ok(ours([repo, 'config', 'set', 'sysroot.boot-counting-tries', '3']));
    assert.equal(ok(ours([repo, 'config', 'get', 'sysroot.boot-counting-tries'])).stdout, '3\n');
    ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--karg=quiet', '--os=testos', 'testos/stable']));
    assert.deepEqual(fs.readdirSync(path.join(sysroot, 'boot/loader/entries')), ['ostree-1+3.conf']);
  } finally {
    s.cleanup();
  }
});
