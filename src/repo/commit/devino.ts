/**
 * `commit --link-checkout-speedup` (upstream's devino cache): the device and inode of every
 * loose `.file` object, so a file of the committed tree that is a hardlink into the repository
 * (a hardlink checkout) is known by its checksum without reading it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { objectsDir } from '../layout.js';
import { isChecksum } from '../objects/checksum.js';

export type DevinoCache = Map<string, string>;

/** The cache key of a stat (device and inode, exact as bigints). */
export function devinoKey(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

/** Scan REPO/objects for loose `.file` objects (archive repositories have none: `.filez`). */
export function scanDevino(repoPath: string): DevinoCache {
  const cache: DevinoCache = new Map();
  const root = objectsDir(repoPath);
  let prefixes: string[];
  try { prefixes = fs.readdirSync(root); } catch { return cache; }
  for (const p of prefixes) {
    if (p.length !== 2) continue;
    let names: string[];
    try { names = fs.readdirSync(path.join(root, p)); } catch { continue; }
    for (const n of names) {
      if (!n.endsWith('.file')) continue;
      const checksum = p + n.slice(0, -'.file'.length);
      if (!isChecksum(checksum)) continue;
      const st = fs.lstatSync(path.join(root, p, n), { bigint: true, throwIfNoEntry: false });
      if (st) cache.set(devinoKey(st), checksum);
    }
  }
  return cache;
}
