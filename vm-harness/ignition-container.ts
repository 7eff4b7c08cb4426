/**
 * The walkthrough's container image, made on the host since there is no registry to pull from:
 * a root filesystem tarball (`podman import`-able) holding Debian's static busybox, with `httpd`
 * serving /www/index.html on port 8080.  The guest gets it through Ignition's storage.files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mkdirp, rmrf, run, symlink, writeFile } from './common.js';

/** What `curl 127.0.0.1:8080` in the guest must answer. */
export const HELLO_BODY = 'hello from hello-server, a busybox httpd run by podman\n';
/** Where the unit finds the tarball in the guest (written by Ignition into the stateroot's /var). */
export const HELLO_TARBALL = '/var/lib/hello/hello-rootfs.tar.gz';
export const HELLO_IMAGE = 'localhost/hello:latest';

const BUSYBOX = '/bin/busybox';

/** The gzipped root filesystem tarball, built into `work`. */
export async function buildHelloTarball(work: string): Promise<string> {
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
  const out = path.join(work, 'hello-rootfs.tar.gz');
  await run('sh', ['-c', `tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@1700000000 -C '${root}' -cf - . | gzip -9n > '${out}'`]);
  rmrf(root);
  return out;
}
