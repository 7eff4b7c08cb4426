/** Side checks the benchmark prints next to its figures: both tools made the same thing. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { upstreamSetup } from './proc.js';

/** Hash of a tree: paths, types, modes, owners, sizes, link targets (`skip`: top-level names left out). */
export function treeSummary(root: string, skip: readonly string[] = []): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      if (rel === '' && skip.includes(name)) continue;
      const p = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) h.update(`l ${r} ${fs.readlinkSync(p)}\n`);
      else if (st.isDirectory()) { h.update(`d ${r} ${(st.mode & 0o7777).toString(8)} ${st.uid} ${st.gid}\n`); walk(p, r); }
      else h.update(`f ${r} ${st.mode.toString(8)} ${st.uid} ${st.gid} ${st.size}\n`);
    }
  };
  walk(root, '');
  return h.digest('hex');
}

/** The commit's ContentChecksum, as upstream `ostree show` reads it (null when it cannot). */
export function contentChecksum(repo: string, ref: string): string | null {
  try {
    return /ContentChecksum:\s+([0-9a-f]{64})/.exec(upstreamSetup([`--repo=${repo}`, 'show', ref]))?.[1] ?? null;
  } catch {
    return null;
  }
}
