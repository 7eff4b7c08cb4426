/**
 * The content checksum a file on disk would have as an object (upstream's
 * ostree_checksum_file_at): its header (ownership, mode, symlink target, xattrs) and data,
 * optionally without xattrs or with canonical permissions (bare-user-only). Used by
 * `ostree checksum` and by `checkout --union-identical` to compare a file already there.
 * Directories hash their dirmeta.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as libc from '../native/libc.js';
import { OstreeError } from '../errors.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './objects/common.js';
import { serializeDirMeta } from './objects/dirmeta.js';
import { BARE_USER_XATTR, serializeFileHeader } from './objects/file-header.js';
import { sortXattrs } from './objects/xattrs.js';
import { applyRules } from './commit/modifier.js';

export interface ChecksumFileOptions { ignoreXattrs?: boolean; canonicalPermissions?: boolean }

export function checksumFileAt(p: string, o: ChecksumFileOptions = {}, st: fs.Stats = fs.lstatSync(p)): string {
  const fmt = st.mode & S_IFMT;
  const info = applyRules({ uid: st.uid, gid: st.gid, mode: st.mode }, { canonical: o.canonicalPermissions === true });
  const xattrs = o.ignoreXattrs || o.canonicalPermissions ? [] : sortXattrs(libc.lgetxattrs(p).filter(([n]) => n !== BARE_USER_XATTR));
  const h = createHash('sha256');
  if (fmt === S_IFDIR) return h.update(serializeDirMeta({ ...info, xattrs })).digest('hex');
  if (fmt !== S_IFREG && fmt !== S_IFLNK) throw new OstreeError('EINVAL', `cannot checksum '${p}': not a regular file, symlink or directory`);
  const target = fmt === S_IFLNK ? fs.readlinkSync(p) : '';
  h.update(serializeFileHeader({ ...info, rdev: 0, symlinkTarget: target, xattrs }));
  if (fmt === S_IFREG) {
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.allocUnsafe(256 * 1024);
      for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) h.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  }
  return h.digest('hex');
}
