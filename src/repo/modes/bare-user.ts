/**
 * `bare-user` mode: a content object is a regular file owned by whoever wrote it; the real
 * uid, gid, mode and xattrs are in its `user.ostreemeta` xattr, and a symlink is stored as a
 * regular file holding the NUL-terminated target. Objects hardlink only into user-mode
 * checkouts (where their own owner and mode are what is wanted).
 */
import * as fs from 'node:fs';
import * as libc from '../../native/libc.js';
import { OstreeError } from '../../errors.js';
import { isSymlinkMode } from '../objects/common.js';
import { BARE_USER_XATTR, parseBareUserMeta, serializeBareUserMeta, type FileHeader } from '../objects/file-header.js';
import { copyToTmp, openObjectFile, openPlainData, readExactly, readPlainData, type ModeBackend, type RegularWrite, type StoredContent } from './backend.js';
import { modeTraits } from './mode.js';

/** Longest symlink target (PATH_MAX), bounding what is read from a symlink object. */
const MAX_SYMLINK_TARGET = 4096;

export const bareUser: ModeBackend = {
  traits: modeTraits('bare-user'),

  storeRegular(w: RegularWrite): void {
    const fd = copyToTmp(w);
    try {
      fs.fchmodSync(fd, (w.header.mode & 0o775) | 0o400);
      libc.fsetxattr(fd, BARE_USER_XATTR, serializeBareUserMeta(w.header));
      fs.futimesSync(fd, 0, 0);
    } finally {
      fs.closeSync(fd);
    }
  },

  storeSymlink(tmp: string, target: string, header: FileHeader): void {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeSync(fd, Buffer.from(`${target}\0`));
      libc.fsetxattr(fd, BARE_USER_XATTR, serializeBareUserMeta(header));
      fs.futimesSync(fd, 0, 0);
    } finally {
      fs.closeSync(fd);
    }
  },

  readHeader(p: string, objName: string): StoredContent {
    // Opened first (without blocking): the xattr and, for a symlink, the target are read from it.
    const { fd, st } = openObjectFile(p, objName);
    try {
      const raw = libc.fgetxattr(fd, BARE_USER_XATTR);
      if (raw === null) throw new OstreeError('ECORRUPT', `${objName}: missing ${BARE_USER_XATTR} xattr (not a bare-user object)`);
      const m = parseBareUserMeta(raw, objName);
      const header: FileHeader = { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: '', xattrs: m.xattrs };
      if (isSymlinkMode(m.mode)) {
        if (st.size > MAX_SYMLINK_TARGET + 1) throw new OstreeError('ECORRUPT', `${objName}: symlink object of ${st.size} bytes (a target is at most ${MAX_SYMLINK_TARGET})`);
        let t = readExactly(fd, st.size, 0, objName);
        if (t.length > 0 && t[t.length - 1] === 0) t = t.subarray(0, -1);
        header.symlinkTarget = t.toString();
        return { header, size: 0, objectPath: p, dataOffset: 0, compressed: false, mode: 'bare-user' };
      }
      return { header, size: st.size, objectPath: p, dataOffset: 0, compressed: false, mode: 'bare-user' };
    } finally {
      fs.closeSync(fd);
    }
  },

  readData: readPlainData,
  openData: openPlainData,

  checkoutLinkable(userMode: boolean): boolean { return userMode; },
};
