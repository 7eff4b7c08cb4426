/**
 * `bare-user-only` mode: a content object is the file itself with canonical permissions (no
 * owner, no xattrs, mode & 0755) and symlinks are symlinks; checkouts are always in user mode
 * and hardlink the objects.
 */
import * as fs from 'node:fs';
import type { FileHeader } from '../objects/file-header.js';
import { copyToTmp, fileKind, notRegular, openPlainData, readPlainData, type ModeBackend, type RegularWrite, type StoredContent } from './backend.js';
import { modeTraits } from './mode.js';

export const bareUserOnly: ModeBackend = {
  traits: modeTraits('bare-user-only'),

  storeRegular(w: RegularWrite): void {
    const fd = copyToTmp(w);
    try {
      fs.fchmodSync(fd, w.header.mode & 0o755);
      fs.futimesSync(fd, 0, 0);
    } finally {
      fs.closeSync(fd);
    }
  },

  storeSymlink(tmp: string, target: string): void {
    fs.symlinkSync(target, tmp);
  },

  readHeader(p: string, objName: string): StoredContent {
    const st = fs.lstatSync(p);
    const sym = st.isSymbolicLink();
    if (!sym && !st.isFile()) throw notRegular(objName, p, fileKind(st));
    const header: FileHeader = { uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: sym ? fs.readlinkSync(p) : '', xattrs: [] };
    return { header, size: sym ? 0 : st.size, objectPath: p, dataOffset: 0, compressed: false, mode: 'bare-user-only' };
  },

  readData: readPlainData,
  openData: openPlainData,

  checkoutLinkable(): boolean { return true; },
};
