/**
 * The walkthrough's container image, made on the host since there is no registry to pull from:
 * a root filesystem tarball (`podman import`-able) holding Debian's static busybox, with `httpd`
 * serving /www/index.html on port 8080.  The guest gets it on a small disk of its own (ext4,
 * label HELLO_LABEL), which hello.service imports from once: inlined into the Ignition config
 * (storage.files, a data: URL) the megabyte took Ignition 40 s and more to read from fw_cfg under
 * TCG (the kernel reads fw_cfg files a byte at a time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mkdirp, rmrf, run, symlink, writeFile } from './common.js';
import { makeExt4Image } from './disk.js';

/** What `curl 127.0.0.1:8080` in the guest must answer. */
export const HELLO_BODY = 'hello from hello-server, a busybox httpd run by podman\n';
/** The disk carrying the tarball (its filesystem label), and the tarball's name on it. */
export const HELLO_LABEL = 'hello-image';
export const HELLO_TARBALL = 'hello-rootfs.tar.gz';
export const HELLO_IMAGE = 'localhost/hello:latest';

const BUSYBOX = '/bin/busybox';

/** The disk image holding the gzipped root filesystem tarball, built into `work`. */
export async function buildHelloDisk(work: string): Promise<string> {
  if (!fs.existsSync(BUSYBOX) || !/static/.test(await run('file', ['-L', BUSYBOX]).catch(() => 'static'))) {
    throw new Error(`${BUSYBOX} (Debian's busybox-static) is needed for the container image: make deps`);
  }
  const root = path.join(work, 'hello-rootfs');
  rmrf(root);
  mkdirp(path.join(root, 'bin'));
  fs.copyFileSync(BUSYBOX, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'httpd']) symlink('busybox', path.join(root, 'bin', applet));
  writeFile(path.join(root, 'www/index.html'), HELLO_BODY);
  for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc']) mkdirp(path.join(root, d));
  const diskDir = path.join(work, 'hello-disk');
  rmrf(diskDir);
  mkdirp(diskDir);
  const tarball = path.join(diskDir, HELLO_TARBALL);
  await run('sh', ['-c', `tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@1700000000 -C '${root}' -cf - . | gzip -9n > '${tarball}'`]);
  rmrf(root);
  const out = path.join(work, 'hello-image.img');
  await makeExt4Image(diskDir, HELLO_LABEL, out, 4);
  rmrf(diskDir);
  return out;
}
