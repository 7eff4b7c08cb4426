/**
 * `ostree summary`, the library side: `-u` (the `ostree-metadata` commit in a repository with a
 * collection ID, then the summary itself, then its signatures) and `--view`/`--raw`. The
 * pieces:
 *
 *   format.ts           the summary and summary.sig formats (parse and serialize)
 *   generate.ts         building REPO/summary from the refs; the automatic update
 *   delta-index.ts      static deltas as the summary lists them; REPO/delta-indexes
 *   metadata-commit.ts  the `ostree-metadata` ref
 *   local.ts            REPO/summary and REPO/summary.sig, read and written
 *   cache.ts            REPO/tmp/cache/summaries, the client's copy of remote summaries
 *   dump.ts             the text forms
 *
 * Signing is the sign code's: it passes `signCommit` and `signSummary` in.
 */
import type { Variant } from '../../glib/gvariant.js';
import { repoCollectionId } from '../collections.js';
import { formatSummary, formatSummaryRaw } from './dump.js';
import { regenerateSummary, type SummaryRepo } from './generate.js';
import { readLocalSummary } from './local.js';
import { writeMetadataCommit } from './metadata-commit.js';

export type { SummaryRepo } from './generate.js';

export interface SummaryUpdateOptions {
  /** `--add-metadata` entries (a{sv}), in command-line order. */
  additionalMetadata?: Array<[string, Variant]>;
  /** Sign the new `ostree-metadata` commit (repositories with a collection ID). */
  signCommit?: (checksum: string) => Promise<void> | void;
  /** Sign the new REPO/summary (writing REPO/summary.sig). */
  signSummary?: () => Promise<void> | void;
}

/** `ostree summary -u`. */
export async function updateSummary(repo: SummaryRepo, opts: SummaryUpdateOptions = {}): Promise<void> {
  const additional = opts.additionalMetadata ?? [];
  await repo.withLock(false, async () => {
    const collectionId = repoCollectionId(repo);
    if (collectionId !== null) await writeMetadataCommit(repo, collectionId, additional, opts.signCommit);
    await regenerateSummary(repo, additional);
    if (opts.signSummary) await opts.signSummary();
  });
}

/** `ostree summary --view` (or `--raw`): the repository's summary as text. */
export function viewSummary(repoPath: string, raw: boolean): string {
  const data = readLocalSummary(repoPath);
  return raw ? `${formatSummaryRaw(data)}\n` : formatSummary(data);
}
