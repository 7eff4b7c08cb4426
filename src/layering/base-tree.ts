/**
 * Making a Debian tree ready for layering before it is committed (the image build calls this):
 * the dpkg database moves from /var/lib/dpkg (the machine's, not the tree's) to the tree's
 * /usr (names.ts), and a tmpfiles.d line links /var/lib/dpkg back to it on a booted system.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { mkdirp } from '../util/fs.js';
import { DPKG_DB_REL, DPKG_DB_TMPFILES, DPKG_DB_TMPFILES_REL } from './names.js';

export function ostreeifyDpkgDatabase(tree: string): void {
  const from = path.join(tree, 'var/lib/dpkg');
  const to = path.join(tree, DPKG_DB_REL);
  if (!fs.lstatSync(from, { throwIfNoEntry: false })?.isDirectory()) {
    throw new OstreeError('ENOENT', `${from}: the tree has no dpkg database to move`);
  }
  mkdirp(path.dirname(to));
  fs.renameSync(from, to);
  for (const n of ['lock', 'lock-frontend', 'triggers/Lock']) fs.rmSync(path.join(to, n), { force: true });
  const conf = path.join(tree, DPKG_DB_TMPFILES_REL);
  mkdirp(path.dirname(conf));
  fs.writeFileSync(conf, DPKG_DB_TMPFILES, { mode: 0o644 });
}
