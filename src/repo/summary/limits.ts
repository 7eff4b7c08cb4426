/**
 * How large a summary or its signature file may be, wherever it is read from (a server, a
 * `file://` remote, the local repository, the cache): upstream bounds both by
 * OSTREE_MAX_METADATA_SIZE, the metadata bound of objects/common.ts.
 */
import { MAX_METADATA_SIZE } from '../objects/common.js';

export const SUMMARY_MAX_SIZE = MAX_METADATA_SIZE;
export const SUMMARY_SIG_MAX_SIZE = MAX_METADATA_SIZE;
