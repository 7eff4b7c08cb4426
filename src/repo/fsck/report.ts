/**
 * fsck's report: problems in walk order, each naming the commits whose trees reach the object
 * (upstream prints "In commits A, B: ..." and "Object missing in commits ..."), missing objects
 * marking those commits partial.
 */
import { OstreeError } from '../../errors.js';
import type { CommitObject } from '../objects/commit.js';
import type { DirTree } from '../objects/dirtree.js';
import { walkDirTrees } from '../traverse.js';
import { loadCommit, loadDirTree, type RepoLocation } from '../store.js';
import type { Problem } from './metadata.js';
import { markFsckPartial, splitName } from './repair.js';

export interface ReportSink {
  warn(line: string): void;
  /** A corrupted object: true when it must now be treated as missing (deleted). */
  onCorrupt(objName: string, message: string): boolean;
  missing: string[];
  markedPartial: string[];
}

/**
 * Report `problems` in walk order. Returns whether any counts as corruption (the verdict);
 * throws from onCorrupt when fsck stops at the first one.
 */
export function reportProblems(repo: RepoLocation, commits: string[], problems: Problem[], sink: ReportSink): boolean {
  if (problems.length === 0) return false;
  let found = false;
  problems.sort((a, b) => a.pos - b.pos);
  const owners = commitsContaining(repo, commits, new Set(problems.map((p) => p.name)));
  for (const p of problems) {
    const inCommits = owners.get(p.name) ?? [];
    const prefix = inCommits.length > 0 ? `In commits ${inCommits.join(', ')}: ` : '';
    if (p.code !== 'ENOENT') {
      const { checksum, type } = splitName(p.name);
      const msg = type === 'file' ? `${prefix}fsck content object ${checksum}: ${p.message}` : `${prefix}${p.message}`;
      if (!sink.onCorrupt(p.name, msg)) continue;
    } else {
      sink.missing.push(p.name);
      sink.warn(inCommits.length > 0 ? `Object missing in commits ${inCommits.join(', ')}: ${p.name}` : `Object missing: ${p.name}`);
    }
    found = true;
    if (p.name.endsWith('.commit')) continue;
    for (const c of inCommits) {
      if (markFsckPartial(repo, c)) { sink.warn(`Marking commit as partial: ${c}`); sink.markedPartial.push(c); }
    }
  }
  return found;
}

/**
 * For each wanted object name, the (sorted) commits whose tree reaches it. Unreadable objects
 * are skipped (they are what is being reported); a loop only ends that commit's walk.
 */
function commitsContaining(repo: RepoLocation, commits: string[], wanted: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (n: string, c: string): void => {
    if (!wanted.has(n)) return;
    const l = out.get(n) ?? [];
    if (!l.includes(c)) l.push(c);
    out.set(n, l);
  };
  const treeCache = new Map<string, DirTree | null>();
  const loadTree = (t: string): DirTree | null => {
    if (treeCache.has(t)) return treeCache.get(t)!;
    let v: DirTree | null = null;
    try { v = loadDirTree(repo, t); } catch { v = null; }
    treeCache.set(t, v);
    return v;
  };
  for (const c of [...commits].sort()) {
    add(`${c}.commit`, c);
    let obj: CommitObject;
    try { obj = loadCommit(repo, c); } catch { continue; }
    add(`${obj.rootMeta}.dirmeta`, c);
    const visited = new Set<string>();
    try {
      walkDirTrees(obj.rootTree, {
        tree: (t) => {
          if (visited.has(t)) return null;
          visited.add(t);
          add(`${t}.dirtree`, c);
          const dt = loadTree(t);
          if (dt) for (const f of dt.files) add(`${f.checksum}.file`, c);
          return dt;
        },
        dirmeta: (m) => add(`${m}.dirmeta`, c),
      });
    } catch (e) {
      if (!(e instanceof OstreeError && e.code === 'ECORRUPT')) throw e;
    }
  }
  return out;
}
