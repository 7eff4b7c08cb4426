import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { findKernel } from '../../src/sysroot/kernel-layout.js';
import { isOstreeError } from '../../src/errors.js';

async function withTree(fn: (d: string) => Promise<void>): Promise<void> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'klayout-'));
  try { await fn(d); } finally { await fsp.rm(d, { recursive: true, force: true }); }
}

async function put(root: string, rel: string, content: string | Buffer): Promise<void> {
  const p = path.join(root, rel);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, content);
}

/** `cat FILES | sha256sum` run by the shell */
function catSha(dir: string, files: string[]): string {
  const out = execFileSync('sh', ['-c', 'cat "$@" | sha256sum', 'sh', ...files], { cwd: dir, encoding: 'utf8' });
  return out.split(' ')[0]!;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

test('kernel-layout: modules layout with initramfs.img and hmac (like the first experiment)', async () => {
  await withTree(async (d) => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7); // several stream chunks
    await put(d, 'usr/lib/modules/3.6.0/vmlinuz', big);
    await put(d, 'usr/lib/modules/3.6.0/initramfs.img', 'an initramfs\n');
    await put(d, 'usr/lib/modules/3.6.0/initramfs', 'ignored: initramfs.img is preferred\n');
    await put(d, 'usr/lib/modules/3.6.0/.vmlinuz.hmac', 'hmac\n');
    await put(d, 'usr/lib/modules/3.6.0/modules.dep', '');
    const k = await findKernel(d);
    const m = path.join(d, 'usr/lib/modules/3.6.0');
    assert.equal(k.layout, 'modules');
    assert.equal(k.kver, '3.6.0');
    assert.equal(k.bootcsum, catSha(m, ['vmlinuz', 'initramfs.img']));
    assert.equal(k.kernelSrc, path.join(m, 'vmlinuz'));
    assert.equal(k.kernelDestName, 'vmlinuz-3.6.0');
    assert.equal(k.initramfsSrc, path.join(m, 'initramfs.img'));
    assert.equal(k.initramfsDestName, 'initramfs-3.6.0.img');
    assert.equal(k.hmacSrc, path.join(m, '.vmlinuz.hmac'));
    assert.equal(k.hmacDestName, '.vmlinuz-3.6.0.hmac');
    assert.equal(k.devicetreeSrc, undefined);
    assert.equal(k.dtbDir, undefined);
  });
});

test('kernel-layout: `initramfs` fallback, devicetree file, kernel only', async () => {
  await withTree(async (d) => {
    await put(d, 'usr/lib/modules/5.1/vmlinuz', 'K');
    await put(d, 'usr/lib/modules/5.1/initramfs', 'I');
    await put(d, 'usr/lib/modules/5.1/devicetree', 'D');
    const k = await findKernel(d);
    assert.equal(k.initramfsDestName, 'initramfs-5.1.img');
    assert.equal(k.devicetreeDestName, 'devicetree-5.1');
    assert.equal(k.bootcsum, catSha(path.join(d, 'usr/lib/modules/5.1'), ['vmlinuz', 'initramfs', 'devicetree']));
    assert.equal(k.bootcsum, sha('KID'));
    const nodtb = await findKernel(d, { noDtb: true });
    assert.equal(nodtb.devicetreeSrc, undefined);
    assert.equal(nodtb.bootcsum, sha('KI'));
  });
  await withTree(async (d) => {
    await put(d, 'usr/lib/modules/5.1/vmlinuz', 'only a kernel');
    const k = await findKernel(d);
    assert.equal(k.bootcsum, sha('only a kernel'));
    assert.equal(k.initramfsSrc, undefined);
    assert.equal(k.hmacSrc, undefined);
  });
});

test('kernel-layout: dtb directory hashed sorted, depth-first, contents only', async () => {
  await withTree(async (d) => {
    const m = 'usr/lib/modules/6.0';
    await put(d, `${m}/vmlinuz`, 'K');
    await put(d, `${m}/initramfs.img`, 'I');
    await put(d, `${m}/dtb/b.dtb`, 'b');
    await put(d, `${m}/dtb/a.dtb`, 'a');
    await put(d, `${m}/dtb/a/x.dtb`, 'ax');   // dir "a" sorts before "a.dtb"
    await put(d, `${m}/dtb/B.dtb`, 'B');      // uppercase first (byte order)
    await put(d, `${m}/dtb/vendor/z/y.dtb`, 'vzy');
    await fsp.symlink('b.dtb', path.join(d, `${m}/dtb/c-link.dtb`));
    await fsp.symlink('missing', path.join(d, `${m}/dtb/dangling`));
    const k = await findKernel(d);
    assert.equal(k.dtbDir, path.join(d, m, 'dtb'));
    assert.equal(k.devicetreeSrc, undefined);
    assert.equal(k.bootcsum, sha('K' + 'I' + 'B' + 'ax' + 'a' + 'b' + 'b' + 'vzy'));
    assert.equal(k.bootcsum, catSha(path.join(d, m), ['vmlinuz', 'initramfs.img', 'dtb/B.dtb', 'dtb/a/x.dtb',
      'dtb/a.dtb', 'dtb/b.dtb', 'dtb/c-link.dtb', 'dtb/vendor/z/y.dtb']));
  });
});

test('kernel-layout: modules dirs without a regular vmlinuz are skipped', async () => {
  await withTree(async (d) => {
    await put(d, 'usr/lib/modules/aaa/modules.dep', '');
    await fsp.mkdir(path.join(d, 'usr/lib/modules/bbb/vmlinuz'), { recursive: true }); // a dir, not a file
    await put(d, 'usr/lib/modules/not-a-dir', 'x');
    await put(d, 'usr/lib/modules/ccc/vmlinuz', 'real');
    const k = await findKernel(d);
    assert.equal(k.kver, 'ccc');
  });
  await withTree(async (d) => {
    // vmlinuz as a symlink to a regular file counts (stat follows symlinks)
    await put(d, 'usr/lib/modules/1.0/real-kernel', 'kk');
    await fsp.symlink('real-kernel', path.join(d, 'usr/lib/modules/1.0/vmlinuz'));
    const k = await findKernel(d);
    assert.equal(k.bootcsum, sha('kk'));
  });
});

test('kernel-layout: no kernel → ENOENT with upstream message', async () => {
  await withTree(async (d) => {
    await fsp.mkdir(path.join(d, 'usr/lib/modules/1.0'), { recursive: true });
    await fsp.mkdir(path.join(d, 'boot'));
    await put(d, 'boot/vmlinuz-1.0', 'no checksum suffix');
    await assert.rejects(findKernel(d), (e: unknown) => isOstreeError(e, 'ENOENT')
      && (e as Error).message === 'Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot');
  });
});

test('kernel-layout: legacy layout names, bootcsum from the file name, mismatch errors', async () => {
  const c = sha('legacy');
  const other = sha('other');
  await withTree(async (d) => {
    await put(d, `usr/lib/ostree-boot/vmlinuz-3.6.0-${c}`, 'K');
    await put(d, `usr/lib/ostree-boot/initramfs-3.6.0.img-${c}`, 'I');
    await put(d, `usr/lib/ostree-boot/devicetree-3.6.0-${c}`, 'D');
    await put(d, `boot/vmlinuz-9-${other}`, 'ignored: usr/lib/ostree-boot exists');
    const k = await findKernel(d);
    assert.equal(k.layout, 'legacy');
    assert.equal(k.bootcsum, c);
    assert.equal(k.kver, '3.6.0');
    assert.equal(k.kernelDestName, 'vmlinuz-3.6.0');
    assert.equal(k.initramfsDestName, 'initramfs-3.6.0.img');
    assert.equal(k.devicetreeDestName, 'devicetree-3.6.0');
    assert.equal(k.kernelSrc, path.join(d, `usr/lib/ostree-boot/vmlinuz-3.6.0-${c}`));
  });
  await withTree(async (d) => {
    await put(d, `boot/vmlinuz-4.0-${c}`, 'K');
    await put(d, `boot/initramfs-4.0.img-${other}`, 'I');
    await assert.rejects(findKernel(d), (e: unknown) => isOstreeError(e) && (e as Error).message === 'Mismatched kernel checksum vs initrd');
  });
  await withTree(async (d) => {
    await put(d, `boot/vmlinuz-4.0-${c}`, 'K');
    await put(d, `boot/devicetree-4.0-${other}`, 'D');
    await assert.rejects(findKernel(d), (e: unknown) => isOstreeError(e) && (e as Error).message === 'Mismatched kernel checksum vs device tree in tree');
  });
});

test('kernel-layout: choice between modules and legacy layouts', async () => {
  const c = sha('legacy');
  // both with initramfs → modules wins
  await withTree(async (d) => {
    await put(d, 'usr/lib/modules/5.0/vmlinuz', 'K');
    await put(d, 'usr/lib/modules/5.0/initramfs.img', 'I');
    await put(d, `usr/lib/ostree-boot/vmlinuz-5.0-${c}`, 'K');
    await put(d, `usr/lib/ostree-boot/initramfs-5.0.img-${c}`, 'I');
    assert.equal((await findKernel(d)).layout, 'modules');
  });
  // modules without initramfs, legacy with → legacy wins
  await withTree(async (d) => {
    await put(d, 'usr/lib/modules/5.0/vmlinuz', 'K');
    await put(d, `usr/lib/ostree-boot/vmlinuz-5.0-${c}`, 'K');
    await put(d, `usr/lib/ostree-boot/initramfs-5.0.img-${c}`, 'I');
    const k = await findKernel(d);
    assert.equal(k.layout, 'legacy');
    assert.equal(k.bootcsum, c);
  });
  // neither has an initramfs → modules
  await withTree(async (d) => {
    await put(d, 'usr/lib/modules/5.0/vmlinuz', 'K');
    await put(d, `boot/vmlinuz-5.0-${c}`, 'K');
    assert.equal((await findKernel(d)).layout, 'modules');
  });
  // only legacy
  await withTree(async (d) => {
    await put(d, `boot/vmlinuz-5.0-${c}`, 'K');
    assert.equal((await findKernel(d)).layout, 'legacy');
  });
});
