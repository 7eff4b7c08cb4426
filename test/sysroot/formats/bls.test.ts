import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import koffi from 'koffi';
import {
  BlsEntry, blsEntryFileName, blsEntryFileNameNew, parseBlsEntryFileName, strverscmp,
  compareBlsEntriesDescending, readBlsEntries, parseOstreeBootlink, formatOstreeBootlink,
  writeBlsEntry, parseBlsEntryFile,
} from '../../../src/sysroot/formats/bls.js';
import { isOstreeError } from '../../../src/errors.js';

const CSUM = '7bd091ad6955c0e7ef41bab65adb016275664b55efc0d10a0c8cb263da3c1e4e';
const OBSERVED = `title TestOS 42 1.0.10 (ostree:0)
version 1
options root=LABEL=MOO quiet ostree=/ostree/boot.1/testos/${CSUM}/0
linux /ostree/testos-${CSUM}/vmlinuz-3.6.0
initrd /ostree/testos-${CSUM}/initramfs-3.6.0.img
`;

test('bls: observed upstream entry round-trips byte for byte', () => {
  const e = BlsEntry.parse(OBSERVED, 'ostree-1-testos.conf');
  assert.equal(e.title, 'TestOS 42 1.0.10 (ostree:0)');
  assert.equal(e.version, '1');
  assert.equal(e.linux, `/ostree/testos-${CSUM}/vmlinuz-3.6.0`);
  assert.equal(e.initrd, `/ostree/testos-${CSUM}/initramfs-3.6.0.img`);
  assert.equal(e.ostreeArg(), `/ostree/boot.1/testos/${CSUM}/0`);
  assert.equal(e.serialize(), OBSERVED);
  assert.equal(BlsEntry.parse(Buffer.from(OBSERVED), 'x').serialize(), OBSERVED);
});

test('bls: write order is fixed keys, overlay initrds, then other keys in insertion order', () => {
  const e = new BlsEntry();
  e.set('fdtdir', '/ostree/x/dtb');
  e.set('grub_users', '""');
  e.initrd = '/i.img';
  e.linux = '/vmlinuz';
  e.devicetree = '/dt';
  e.options = 'a=1 b';
  e.version = '3';
  e.title = 'T (ostree:0)';
  e.overlayInitrds = ['/ostree/initramfs-overlays/' + 'a'.repeat(64) + '.img'];
  assert.equal(e.serialize(),
    'title T (ostree:0)\nversion 3\noptions a=1 b\ndevicetree /dt\nlinux /vmlinuz\ninitrd /i.img\n' +
    `initrd /ostree/initramfs-overlays/${'a'.repeat(64)}.img\nfdtdir /ostree/x/dtb\ngrub_users ""\n`);
  assert.deepEqual(e.overlayInitrdIds(), ['a'.repeat(64)]);
  const noInitrd = new BlsEntry();
  noInitrd.overlayInitrds = ['/x.img'];
  assert.throws(() => noInitrd.serialize(), (err: unknown) => isOstreeError(err, 'EINVAL'));
});

test('bls: parse rules (letters only, first space/tab, repeats, unknown keys kept)', () => {
  const text = [
    '# comment', '', ' title indented is ignored', '1version 9', 'version\t7',
    'title  two spaces', 'initrd /a.img', 'initrd /b.img', 'initrd /c.img', 'lonely',
    'x-custom value with  spaces ', 'version 8', 'options a\tb', '',
  ].join('\n');
  const e = BlsEntry.parse(text, 'f');
  assert.equal(e.version, '8');            // last wins
  assert.equal(e.title, ' two spaces');     // split at the first separator only
  assert.equal(e.initrd, '/a.img');
  assert.deepEqual(e.overlayInitrds, ['/b.img', '/c.img']);
  assert.equal(e.get('lonely'), undefined); // no separator: ignored
  assert.equal(e.get('x-custom'), 'value with  spaces ');
  assert.equal(e.options, 'a\tb');
  assert.deepEqual(e.keys(), ['version', 'title', 'initrd', 'x-custom', 'options']);
  assert.equal(e.serialize(),
    'title  two spaces\nversion 8\noptions a\tb\ninitrd /a.img\ninitrd /b.img\ninitrd /c.img\n' +
    'x-custom value with  spaces \n');
  // unknown keys survive a rewrite with changed options
  const r = BlsEntry.parse(e.serialize(), 'f');
  r.options = 'c';
  assert.equal(r.get('x-custom'), 'value with  spaces ');
  assert.match(r.serialize(), /^options c$/m);
});

test('bls: set/delete validate keys and values; clone is independent', () => {
  const e = BlsEntry.parse(OBSERVED, 'f');
  assert.throws(() => e.set('bad key', 'v'), (err: unknown) => isOstreeError(err, 'EINVAL'));
  assert.throws(() => e.set('k', 'a\nb'), (err: unknown) => isOstreeError(err, 'EINVAL'));
  const c = e.clone();
  c.title = undefined;
  c.delete('version');
  assert.equal(e.title, 'TestOS 42 1.0.10 (ostree:0)');
  assert.equal(c.serialize().split('\n')[0], `options root=LABEL=MOO quiet ostree=/ostree/boot.1/testos/${CSUM}/0`);
  assert.equal(c.kernelArgs().getLastValue('root'), 'LABEL=MOO');
});

test('bls: binary garbage is ECORRUPT naming the file', () => {
  const bad = Buffer.from([0x74, 0x69, 0x74, 0x6c, 0x65, 0x20, 0xff, 0xfe, 0x0a]);
  assert.throws(() => BlsEntry.parse(bad, '/boot/loader.0/entries/ostree-1-x.conf'),
    (err: unknown) => isOstreeError(err, 'ECORRUPT') && /ostree-1-x\.conf: Invalid UTF-8/.test((err as Error).message));
  assert.throws(() => BlsEntry.parse(Buffer.from('title a\0b\n'), 'n.conf'), (err: unknown) => isOstreeError(err, 'ECORRUPT'));
  assert.throws(() => BlsEntry.parse('title \uFFFD\n', 'n.conf'), (err: unknown) => isOstreeError(err, 'ECORRUPT'));
});

test('bls: file names', () => {
  assert.equal(blsEntryFileName(2, 'testos'), 'ostree-2-testos.conf');
  assert.equal(blsEntryFileNameNew(2), 'ostree-2.conf');
  assert.deepEqual(parseBlsEntryFileName('ostree-2-testos.conf'), { k: 2, stateroot: 'testos' });
  assert.deepEqual(parseBlsEntryFileName('ostree-10.conf'), { k: 10 });
  assert.deepEqual(parseBlsEntryFileName('ostree-1-my-os.conf'), { k: 1, stateroot: 'my-os' });
  assert.deepEqual(parseBlsEntryFileName('ostree-3+3.conf'), { k: 3, counter: '+3' });
  assert.deepEqual(parseBlsEntryFileName('ostree-3-emu+2-1.conf'), { k: 3, stateroot: 'emu', counter: '+2-1' });
  assert.equal(parseBlsEntryFileName('ostree-x.conf'), null);
  assert.equal(parseBlsEntryFileName('fedora.conf'), null);
});

test('bls: ostree= bootlink parse/format', () => {
  const l = parseOstreeBootlink(`/ostree/boot.1/testos/${CSUM}/0`);
  assert.deepEqual(l, { bootversion: 1, stateroot: 'testos', bootcsum: CSUM, bootserial: 0 });
  assert.equal(formatOstreeBootlink(l), `/ostree/boot.1/testos/${CSUM}/0`);
  for (const bad of ['/ostree/boot.2/a/b/0', '/ostree/boot.0/a/b/x', 'ostree/boot.0/a/b/0', '/ostree/boot.0/a/b/c/0']) {
    assert.throws(() => parseOstreeBootlink(bad), (err: unknown) => isOstreeError(err, 'ECORRUPT')
      && (err as Error).message.startsWith(`Invalid ostree= argument '${bad}'`));
  }
});

// glibc's strverscmp as the oracle
const libc = koffi.load('libc.so.6');
const cStrverscmp = libc.func('int strverscmp(const char *a, const char *b)') as (a: string, b: string) => number;
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

test('bls: strverscmp known cases (glibc manual order)', () => {
  const ordered = ['000', '00', '01', '010', '09', '0', '1', '9', '10'];
  for (let i = 0; i + 1 < ordered.length; i++) {
    assert.ok(strverscmp(ordered[i]!, ordered[i + 1]!) < 0, `${ordered[i]} < ${ordered[i + 1]}`);
    assert.ok(strverscmp(ordered[i + 1]!, ordered[i]!) > 0);
  }
  assert.equal(strverscmp('2', '10') < 0, true);
  assert.equal(strverscmp('ostree-2', 'ostree-10') < 0, true);
  assert.equal(strverscmp('a', 'a'), 0);
  assert.equal(strverscmp('', ''), 0);
  assert.equal(strverscmp('1.0.9', '1.0.10') < 0, true);
  assert.equal(strverscmp('abc', 'abd') < 0, true);
});

test('bls: strverscmp agrees with glibc on many random strings', () => {
  const alphabet = ['0', '0', '1', '2', '9', '.', '-', 'a', 'b', 'é'];
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const gen = (): string => { let s = ''; const len = rnd(7); for (let i = 0; i < len; i++) s += alphabet[rnd(alphabet.length)]; return s; };
  let checked = 0;
  for (let i = 0; i < 20000; i++) {
    const a = gen();
    const b = rnd(4) === 0 ? a + gen() : (rnd(2) === 0 ? a.slice(0, rnd(a.length + 1)) + gen() : gen());
    assert.equal(sign(strverscmp(a, b)), sign(cStrverscmp(a, b)), `strverscmp(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    checked++;
  }
  assert.equal(checked, 20000);
});

test('bls: entries sort by version descending, versionless last', () => {
  const mk = (v?: string): BlsEntry => { const e = new BlsEntry(); if (v !== undefined) e.version = v; return e; };
  const list = [mk('2'), mk(), mk('10'), mk('1'), mk('9')];
  list.sort(compareBlsEntriesDescending);
  assert.deepEqual(list.map((e) => e.version), ['10', '9', '2', '1', undefined]);
});

async function tmpdir(): Promise<string> { return fsp.mkdtemp(path.join(os.tmpdir(), 'bls-test-')); }

function entryText(version: string, serial: number, extra = ''): string {
  return `title T\nversion ${version}\noptions root=x ostree=/ostree/boot.0/emu/${CSUM}/${serial}${extra}\nlinux /v\ninitrd /i\n`;
}

test('bls: readBlsEntries reads both name styles, skips other files, sorts', async () => {
  const d = await tmpdir();
  try {
    await fsp.writeFile(path.join(d, 'ostree-1-emu.conf'), entryText('1', 1));
    await fsp.writeFile(path.join(d, 'ostree-10.conf'), entryText('10', 0));
    await fsp.writeFile(path.join(d, 'ostree-2-emu.conf'), entryText('2', 2));
    await fsp.writeFile(path.join(d, 'other.conf'), 'garbage\xff');
    await fsp.writeFile(path.join(d, 'ostree-9.conf.bak'), 'x');
    await fsp.mkdir(path.join(d, 'ostree-dir.conf'));
    const r = await readBlsEntries(d);
    assert.deepEqual(r.map((x) => x.fileName), ['ostree-10.conf', 'ostree-2-emu.conf', 'ostree-1-emu.conf']);
    assert.deepEqual(r.map((x) => x.bootlink.bootserial), [0, 2, 1]);
    assert.equal(r[0]!.ostreeArg, `/ostree/boot.0/emu/${CSUM}/0`);
    assert.deepEqual(r[0]!.overlayInitrdIds, []);
    assert.deepEqual(await readBlsEntries(path.join(d, 'missing')), []);
  } finally { await fsp.rm(d, { recursive: true, force: true }); }
});

test('bls: readBlsEntries rejects malformed entries with ECORRUPT naming the file', async () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['no-options', 'title T\nversion 1\nlinux /v\n', /No ostree= kernel argument found/],
    ['no-ostree', 'title T\nversion 1\noptions root=x quiet\n', /No ostree= kernel argument found/],
    ['bad-ostree', 'version 1\noptions ostree=/ostree/boot.5/a/b/0\n', /Invalid ostree= argument/],
    ['binary', Buffer.from([0x00, 0x01, 0xff, 0xc3, 0x28, 0x0a]), /Invalid UTF-8/],
    ['bad-overlay', entryText('1', 0) + 'initrd /ostree/initramfs-overlays/short.img\n', /Malformed overlay initrd filename: short.img/],
  ];
  for (const [name, content, re] of cases) {
    const d = await tmpdir();
    try {
      const file = path.join(d, `ostree-1-${name}.conf`);
      await fsp.writeFile(file, content);
      await assert.rejects(readBlsEntries(d), (err: unknown) => isOstreeError(err, 'ECORRUPT')
        && re.test((err as Error).message) && (err as Error).message.includes(file), name);
    } finally { await fsp.rm(d, { recursive: true, force: true }); }
  }
});

test('bls: overlay initrd ids come from the extra initrd lines', () => {
  const sha = 'b'.repeat(64);
  const f = parseBlsEntryFile(entryText('1', 0) + `initrd /ostree/initramfs-overlays/${sha}.img\n`, '/e/ostree-1.conf');
  assert.deepEqual(f.overlayInitrdIds, [sha]);
  assert.equal(f.fileName, 'ostree-1.conf');
});

test('bls: writeBlsEntry writes atomically with mode 0644 and leaves no temp file', async () => {
  const d = await tmpdir();
  try {
    const e = BlsEntry.parse(OBSERVED, 'x');
    await writeBlsEntry(d, 'ostree-1-testos.conf', e);
    await writeBlsEntry(d, 'ostree-1-testos.conf', e); // replace existing
    assert.deepEqual(await fsp.readdir(d), ['ostree-1-testos.conf']);
    assert.equal(await fsp.readFile(path.join(d, 'ostree-1-testos.conf'), 'utf8'), OBSERVED);
    assert.equal((await fsp.stat(path.join(d, 'ostree-1-testos.conf'))).mode & 0o7777, 0o644);
  } finally { await fsp.rm(d, { recursive: true, force: true }); }
});
