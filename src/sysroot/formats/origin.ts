/**
 * Deployment `.origin` files (`ostree/deploy/<stateroot>/deploy/<csum>.<serial>.origin`): a
 * GKeyFile saying what the deployment tracks.  Keys libostree interprets:
 *   [origin] refspec, override-commit, unconfigured-state, unlocked
 *   [libostree-transient] pinned
 * Every other group/key (rpm-ostree's, for example) is kept untouched.  Serialization is the
 * KeyFile's, which matches g_key_file_to_data: `[origin]\nrefspec=X\n`, and with a pin
 * `[origin]\nrefspec=X\n\n[libostree-transient]\npinned=true\n`.
 */
import { KeyFile, KEYFILE_MAX_BYTES } from '../../glib/keyfile.js';
import { OstreeError } from '../../errors.js';
import { readFileBounded } from '../../util/fs.js';

/** The largest `.origin` file read (they hold a few lines). */
export const ORIGIN_MAX_BYTES = KEYFILE_MAX_BYTES;

/**
 * Read and parse the origin file `p` (size-bounded before it is read; anything but a regular
 * file refused, never opened for reading); null when there is none.
 */
export function readOriginFile(p: string): Origin | null {
  const data = readFileBounded(p, ORIGIN_MAX_BYTES, { what: 'Origin file' });
  return data === null ? null : Origin.parse(data.toString('utf8'), p);
}

export const ORIGIN_GROUP = 'origin';
export const TRANSIENT_GROUP = 'libostree-transient';

export class Origin {
  private constructor(readonly keyfile: KeyFile) {}

  /** Parse origin text; a malformed key file → ECORRUPT naming `source`. */
  static parse(text: string, source = 'origin file'): Origin {
    try {
      return new Origin(KeyFile.parse(text, source));
    } catch (e) {
      throw new OstreeError('ECORRUPT', `Parsing ${source}: ${(e as Error).message}`, { path: source, cause: e });
    }
  }

  /** What `deploy REFSPEC` writes: `[origin]\nrefspec=REFSPEC\n`. */
  static forRefspec(refspec: string): Origin {
    const kf = new KeyFile();
    kf.set(ORIGIN_GROUP, 'refspec', refspec);
    return new Origin(kf);
  }

  static fromKeyFile(kf: KeyFile): Origin { return new Origin(kf.clone()); }

  toString(): string { return this.keyfile.toString(); }

  clone(): Origin { return new Origin(this.keyfile.clone()); }

  get(group: string, key: string): string | undefined { return this.keyfile.get(group, key); }
  set(group: string, key: string, value: string): void { this.keyfile.set(group, key, value); }
  removeKey(group: string, key: string): void { this.keyfile.removeKey(group, key); }

  get refspec(): string | undefined { return this.keyfile.get(ORIGIN_GROUP, 'refspec'); }
  setRefspec(refspec: string): void { this.keyfile.set(ORIGIN_GROUP, 'refspec', refspec); }

  /** Remote part of the refspec (`remote:ref`), or null for a local ref / no refspec. */
  get remote(): string | null {
    const r = this.refspec;
    if (r === undefined) return null;
    const i = r.indexOf(':');
    return i < 0 ? null : r.slice(0, i);
  }

  /** Ref part of the refspec (after `remote:`), or undefined without a refspec. */
  get ref(): string | undefined {
    const r = this.refspec;
    if (r === undefined) return undefined;
    const i = r.indexOf(':');
    return i < 0 ? r : r.slice(i + 1);
  }

  /** `[libostree-transient] pinned`; an unreadable value counts as not pinned (upstream
   * ignores the parse error). */
  get pinned(): boolean {
    try {
      return this.keyfile.getBoolean(TRANSIENT_GROUP, 'pinned', false);
    } catch {
      return false;
    }
  }

  /** Pin sets `pinned=true`; unpin removes the key (the group stays, possibly empty, as
   * upstream's g_key_file_remove_key leaves it). */
  setPinned(on: boolean): void {
    if (on) this.keyfile.set(TRANSIENT_GROUP, 'pinned', 'true');
    else this.keyfile.removeKey(TRANSIENT_GROUP, 'pinned');
  }

  /** `[origin] unlocked` as written (upstream only acts on 'hotfix'). */
  get unlocked(): string | undefined { return this.keyfile.get(ORIGIN_GROUP, 'unlocked'); }
  setUnlocked(state: string | undefined): void {
    if (state === undefined) this.keyfile.removeKey(ORIGIN_GROUP, 'unlocked');
    else this.keyfile.set(ORIGIN_GROUP, 'unlocked', state);
  }
  get isHotfix(): boolean { return this.unlocked === 'hotfix'; }

  get overrideCommit(): string | undefined { return this.keyfile.get(ORIGIN_GROUP, 'override-commit'); }
  setOverrideCommit(csum: string | undefined): void {
    if (csum === undefined) this.keyfile.removeKey(ORIGIN_GROUP, 'override-commit');
    else this.keyfile.set(ORIGIN_GROUP, 'override-commit', csum);
  }

  get unconfiguredState(): string | undefined { return this.keyfile.get(ORIGIN_GROUP, 'unconfigured-state'); }
  setUnconfiguredState(text: string | undefined): void {
    if (text === undefined) this.keyfile.removeKey(ORIGIN_GROUP, 'unconfigured-state');
    else this.keyfile.set(ORIGIN_GROUP, 'unconfigured-state', text);
  }

  /** A copy without what must not carry over to a new deployment: the whole
   * `[libostree-transient]` group, `origin/override-commit` and `origin/unlocked`. */
  withoutTransientState(): Origin {
    const o = this.clone();
    o.keyfile.removeGroup(TRANSIENT_GROUP);
    o.keyfile.removeKey(ORIGIN_GROUP, 'override-commit');
    o.keyfile.removeKey(ORIGIN_GROUP, 'unlocked');
    return o;
  }
}
