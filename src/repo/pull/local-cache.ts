/**
 * `pull --localcache-repo=REPO`: repositories on this machine that an HTTP pull takes objects
 * from before fetching them. Every object taken from one is verified like a downloaded one
 * (metadata re-hashed, content converted through import.ts with its checksum checked), so a
 * cache can save downloads but never change what is pulled.
 */
import { OstreeError } from '../../errors.js';
import { sha256hex } from '../objects/checksum.js';
import type { ObjectType } from '../objects/common.js';
import { Repo } from '../repo.js';
import { hasLooseObject, readMetadataObjectIfPresent } from '../store.js';
import { importContentObject, type ContentImportContext } from './import.js';

export class LocalCache {
  private constructor(private readonly repos: Repo[]) {}

  static async open(paths: readonly string[] | undefined): Promise<LocalCache> {
    const repos: Repo[] = [];
    for (const p of paths ?? []) {
      try { repos.push(await Repo.open(p)); } catch (e) {
        throw new OstreeError('ENOENT', `Opening local cache repository ${p}: ${(e as Error).message}`, { cause: e });
      }
    }
    return new LocalCache(repos);
  }

  get empty(): boolean { return this.repos.length === 0; }

  /** A metadata object from the first cache holding it, verified; null when none has it. */
  metadata(checksum: string, type: ObjectType): Buffer | null {
    for (const r of this.repos) {
      const data = readMetadataObjectIfPresent(r, checksum, type);
      if (data === null) continue;
      if (type !== 'commitmeta' && sha256hex(data) !== checksum) continue; // a bad cache copy: fetch it instead
      return data;
    }
    return null;
  }

  /**
   * Import content object `checksum` from the first cache holding it into the destination
   * (verified); the bytes written, or null when no cache has it.
   */
  async content(checksum: string, dest: Pick<ContentImportContext, 'destPath' | 'destMode' | 'bareUserOnlyFiles'>): Promise<number | null> {
    for (const r of this.repos) {
      if (!hasLooseObject(r, checksum, 'file')) continue; // (read from this cache's own objects below)
      const n = await importContentObject({ ...dest, srcPath: r.path, srcMode: r.mode, untrusted: true }, checksum);
      return Math.max(0, n);
    }
    return null;
  }
}
