/**
 * How large a summary or its signature file may be. Fetched ones (from a server, a `file://`
 * remote, or the cache of them) get upstream 2022.7's OSTREE_MAX_METADATA_SIZE, 10 MiB, as its
 * fetcher bounds them; the repository's own REPO/summary and summary.sig, which we or the
 * repository's owner wrote, get the local metadata bound of objects/common.ts.
 */
import { MAX_METADATA_SIZE } from '../objects/common.js';

export const SUMMARY_MAX_SIZE = Math.min(10 * 1024 * 1024, MAX_METADATA_SIZE);
export const SUMMARY_SIG_MAX_SIZE = SUMMARY_MAX_SIZE;
export const LOCAL_SUMMARY_MAX_SIZE = MAX_METADATA_SIZE;
