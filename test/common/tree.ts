/** Small file-tree helpers shared by tests that build trees and compare them before/after. */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** Write `content` at `p`, creating parent directories; optionally chmod it. */
export async function writeFileAt(p: string, content: string, mode?: number): Promise<void> {
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, content);
  if (mode !== undefined) await fsp.chmod(p, mode);
}

/**
 * Sorted listing of a tree, one line per entry: `relpath d|f|l|special mode uid:gid`, file
 * contents for regular files and targets for symlinks. Two trees are equal (names, types,
 * modes, owners, contents, link targets) when their listings are.
 */
export async function treeSnapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await fsp.readdir(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = await fsp.lstat(p);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) { out.push(`${r} d ${meta}`); await walk(r); }
      else if (st.isSymbolicLink()) out.push(`${r} l ${st.uid}:${st.gid} -> ${await fsp.readlink(p)}`);
      else if (st.isFile()) out.push(`${r} f ${meta} ${await fsp.readFile(p, 'utf8')}`);
      else out.push(`${r} special ${meta}`);
    }
  };
  await walk('');
  return out.sort();
}
