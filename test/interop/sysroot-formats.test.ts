/**
 * Upstream `ostree` (2022.7) as the oracle for the sysroot format helpers:
 *  - diffEtc/formatConfigDiff vs `ostree diff --no-xattrs DIR DIR` (same ostree_diff_dirs walk and
 *    the same `X    relpath` printing as `ostree admin config-diff`), on the host filesystem where
 *    readdir order is hash order, including a directory with more than 1000 entries (GIO sorts
 *    each batch of 1000 by inode);
 *  - the staged-deployment record vs `ostree show --print-variant-type='a{sv}'` (GLib's decoder
 *    and printer), which must print exactly what the notes recorded for the real file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffEtc, formatConfigDiff } from '../../src/sysroot/etc-merge.js';
import { encodeStagedRecord } from '../../src/sysroot/formats/staged-record.js';

const OSTREE = '/usr/bin/ostree';

async function scratch(fn: (d: string) => Promise<void>): Promise<void> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'sysroot-formats-interop-'));
  try { await fn(d); } finally { await fsp.rm(d, { recursive: true, force: true }); }
}

function upstreamDiff(d: string, a: string, b: string): string {
  return execFileSync(OSTREE, ['diff', `--repo=${path.join(d, 'repo')}`, '--no-xattrs', a, b], { encoding: 'utf8' });
}

async function w(p: string, content: string): Promise<void> {
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, content);
}

test('interop: diffEtc output equals `ostree diff --no-xattrs` (order included)', async () => {
  await scratch(async (d) => {
    execFileSync(OSTREE, ['init', `--repo=${path.join(d, 'repo')}`, '--mode=bare-user-only']);
    const a = path.join(d, 'a'), b = path.join(d, 'b');
    // defaults: a mix of files, dirs, links
    const names = Array.from({ length: 40 }, (_, i) => `f${(i * 7919) % 97}.conf`); // creation order ≠ name order
    for (const [i, n] of names.entries()) await w(path.join(a, n), `default ${i}\n`);
    for (const dir of ['NetworkManager', 'systemd/system', 'ssh', 'x/y/z']) await w(path.join(a, dir, 'main.conf'), `${dir}\n`);
    await fsp.symlink('../usr/lib/os-release', path.join(a, 'os-release'));
    await fsp.symlink('systemd/system', path.join(a, 'sdlink'));
    await fsp.mkdir(path.join(a, 'emptydir'));
    // a directory with more than one GIO batch of entries
    for (let i = 0; i < 1300; i++) await w(path.join(a, 'many', `entry-${i}`), `${i}\n`);
    execFileSync('cp', ['-a', a, b]);
    // admin changes
    await fsp.writeFile(path.join(b, names[3]!), 'edited\n');
    await fsp.chmod(path.join(b, names[5]!), 0o600);
    await fsp.rm(path.join(b, names[8]!));
    await fsp.rm(path.join(b, 'x'), { recursive: true });
    await fsp.unlink(path.join(b, 'os-release'));
    await w(path.join(b, 'os-release'), 'now a file\n');
    await fsp.unlink(path.join(b, 'sdlink'));
    await fsp.symlink('elsewhere', path.join(b, 'sdlink'));
    await fsp.chmod(path.join(b, 'ssh'), 0o700);
    await w(path.join(b, 'ssh/local_key'), 'k\n');
    await fsp.chown(path.join(b, 'NetworkManager/main.conf'), 1000, 1000);
    await w(path.join(b, 'localdir/sub/deeper/file'), 'x\n');
    await fsp.symlink('/nonexistent', path.join(b, 'dangling'));
    await fsp.rm(path.join(b, 'emptydir'), { recursive: true });
    await w(path.join(b, 'emptydir'), 'dir became a file\n');
    for (let i = 0; i < 1300; i += 97) await fsp.writeFile(path.join(b, 'many', `entry-${i}`), 'changed\n');
    for (let i = 5; i < 1300; i += 131) await fsp.rm(path.join(b, 'many', `entry-${i}`));
    for (let i = 0; i < 1100; i++) await w(path.join(b, 'many', `added-${i}`), 'new\n');
    execFileSync('mkfifo', [path.join(b, 'a-fifo')]);

    const ours = formatConfigDiff(await diffEtc(a, b));
    const theirs = upstreamDiff(d, a, b);
    assert.ok(theirs.split('\n').length > 100, 'the oracle produced a substantial diff');
    assert.equal(ours, theirs);
    // and the reverse direction (everything added becomes removed, and vice versa)
    assert.equal(formatConfigDiff(await diffEtc(b, a)), upstreamDiff(d, b, a));
  });
});

test('interop: GLib decodes the staged-deployment record exactly as recorded from upstream', async () => {
  await scratch(async (d) => {
    execFileSync(OSTREE, ['init', `--repo=${path.join(d, 'repo')}`, '--mode=bare-user-only']);
    const bootcsum = '371d424e07c85509b083950024d70d64b1bd9a80198186eb79b9aa50573529cc';
    const buf = encodeStagedRecord({
      target: { name: 'f99fa5f9d7e621e54a39b2197c91f17da4b0487b7e01c5cfd91bd5b10a30a548.0', osname: 'emu', bootcsum },
      mergeDeployment: { name: '15b634d782ad567b25c0b572b2d80a9dc1d14418506db0133c208086b5037df3.0', osname: 'emu', bootcsum },
    });
    assert.equal(buf.length, 418);
    const f = path.join(d, 'staged-deployment');
    await fsp.writeFile(f, buf);
    const printed = execFileSync(OSTREE, ['show', `--repo=${path.join(d, 'repo')}`, '--print-variant-type=a{sv}', f], { encoding: 'utf8' });
    assert.equal(printed.trim(),
      "{'target': <{'name': <'f99fa5f9d7e621e54a39b2197c91f17da4b0487b7e01c5cfd91bd5b10a30a548.0'>, 'osname': <'emu'>, " +
      "'bootcsum': <'371d424e07c85509b083950024d70d64b1bd9a80198186eb79b9aa50573529cc'>}>, 'merge-deployment': " +
      "<{'name': <'15b634d782ad567b25c0b572b2d80a9dc1d14418506db0133c208086b5037df3.0'>, 'osname': <'emu'>, " +
      "'bootcsum': <'371d424e07c85509b083950024d70d64b1bd9a80198186eb79b9aa50573529cc'>}>}");
    const withKargs = encodeStagedRecord({
      target: { name: 'f'.repeat(64) + '.2', osname: 'emu', bootcsum },
      kargs: ['root=LABEL=ROOT', `ostree=/ostree/boot.1/emu/${bootcsum}/1`, 'console=ttyS0'],
    });
    await fsp.writeFile(f, withKargs);
    const printed2 = execFileSync(OSTREE, ['show', `--repo=${path.join(d, 'repo')}`, '--print-variant-type=a{sv}', f], { encoding: 'utf8' });
    assert.match(printed2, new RegExp(`'kargs': <\\['root=LABEL=ROOT', 'ostree=/ostree/boot.1/emu/${bootcsum}/1', 'console=ttyS0'\\]>`));
  });
});
