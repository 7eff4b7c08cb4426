/**
 * What a commit changes on the way in (upstream's commit modifier and the `ostree commit`
 * filter): `--owner-uid/--owner-gid`, `--mode-ro-executables`, `--statoverride` (`+MODE PATH`
 * or `MODE PATH` adds bits, `=MODE PATH` sets the permission bits), `--skip-list`, and the
 * canonical permissions of `--canonical-permissions` and bare-user-only repositories. Paths are
 * the commit's own (`/a/nested/2`), matched exactly.
 *
 * The same rules apply to a file in the walk's threads (ModeAdjust, by value) and here for
 * directories and devino cache hits, so both agree.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import { S_IFDIR, S_IFMT, S_IFREG } from '../objects/common.js';

/** Ownership and mode of one entry, before or after the modifier. */
export interface EntryInfo { uid: number; gid: number; mode: number }

/** The per-file part of the rules, sent with a file to a writer thread. */
export interface ModeAdjust { add?: number; set?: number }

/** The rules that apply to every entry alike (part of the writers' context). */
export interface CommonRules {
  ownerUid?: number;
  ownerGid?: number;
  roExecutables?: boolean;
  canonical?: boolean;
}

/** Apply the rules to one entry's ownership and mode (upstream's filter, then canonical permissions). */
export function applyRules(info: EntryInfo, rules: CommonRules, adjust?: ModeAdjust): EntryInfo {
  let { uid, gid, mode } = info;
  if (rules.ownerUid !== undefined) uid = rules.ownerUid;
  if (rules.ownerGid !== undefined) gid = rules.ownerGid;
  const fmt = mode & S_IFMT;
  if (fmt === S_IFREG && rules.roExecutables && (mode & 0o111) !== 0) mode &= ~0o222;
  if (adjust?.add !== undefined) mode |= adjust.add;
  else if (adjust?.set !== undefined) mode = fmt | adjust.set;
  if (rules.canonical) {
    if (fmt === S_IFREG) mode &= S_IFREG | 0o755;
    else if (fmt === S_IFDIR) mode &= S_IFDIR | 0o755;
    uid = 0;
    gid = 0;
  }
  return { uid, gid, mode };
}

/** Lines of a modifier file (statoverride, skip-list), as upstream reads them: empty lines skipped. */
function fileLines(file: string, what: string): string[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    throw new OstreeError('ENOENT', `${what}: cannot read '${file}': ${(e as Error).message}`, { cause: e });
  }
  return text.split('\n').filter((l) => l !== '');
}

/** A statoverride value: a decimal number (upstream reads it with strtod, so `+1048` works). */
function statoverrideMode(text: string): number {
  const n = Number.parseFloat(text);
  if (!Number.isFinite(n)) throw new OstreeError('EINVAL', `Malformed statoverride mode '${text}'`);
  return Math.trunc(n) >>> 0;
}

export class CommitModifier {
  readonly rules: CommonRules;
  private readonly modeAdds = new Map<string, number>();
  private readonly modeSets = new Map<string, number>();
  private readonly skipList = new Set<string>();
  private readonly unmatchedAdds = new Set<string>();
  private readonly unmatchedSkips = new Set<string>();

  constructor(rules: CommonRules, files: { statoverride?: string; skipList?: string } = {}) {
    this.rules = rules;
    if (files.statoverride !== undefined) this.loadStatoverride(files.statoverride);
    if (files.skipList !== undefined) {
      for (const l of fileLines(files.skipList, '--skip-list')) { this.skipList.add(l); this.unmatchedSkips.add(l); }
    }
  }

  private loadStatoverride(file: string): void {
    for (const line of fileLines(file, '--statoverride')) {
      const sp = line.indexOf(' ');
      if (sp < 0) throw new OstreeError('EINVAL', 'Malformed statoverride file (no space found)');
      const p = line.slice(sp + 1);
      if (line.startsWith('=')) this.modeSets.set(p, statoverrideMode(line.slice(1, sp)));
      else { this.modeAdds.set(p, statoverrideMode(line.slice(0, sp))); this.unmatchedAdds.add(p); }
    }
  }

  /** Whether anything here can change an entry (else devino hits are always reusable). */
  get changesEntries(): boolean {
    const r = this.rules;
    return r.ownerUid !== undefined || r.ownerGid !== undefined || r.roExecutables === true || r.canonical === true
      || this.modeAdds.size > 0 || this.modeSets.size > 0;
  }

  /** Whether `path` is in the skip-list (and so is left out of the commit). */
  skips(path: string): boolean {
    if (!this.skipList.has(path)) return false;
    this.unmatchedSkips.delete(path);
    return true;
  }

  /**
   * The statoverride for `path`, if any. As upstream's filter: a mode addition wins over a mode
   * setting and is used up by the first entry it applies to (a later source with the same
   * path, or the second look at a directory, gets only a setting).
   */
  adjustFor(path: string): ModeAdjust | undefined {
    const add = this.modeAdds.get(path);
    if (add !== undefined) {
      this.modeAdds.delete(path);
      this.unmatchedAdds.delete(path);
      return { add };
    }
    const set = this.modeSets.get(path);
    return set !== undefined ? { set } : undefined;
  }

  /** The entry at `path` after every rule. */
  apply(path: string, info: EntryInfo): EntryInfo {
    return applyRules(info, this.rules, this.adjustFor(path));
  }

  /**
   * The metadata of the subdirectory at `path` (not the root) after the rules. Upstream runs
   * its filter on a subdirectory twice, first as an entry of its parent (the result only
   * decides whether to skip it) and then for its own metadata: a statoverride addition is
   * used up by the first run, so only a setting (`=MODE`) reaches a directory's dirmeta.
   */
  applyDir(path: string, info: EntryInfo): EntryInfo {
    this.adjustFor(path);
    return this.apply(path, info);
  }

  /** Upstream's errors for statoverride additions and skip-list paths that matched nothing. */
  checkAllMatched(warn: (line: string) => void): void {
    if (this.unmatchedAdds.size > 0) {
      for (const p of this.unmatchedAdds) warn(`Unmatched statoverride path: ${p}`);
      throw new OstreeError('EINVAL', 'Unmatched statoverride paths');
    }
    if (this.unmatchedSkips.size > 0) {
      for (const p of this.unmatchedSkips) warn(`Unmatched skip-list path: ${p}`);
      throw new OstreeError('EINVAL', 'Unmatched skip-list paths');
    }
  }
}
