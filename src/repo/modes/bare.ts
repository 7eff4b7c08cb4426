/**
 * `bare` mode: a content object is the file itself with its real owner, mode and xattrs (root
 * is needed to write one), symlinks are symlinks; objects hardlink straight into a checkout
 * that is not in user mode.
 */
import * as fs from 'node:fs';
import * as libc from '../../native/libc.js';
import { sortXattrs } from '../objects/xattrs.js';
import type { FileHeader } from '../objects/file-header.js';
import { bareNeedsRoot, copyToTmp, fileKind, notRegular, openPlainData, readPlainData, type ModeBackend, type RegularWrite, type StoredContent } from './backend.js';
import { modeTraits } from './mode.js';

export const bare: ModeBackend = {
  traits: modeTraits('bare'),

  storeRegular(w: RegularWrite): void {
    const fd = copyToTmp(w);
    try {
      try { fs.fchownSync(fd, w.header.uid, w.header.gid); } catch (e) { bareNeedsRoot(e); }
      fs.fchmodSync(fd, w.header.mode & 0o7777);
      for (const [n, v] of w.header.xattrs) libc.fsetxattr(fd, n, v);
      fs.futimesSync(fd, 0, 0);
    } finally {
      fs.closeSync(fd);
    }
  },

  storeSymlink(tmp: string, target: string, header: FileHeader): void {
    fs.symlinkSync(target, tmp);
    try { fs.lchownSync(tmp, header.uid, header.gid); } catch (e) { bareNeedsRoot(e); }
    for (const [n, v] of header.xattrs) libc.lsetxattr(tmp, n, v);
  },

  readHeader(p: string, objName: string): StoredContent {
    const st = fs.lstatSync(p);
    const sym = st.isSymbolicLink();
    if (!sym && !st.isFile()) throw notRegular(objName, p, fileKind(st));
    const header: FileHeader = {
      uid: st.uid, gid: st.gid, mode: st.mode, rdev: 0,
      symlinkTarget: sym ? fs.readlinkSync(p) : '',
      xattrs: sortXattrs(libc.lgetxattrs(p)),
    };
    return { header, size: sym ? 0 : st.size, objectPath: p, dataOffset: 0, compressed: false, mode: 'bare' };
  },

  readData: readPlainData,
  openData: openPlainData,

  checkoutLinkable(userMode: boolean): boolean { return !userMode; },
};
