/**
 * What `--help` shows besides the commander definitions: upstream 2022.7's operand summaries
 * (the text after `[OPTION…]`), the verbs upstream lists in no help, and each verb group's
 * layout. help.ts renders from these; the verb files keep only the one-line descriptions.
 * Keys are command paths below `ostree` (`''` is `ostree` itself, `'admin deploy'`).
 */

/** The operands after `[OPTION…]` in the usage line; a verb missing here shows its commander arguments. */
export const OPERANDS: ReadonlyMap<string, string> = new Map([
  ['', 'COMMAND'],
  ['admin', '--print-current-dir|COMMAND'],
  ['admin deploy', 'REFSPEC'],
  ['admin init-fs', 'PATH'],
  ['admin kargs', 'COMMAND'],
  ['admin kargs edit-in-place', 'ARGS'],
  ['admin instutil', 'COMMAND'],
  ['admin os-init', 'OSNAME'],
  ['admin stateroot-init', 'OSNAME'],
  ['admin pin', 'INDEX'],
  ['admin set-origin', 'REMOTENAME URL [BRANCH]'],
  ['admin switch', 'REFSPEC'],
  ['admin undeploy', 'INDEX'],
  ['cat', 'COMMIT PATH...'],
  ['checkout', 'COMMIT [DESTINATION]'],
  ['checksum', 'PATH'],
  ['commit', '[PATH]'],
  ['config', '(get KEY|set KEY VALUE|unset KEY)'],
  ['create-usb', 'MOUNT-PATH COLLECTION-ID REF [COLLECTION-ID REF...]'],
  ['diff', 'REV_OR_DIR REV_OR_DIR'],
  ['export', 'COMMIT'],
  ['find-remotes', 'COLLECTION-ID REF [COLLECTION-ID REF...]'],
  ['gpg-sign', 'COMMIT KEY-ID...'],
  ['init', ''],
  ['log', 'REV'],
  ['ls', 'COMMIT [PATH...]'],
  ['pull-local', 'SRC_REPO [REFS...]'],
  ['pull', 'REMOTE [BRANCH...]'],
  ['refs', '[PREFIX]'],
  ['remote', 'COMMAND'],
  ['remote add-cookie', 'NAME DOMAIN PATH COOKIE_NAME VALUE'],
  ['remote add', 'NAME [metalink=|mirrorlist=]URL [BRANCH...]'],
  ['remote delete-cookie', 'NAME DOMAIN PATH COOKIE_NAME'],
  ['remote delete', 'NAME'],
  ['remote gpg-import', 'NAME [KEY-ID...]'],
  ['remote gpg-list-keys', 'NAME'],
  ['remote list-cookies', 'NAME'],
  ['remote refs', 'NAME'],
  ['remote show-url', 'NAME'],
  ['remote summary', 'NAME'],
  ['reset', 'REF COMMIT'],
  ['rev-parse', 'REV'],
  ['show', 'OBJECT'],
  ['sign', 'COMMIT KEY-ID...'],
  ['static-delta apply-offline', ''],
  ['static-delta delete', ''],
  ['static-delta generate', '[TO]'],
  ['static-delta show', ''],
  ['static-delta verify', 'STATIC-DELTA-FILE [KEY-ID...]'],
]);

/** Verbs that run but that upstream's help does not list (internal, deprecated). */
export const UNLISTED: ReadonlySet<string> = new Set([
  'admin finalize-staged', 'admin boot-complete', 'admin boot-check', 'admin instutil', 'admin kargs edit-in-place',
]);

/**
 * Verb groups: the heading of their verb list and the width of its name column (each group
 * upstream pads its names its own way). `static-delta` prints a shorter help of its own.
 */
export interface GroupLayout { heading: string; nameWidth: number; short?: boolean }
export const GROUPS: ReadonlyMap<string, GroupLayout> = new Map([
  ['', { heading: 'Builtin Commands:', nameWidth: 18 }],
  ['admin', { heading: 'Builtin "admin" Commands:', nameWidth: 19 }],
  ['admin kargs', { heading: 'Builtin "admin kargs" Commands:', nameWidth: 24 }],
  ['admin instutil', { heading: 'Builtin "admin instutil" Commands:', nameWidth: 24 }],
  ['remote', { heading: 'Builtin "remote" Commands:', nameWidth: 18 }],
  ['static-delta', { heading: 'Builtin "static-delta" Commands:', nameWidth: 17, short: true }],
]);

/** Groups whose help reads as one verb's (`config get|set|unset` is one verb upstream). */
export const ONE_VERB_GROUPS: ReadonlySet<string> = new Set(['config']);

/** Repository verbs that take no `--repo` (upstream's OSTREE_BUILTIN_FLAG_NO_REPO). */
export const NO_REPO: ReadonlySet<string> = new Set(['checksum']);

/** The sub-verbs of a group in upstream's help order, when registration order differs. */
export const SUBVERB_ORDER: ReadonlyMap<string, readonly string[]> = new Map([
  ['remote', ['add', 'delete', 'show-url', 'list', 'gpg-import', 'gpg-list-keys', 'add-cookie', 'delete-cookie', 'list-cookies', 'refs', 'summary']],
]);
