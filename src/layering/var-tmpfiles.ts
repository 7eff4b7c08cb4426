/**
 * What a package ships under /var cannot live in the commit (a deployment's /var is the
 * machine's, shared by every deployment): it becomes tmpfiles.d lines, as rpm-ostree does.
 * Directories -> `d`, symlinks -> `L`, regular files -> copied to /usr/share/factory/var and
 * `C` (copied on first boot when absent). The /var tree is removed from the package's tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mkdirp } from '../util/fs.js';
import { rmrf } from '../util/tree.js';

/** Numeric ids: the tree's names are not known here, and tmpfiles.d accepts numbers. */
function owner(id: number): string { return id === 0 ? 'root' : String(id); }

/** Escape a path for a tmpfiles.d line (spaces and backslashes). */
function tmpfilesPath(p: string): string {
  return p.replace(/\\/g, '\\\\').replace(/ /g, '\\x20');
}

/**
 * Turn `root/var` into tmpfiles.d lines written to `root/<confRel>`; factory copies go to
 * `root/usr/share/factory/var`. Returns the number of lines (0: nothing was under /var).
 */
export function varToTmpfiles(root: string, confRel: string): number {
  const varDir = path.join(root, 'var');
  const st = fs.lstatSync(varDir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return 0;
  const lines: string[] = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const e of fs.readdirSync(path.join(varDir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const full = path.join(varDir, r);
      const s = fs.lstatSync(full);
      const mode = (s.mode & 0o7777).toString(8).padStart(4, '0');
      const who = `${owner(s.uid)} ${owner(s.gid)}`;
      if (e.isDirectory()) {
        lines.push(`d ${tmpfilesPath('/var/' + r)} ${mode} ${who} -`);
        stack.push(r);
      } else if (e.isSymbolicLink()) {
        lines.push(`L ${tmpfilesPath('/var/' + r)} - - - - ${fs.readlinkSync(full)}`);
      } else if (e.isFile()) {
        const factory = path.join(root, 'usr/share/factory/var', r);
        mkdirp(path.dirname(factory));
        fs.copyFileSync(full, factory);
        fs.chmodSync(factory, s.mode & 0o7777);
        fs.lchownSync(factory, s.uid, s.gid);
        lines.push(`C ${tmpfilesPath('/var/' + r)} ${mode} ${who} - /usr/share/factory/var/${r}`);
      }
    }
  }
  rmrf(varDir);
  if (lines.length === 0) return 0;
  const conf = path.join(root, confRel);
  mkdirp(path.dirname(conf));
  fs.writeFileSync(conf, lines.join('\n') + '\n', { mode: 0o644 });
  return lines.length;
}
