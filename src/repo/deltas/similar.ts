/**
 * Which new files of a delta are modified versions of old ones (upstream's
 * _ostree_delta_compute_similar_objects), the candidates for bsdiff: a new regular file is
 * paired with an old one of a size within 30% that shares a basename (or, failing that, the
 * part of a basename before its first '.'). Empty files and .xz/.bz2 files are never paired
 * (compressed data does not diff).
 */
import type { RepoLocation } from '../store.js';
import { loadCommit } from '../store.js';
import { walkTree } from '../traverse.js';

export const SIMILARITY_THRESHOLD_PERCENT = 30;

interface SizeNames { checksum: string; size: number; names: string[] }

/** Regular files of a commit (optionally only `only`), with their sizes and names, by size. */
function sizeNames(repo: RepoLocation, commit: string, sizeOf: (c: string) => number | null, only: Set<string> | null): SizeNames[] {
  const map = new Map<string, SizeNames>();
  for (const e of walkTree(repo, loadCommit(repo, commit).rootTree)) {
    if (e.kind !== 'file' || (only !== null && !only.has(e.checksum))) continue;
    let sn = map.get(e.checksum);
    if (sn === undefined) {
      const size = sizeOf(e.checksum);
      if (size === null) continue; // not a regular file
      sn = { checksum: e.checksum, size, names: [] };
      map.set(e.checksum, sn);
    }
    sn.names.push(e.name);
  }
  return [...map.values()].sort((a, b) => a.size - b.size);
}

function namesIntersect(a: string[], b: string[], fuzzy: boolean): boolean {
  for (const x of a) {
    const xd = x.indexOf('.');
    for (const y of b) {
      const yd = y.indexOf('.');
      if (fuzzy && xd > 0 && yd > 0 && xd === yd) { if (x.slice(0, xd) === y.slice(0, yd)) return true; } else if (x === y) return true;
    }
  }
  return false;
}

function isCandidate(sn: SizeNames): boolean {
  if (sn.size === 0) return false;
  return !sn.names.some((n) => { const dot = n.lastIndexOf('.'); const ext = dot < 0 ? '' : n.slice(dot + 1); return ext === 'xz' || ext === 'bz2'; });
}

/**
 * New content checksum → old content checksum, for the new regular files (`newRegular`) of
 * commit `to` that look like modified files of commit `from`. `sizeOf` gives a content
 * object's size, or null if it is not a regular file.
 */
export function similarObjects(repo: RepoLocation, from: string, to: string, newRegular: Set<string>, sizeOf: (c: string) => number | null): Map<string, string> {
  const fromSizes = sizeNames(repo, from, sizeOf, null);
  const toSizes = sizeNames(repo, to, sizeOf, newRegular);
  const out = new Map<string, string>();
  let lower = 0;
  for (const t of toSizes) {
    if (!isCandidate(t)) continue;
    const min = Math.floor(t.size * (1 - SIMILARITY_THRESHOLD_PERCENT / 100));
    const max = Math.floor(t.size * (1 + SIMILARITY_THRESHOLD_PERCENT / 100));
    let found = false;
    for (let fuzzy = 0; fuzzy < 2 && !found; fuzzy++) {
      for (let j = lower; j < fromSizes.length; j++) {
        const f = fromSizes[j]!;
        if (!isCandidate(f)) continue;
        if (f.size < min) { lower++; continue; }
        if (f.size > max) break;
        if (!namesIntersect(f.names, t.names, fuzzy === 1)) continue;
        out.set(t.checksum, f.checksum);
        found = true;
        break;
      }
    }
  }
  return out;
}
