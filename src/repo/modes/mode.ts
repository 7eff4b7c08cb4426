/**
 * Repository modes (`core.mode` in REPO/config) and the facts about each that decide how a
 * content object is stored. Behaviour per mode (writing and reading content objects, checkout
 * rules) lives in one backend file per mode beside this one (backend.ts is the interface,
 * registry.ts the list); code elsewhere asks these facts or the backend instead of testing
 * the mode's name.
 */
import { OstreeError } from '../../errors.js';

export type RepoMode = 'bare' | 'bare-user' | 'bare-user-only' | 'archive';

export interface ModeTraits {
  readonly name: RepoMode;
  /** Loose content objects end in `.filez` (header + raw deflate) instead of `.file`. */
  readonly compressed: boolean;
  /** File ownership is the object file's own uid/gid (needs root to write). */
  readonly realOwnership: boolean;
  /** Ownership, mode and xattrs live in the `user.ostreemeta` xattr; symlinks are regular files. */
  readonly metaInXattr: boolean;
  /** uid/gid are always 0 and xattrs are not stored (canonical permissions). */
  readonly canonical: boolean;
  /** The name written as `core.mode` in a new config. */
  readonly configName: string;
}

const TRAITS: Record<RepoMode, ModeTraits> = {
  'bare': { name: 'bare', compressed: false, realOwnership: true, metaInXattr: false, canonical: false, configName: 'bare' },
  'bare-user': { name: 'bare-user', compressed: false, realOwnership: false, metaInXattr: true, canonical: false, configName: 'bare-user' },
  'bare-user-only': { name: 'bare-user-only', compressed: false, realOwnership: false, metaInXattr: false, canonical: true, configName: 'bare-user-only' },
  // upstream still writes the old name `archive-z2`
  'archive': { name: 'archive', compressed: true, realOwnership: false, metaInXattr: false, canonical: false, configName: 'archive-z2' },
};

export function modeTraits(mode: RepoMode): ModeTraits { return TRAITS[mode]; }

/** The extension of a loose content object in a repository of this mode. */
export function contentExtension(mode: RepoMode): 'file' | 'filez' { return TRAITS[mode].compressed ? 'filez' : 'file'; }

/** `core.mode` as written in a config file (`archive-z2` is upstream's old name for `archive`). */
export function modeFromConfig(value: string | undefined, where: string): RepoMode {
  if (value === undefined) throw new OstreeError('ECONFIG', `${where}: missing core.mode`);
  if (value === 'archive-z2') return 'archive';
  if (value in TRAITS) return value as RepoMode;
  throw new OstreeError('ECONFIG', `${where}: unsupported repository mode '${value}'`);
}

/** `core.mode` as written to a new config. */
export function modeToConfig(mode: RepoMode): string { return TRAITS[mode].configName; }

/** A mode named by a user (`init --mode=`). */
export function parseRepoMode(value: string): RepoMode {
  if (value === 'archive-z2' || value in TRAITS) return modeFromConfig(value, 'mode');
  throw new OstreeError('EINVAL', `invalid repository mode '${value}' (expected bare, bare-user, bare-user-only or archive)`);
}
