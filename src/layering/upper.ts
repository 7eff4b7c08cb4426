/**
 * The overlay's upper directory after dpkg ran: made ready to be committed on top of the base.
 * What only the sandbox needed goes (the /etc link, mount points, dpkg's locks), overlayfs's
 * own xattrs are stripped, and its whiteouts (char device 0:0) and opaque directories become
 * removals from the base tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as xattr from '../native/xattr.js';
import { rmrf } from '../util/tree.js';
import { DPKG_DB_REL } from './names.js';

export interface UpperChanges {
  /** Paths (relative, no leading slash) removed from the base. */
  removals: string[];
}

const SANDBOX_ONLY = ['etc', 'var', 'run', 'tmp', 'dev', 'proc', 'sys'];
const DPKG_SCRATCH = ['lock', 'lock-frontend', 'triggers/Lock', 'tmp.ci', 'tmp.i', 'status-old', 'available-old', 'diversions-old', 'statoverride-old'];

function stripOverlayXattrs(p: string): boolean {
  let opaque = false;
  for (const name of xattr.llistxattr(p)) {
    if (!name.startsWith('trusted.overlay.')) continue;
    if (name === 'trusted.overlay.opaque') opaque = xattr.lgetxattr(p, name)?.toString() === 'y';
    xattr.lremovexattr(p, name);
  }
  return opaque;
}

export function cleanUpper(upper: string): UpperChanges {
  for (const n of SANDBOX_ONLY) {
    const p = path.join(upper, n);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    // /etc is ours (the link); the others are only there as mount points or copies-up
    if (st && (n !== 'etc' || st.isSymbolicLink())) rmrf(p);
  }
  for (const n of DPKG_SCRATCH) rmrf(path.join(upper, DPKG_DB_REL, n));
  const updates = path.join(upper, DPKG_DB_REL, 'updates');
  if (fs.existsSync(updates)) for (const n of fs.readdirSync(updates)) rmrf(path.join(updates, n));
  for (const n of ['.pwd.lock', 'passwd-', 'group-', 'shadow-', 'gshadow-']) rmrf(path.join(upper, 'usr/etc', n));
  const removals: string[] = [];
  stripOverlayXattrs(upper);
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const e of fs.readdirSync(path.join(upper, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const full = path.join(upper, r);
      if (e.isCharacterDevice() && fs.lstatSync(full).rdev === 0) {
        removals.push(r);
        fs.unlinkSync(full);
        continue;
      }
      if (stripOverlayXattrs(full)) removals.push(r);
      if (e.isDirectory()) stack.push(r);
    }
  }
  return { removals };
}
