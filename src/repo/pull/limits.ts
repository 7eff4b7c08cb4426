/**
 * The size bounds of a pull: how much of anything a remote or a source repository can make us
 * read, hold or inflate. Each is checked before the data is read whole (HTTP: from
 * Content-Length and while receiving; local files: from fstat), so an oversized or endless
 * input is refused without being held in memory. Metadata objects are bounded by
 * MAX_METADATA_SIZE (objects/common.ts), the one bound every reader of them uses.
 */

import { MAX_METADATA_SIZE } from '../objects/common.js';

/** The summary file and its signatures: summary/limits.ts, the one owner of those bounds. */
export { SUMMARY_MAX_SIZE, SUMMARY_SIG_MAX_SIZE } from '../summary/limits.js';
/**
 * A metadata object (and the summary, a metalink, a delta superblock) fetched from a server:
 * upstream 2022.7's OSTREE_MAX_METADATA_SIZE, 10 MiB. Local readers accept up to
 * MAX_METADATA_SIZE (objects/common.ts); a server gets the tighter bound, as upstream's fetcher.
 */
export const PULL_METADATA_MAX_SIZE = Math.min(10 * 1024 * 1024, MAX_METADATA_SIZE);

/** A remote's `config` (read for its core.mode when there is no summary) and mirror probes. */
export const REMOTE_CONFIG_MAX_SIZE = 1024 * 1024;

/** A mirrorlist file. */
export const MIRRORLIST_MAX_SIZE = 1024 * 1024;

/** A ref file on the server (`refs/heads/REF`): one checksum and a newline. */
export const REF_MAX_SIZE = 4096;

/** Static delta probes (superblocks or indexes; fetched but not applied). */
export const DELTA_PROBE_MAX_SIZE = PULL_METADATA_MAX_SIZE;

/**
 * Content objects whose header declares more than this are streamed through the checksum
 * rather than inflated in memory (below archive.ts's hard cap, INFLATE_IN_MEMORY_MAX: a pull
 * holds many objects at once). No inflate ever produces more than the declared size.
 */
export const PULL_INFLATE_IN_MEMORY_MAX = 4 * 1024 * 1024;

/** Downloaded content objects up to this size (compressed) stay in memory. */
export const CONTENT_IN_MEMORY_MAX = 1024 * 1024;
