/**
 * The generated grub.cfg with boot counting, checked by GRUB's own parser (`grub-script-check`,
 * GRUB 2.06): every case of the countdown is there, the fallback is entry 1, and a config
 * without a counted default (or without an entry to fall back to) has no counting at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Grub2Bootloader } from '../../../src/sysroot/bootloader/grub2.js';
import { countingScript } from '../../../src/sysroot/bootloader/grub2-counting.js';
import type { BootMenuEntry } from '../../../src/sysroot/bootloader/types.js';
import { tempDir } from '../../common/tmp.js';

const dir = tempDir('ostree-ts-grubcfg-');

function scriptCheck(text: string): { status: number; out: string } {
  const f = path.join(dir, `cfg-${Math.random().toString(16).slice(2)}`);
  fs.writeFileSync(f, text);
  const r = spawnSync('grub-script-check', [f], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

const entry = (n: number, counter?: BootMenuEntry['counter']): BootMenuEntry => ({
  title: `Debian ${n} (ostree:${n})`, linux: `/ostree/debian-${n}/vmlinuz`, initrds: [`/ostree/debian-${n}/initramfs.img`],
  options: `root=LABEL=r ostree=/ostree/boot.1/debian/${n}/0`, ...(counter ? { counter } : {}),
});

test('grub-script-check can fail: a broken script is rejected (the checks below mean something)', () => {
  assert.notEqual(scriptCheck('if [ a = b ]; then\n echo x\n').status, 0);
});

for (const tries of [1, 3, 5]) {
  test(`grub.cfg counting ${tries} tries passes grub-script-check and counts down case by case`, () => {
    const id = `debian/${'a'.repeat(64)}.0`;
    const cfg = Grub2Bootloader.generate([entry(0, { id, tries }), entry(1)], '/boot', 3, 1, '/boot/grub/grubenv');
    const r = scriptCheck(cfg);
    assert.equal(r.status, 0, r.out);
    assert.match(cfg, /^load_env --skip-sig --file '\/boot\/grub\/grubenv' ostree_bc_id ostree_bc_left$/m);
    assert.match(cfg, new RegExp(`^if \\[ "\\$ostree_bc_id" != '${id.replace(/[./]/g, '\\$&')}' \\]; then\\n\\tset ostree_bc_id='[^']+'\\n\\tset ostree_bc_left='${tries}'\\nfi$`, 'm'));
    for (let n = 5; n >= 1; n--) assert.match(cfg, new RegExp(`elif \\[ "\\$ostree_bc_left" = '${n}' \\]; then\\n\\tset ostree_bc_left='${n - 1}'`));
    assert.match(cfg, /^else\n\tset ostree_bc_left='0'\n\tset default=1\n/m);
    assert.match(cfg, /^\tsave_env --file '\/boot\/grub\/grubenv' ostree_bc_id ostree_bc_left$/m);
    // the counting runs before the first menuentry, after `default=0`
    assert.ok(cfg.indexOf('default=0') < cfg.indexOf('load_env') && cfg.indexOf('save_env') < cfg.indexOf('menuentry'));
  });
}

test('no counting: no counted default, or no entry to fall back to', () => {
  assert.equal(countingScript([entry(0), entry(1)], '/g'), '');
  assert.equal(countingScript([entry(0, { id: 'x/y.0', tries: 3 })], '/g'), '');
  const cfg = Grub2Bootloader.generate([entry(0), entry(1)], '', 3, 0);
  assert.doesNotMatch(cfg, /load_env|save_env/);
  assert.equal(scriptCheck(cfg).status, 0);
});

test('an id with quotes stays one GRUB word', () => {
  const cfg = Grub2Bootloader.generate([entry(0, { id: "we'ird/x.0", tries: 2 }), entry(1)], '/boot', 3, 1, "/bo'ot/grubenv");
  const r = scriptCheck(cfg);
  assert.equal(r.status, 0, r.out);
  assert.match(cfg, /set ostree_bc_id='we'\\''ird\/x\.0'/);
});
