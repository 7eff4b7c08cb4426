/**
 * The names the image builder, the scenarios and the guest agree on: the stateroot, the branches,
 * the filesystem labels the kernel command lines and scenario scripts look for.
 */
export const OSNAME = 'debian';
export const BRANCH = 'debian/bookworm';
export const ROOT_LABEL = 'ostree-root';
export const PLAIN_LABEL = 'plain-root';
export const UPDATE_LABEL = 'ostree-update';
/**
 * Branch of the update disk's third commit: v2 with /etc/CONFLICT_FILE turned into a
 * directory, so finalizing it on a machine whose /etc/CONFLICT_FILE was edited fails
 * ("Modified config file newly defaults to directory").
 */
export const CONFLICT_BRANCH = 'debian/bookworm-etc-conflict';
export const CONFLICT_FILE = 'ostree-test-conflict.conf';
