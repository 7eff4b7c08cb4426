/**
 * `ostree commit` (upstream 2022.7 options): turns the command line into CommitTreeOptions,
 * runs the commit with a terminal progress line, and prints the new checksum. The commit
 * itself is src/repo (Repo.commitTree / writeCommit).
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Variant } from '../../glib/gvariant.js';
import { parseVariantText } from '../../glib/gvariant-text.js';
import { Repo, type CommitProgress, type CommitSource, type CommitStats, type ComposeOptions } from '../../repo/repo.js';
import { commitSigner } from '../../repo/sign/commit-sign.js';
import { collect, intOption, parseTimestamp } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';
import { withTerminalProgress } from '../progress.js';

interface CommitFlags {
  subject?: string; body?: string; bodyFile?: string; branch?: string; orphan?: boolean; tree: string[];
  addMetadataString: string[]; addMetadata: string[]; addDetachedMetadataString: string[]; keepMetadata: string[];
  bindRef: string[]; base?: string;
  timestamp?: string; parent?: string; xattrs: boolean; ownerUid?: number; ownerGid?: number;
  bootable?: boolean; bindings: boolean; fsync?: string; disableFsync?: boolean;
  canonicalPermissions?: boolean; skipIfUnchanged?: boolean; consume?: boolean;
  modeRoExecutables?: boolean; statoverride?: string; skipList?: string; linkCheckoutSpeedup?: boolean;
  devinoCanonical?: boolean; tarAutocreateParents?: boolean; tarPathnameFilter?: string; generateSizes?: boolean;
  tableOutput?: boolean;
  gpgSign: string[]; gpgHomedir?: string; sign: string[]; signType?: string;
}


/** `Committing: 1234/30000 files` (the total is known once the walk is done). */
function formatCommitProgress(p: CommitProgress): string {
  return p.walkDone
    ? `Committing: ${p.filesWritten}/${p.filesScanned} files`
    : `Committing: ${p.filesWritten} files stored, ${p.filesScanned} found...`;
}

/** `KEY=VALUE` of a metadata option (upstream's message when the '=' is missing). */
function metadataPair(kv: string): [string, string] {
  const i = kv.indexOf('=');
  if (i < 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE metadata '${kv}'`);
  return [kv.slice(0, i), kv.slice(i + 1)];
}

function metadataPairs(flags: CommitFlags): { metadata: Array<[string, Variant]>; detached: Array<[string, Variant]> } {
  const asString = (kv: string): [string, Variant] => { const [k, v] = metadataPair(kv); return [k, new Variant('s', v)]; };
  const asVariant = (kv: string): [string, Variant] => { const [k, v] = metadataPair(kv); return [k, parseVariantText(v)]; };
  return {
    metadata: [...flags.addMetadataString.map(asString), ...flags.addMetadata.map(asVariant)],
    detached: flags.addDetachedMetadataString.map(asString),
  };
}

/** The sources to commit: each --tree (dir=, ref=, tar=) in order, else the directory argument or '.'. */
function commitSources(dirArg: string | undefined, trees: string[]): CommitSource[] {
  if (trees.length === 0) return [{ kind: 'dir', path: dirArg ?? '.' }];
  return trees.map((t): CommitSource => {
    const eq = t.indexOf('=');
    if (eq < 0) throw new OstreeError('EINVAL', `Missing type in tree specification '${t}'`);
    const type = t.slice(0, eq);
    const v = t.slice(eq + 1);
    if (type === 'dir') return { kind: 'dir', path: v };
    if (type === 'ref') return { kind: 'ref', rev: v };
    if (type === 'tar') return { kind: 'tar', path: v };
    throw new OstreeError('EINVAL', `Invalid tree type specification '${type}'`);
  });
}

/** `--tar-pathname-filter=REGEX,REPLACEMENT` (GRegex replaces every match; \\N back-references). */
function pathnameFilter(spec: string): { regex: RegExp; replacement: string } {
  const comma = spec.indexOf(',');
  if (comma < 0) throw new OstreeError('EINVAL', "Missing ',' in --tar-pathname-filter");
  let regex: RegExp;
  try { regex = new RegExp(spec.slice(0, comma), 'g'); } catch (e) {
    throw new OstreeError('EINVAL', `--tar-pathname-filter: ${(e as Error).message}`);
  }
  return { regex, replacement: spec.slice(comma + 1).replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1') };
}

function commitOptions(flags: CommitFlags): ComposeOptions {
  const { metadata, detached } = metadataPairs(flags);
  const body = flags.bodyFile ? fs.readFileSync(flags.bodyFile, 'utf8') : flags.body;
  return {
    ...(flags.branch ? { branch: flags.branch } : {}),
    subject: flags.subject ?? '',
    body: body ?? '',
    metadata,
    keepMetadata: flags.keepMetadata,
    ...(flags.orphan || flags.bindRef.length > 0 ? { bindRefs: flags.bindRef } : {}),
    ...(flags.timestamp !== undefined ? { timestamp: parseTimestamp(flags.timestamp) } : {}),
    ...(flags.parent !== undefined ? { parent: flags.parent === 'none' ? null : flags.parent } : flags.orphan ? { parent: null } : {}),
    noXattrs: !flags.xattrs,
    ...(flags.ownerUid !== undefined && flags.ownerUid >= 0 ? { ownerUid: flags.ownerUid } : {}),
    ...(flags.ownerGid !== undefined && flags.ownerGid >= 0 ? { ownerGid: flags.ownerGid } : {}),
    bootable: flags.bootable === true,
    bindings: flags.bindings,
    canonicalPermissions: flags.canonicalPermissions === true,
    skipIfUnchanged: flags.skipIfUnchanged === true,
    detachedMetadata: detached,
    ...(flags.base !== undefined ? { base: flags.base } : {}),
    ...(flags.statoverride !== undefined ? { statoverride: flags.statoverride } : {}),
    ...(flags.skipList !== undefined ? { skipList: flags.skipList } : {}),
    roExecutables: flags.modeRoExecutables === true,
    linkCheckoutSpeedup: flags.linkCheckoutSpeedup === true,
    devinoCanonical: flags.devinoCanonical === true,
    consume: flags.consume === true,
    tarAutocreateParents: flags.tarAutocreateParents === true,
    ...(flags.tarPathnameFilter !== undefined ? { tarPathnameFilter: pathnameFilter(flags.tarPathnameFilter) } : {}),
    generateSizes: flags.generateSizes === true,
  };
}

function printStats(checksum: string, st: CommitStats): void {
  out(`Commit: ${checksum}\nMetadata Total: ${st.metadataTotal}\nMetadata Written: ${st.metadataWritten}\n`
    + `Content Total: ${st.contentTotal}\nContent Written: ${st.contentWritten}\nContent Cache Hits: ${st.cacheHits}\n`
    + `Content Bytes Written: ${st.contentBytesWritten}\n`);
}

async function runCommit(dirArg: string | undefined, flags: CommitFlags, cmd: Command): Promise<void> {
  const r = await Repo.open(repoPath(cmd));
  if (!flags.branch && !flags.orphan) throw new OstreeError('EINVAL', 'A branch must be specified with --branch, or use --orphan');
  const sources = commitSources(dirArg, flags.tree);
  const signer = commitSigner(r, { keys: flags.sign, ...(flags.signType !== undefined ? { signType: flags.signType } : {}), gpgKeys: flags.gpgSign, gpgHomedir: flags.gpgHomedir ?? null });
  const opts = { ...commitOptions(flags), ...(signer ? { beforeRefUpdate: signer } : {}) };
  if (flags.disableFsync || flags.fsync === 'false') r.config.set('core', 'fsync', 'false');
  const { checksum, stats } = await withTerminalProgress(formatCommitProgress, (progress) =>
    r.commit(sources, progress ? { ...opts, progress } : opts));
  if (flags.tableOutput) printStats(checksum, stats);
  else out(`${checksum}\n`);
}

export function register(program: Command): void {
  program.command('commit')
    .description('Commit a new revision')
    .argument('[path]', 'Directory to commit (default: current directory)')
    .option('-s, --subject <subject>', 'One line subject')
    .option('-m, --body <body>', 'Full description')
    .option('-F, --body-file <file>', 'Commit message from FILE path')
    .option('-b, --branch <ref>', 'Branch')
    .option('--parent <commit>', 'Parent commit checksum, or "none"')
    .option('--orphan', 'Create a commit without writing a ref')
    .option('--no-bindings', 'Do not write any ref bindings')
    .option('--tree <spec>', 'Overlay the given argument as a tree (dir=PATH or tar=TARFILE or ref=COMMIT)', collect, [])
    .option('--bind-ref <ref>', 'Add a ref to ref binding commit metadata', collect, [])
    .option('--base <rev>', 'Start from the given commit as a base (no modifiers apply)')
    .option('--add-metadata-string <kv>', 'Add a key/value pair to metadata', collect, [])
    .option('--add-metadata <kv>', 'Add a key/value pair to metadata, where the KEY is a string, and VALUE is in GVariant Text Format', collect, [])
    .option('--keep-metadata <key>', 'Keep metadata KEY and its associated VALUE from parent', collect, [])
    .option('--add-detached-metadata-string <kv>', 'Add a key/value pair to detached metadata', collect, [])
    .option('--owner-uid <uid>', 'Set file ownership user id', intOption('--owner-uid'))
    .option('--owner-gid <gid>', 'Set file ownership group id', intOption('--owner-gid'))
    .option('--canonical-permissions', 'Canonicalize permissions in the same way bare-user does for hardlinked files')
    .option('--bootable', 'Flag this commit as a bootable OSTree (e.g. contains a Linux kernel)')
    .option('--mode-ro-executables', 'Ensure executable files are not writable')
    .option('--no-xattrs', 'Do not import extended attributes')
    .option('--link-checkout-speedup', 'Optimize for commits of trees composed of hardlinks into the repository')
    .option('-I, --devino-canonical', 'Assume hardlinked objects are unmodified.  Implies --link-checkout-speedup')
    .option('--tar-autocreate-parents', 'When loading tar archives, automatically create parent directories as needed')
    .option('--tar-pathname-filter <regex,replacement>', 'When loading tar archives, use REGEX,REPLACEMENT against path names')
    .option('--skip-if-unchanged', 'If the contents are unchanged from previous commit, do nothing')
    .option('--statoverride <path>', 'File containing list of modifications to make to permissions')
    .option('--skip-list <path>', 'File containing list of files to skip')
    .option('--consume', 'Consume (delete) content after commit (for local directories)')
    .option('--table-output', 'Output more information in a KEY: VALUE format')
    .option('--generate-sizes', 'Generate size information along with commit metadata')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--fsync <policy>', 'Specify how to invoke fsync()')
    .option('--timestamp <timestamp>', 'Override the timestamp of the commit')
    .option('--gpg-sign <key-id>', 'GPG Key ID to sign the commit with', collect, [])
    .option('--gpg-homedir <homedir>', 'GPG Homedir to use when looking for keyrings')
    .option('--sign <key-id>', 'Sign the commit with', collect, [])
    .option('--sign-type <name>', "Signature type to use (defaults to 'ed25519')")
    .action(runCommit);
}
