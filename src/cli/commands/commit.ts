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
import { Repo, type CommitProgress, type CommitTreeOptions } from '../../repo/repo.js';
import { commitSigner } from '../../repo/sign/commit-sign.js';
import { collect, parseTimestamp } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';
import { withTerminalProgress } from '../progress.js';

interface CommitFlags {
  subject?: string; body?: string; bodyFile?: string; branch?: string; orphan?: boolean; tree: string[];
  addMetadataString: string[]; addMetadata: string[]; addDetachedMetadataString: string[];
  timestamp?: string; parent?: string; xattrs: boolean; ownerUid?: string; ownerGid?: string;
  bootable?: boolean; bindings: boolean; bindRef: string[]; fsync?: string; disableFsync?: boolean;
  canonicalPermissions?: boolean; skipIfUnchanged?: boolean; consume?: boolean;
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

/** What to commit: a directory (argument or --tree=dir=) or an existing commit's tree (--tree=ref=). */
function commitSource(dirArg: string | undefined, trees: string[]): { dir: string; refTree?: undefined } | { dir?: undefined; refTree: string } {
  let dir = dirArg;
  let refTree: string | undefined;
  for (const t of trees) {
    if (dir !== undefined || refTree !== undefined) throw new OstreeError('EINVAL', 'only one --tree can be committed');
    if (t.startsWith('dir=')) dir = t.slice(4);
    else if (t.startsWith('ref=')) refTree = t.slice(4);
    else throw new OstreeError('EINVAL', `unsupported --tree '${t}' (dir=PATH or ref=REV)`);
  }
  return refTree !== undefined ? { refTree } : { dir: dir ?? process.cwd() };
}

function commitOptions(flags: CommitFlags): CommitTreeOptions {
  const { metadata, detached } = metadataPairs(flags);
  const body = flags.bodyFile ? fs.readFileSync(flags.bodyFile, 'utf8') : flags.body;
  return {
    ...(flags.branch && !flags.orphan ? { branch: flags.branch } : {}),
    subject: flags.subject ?? '',
    body: body ?? '',
    metadata,
    ...(flags.timestamp !== undefined ? { timestamp: parseTimestamp(flags.timestamp) } : {}),
    ...(flags.parent !== undefined ? { parent: flags.parent === 'none' ? null : flags.parent } : flags.orphan ? { parent: null } : {}),
    noXattrs: !flags.xattrs,
    ...(flags.ownerUid !== undefined ? { ownerUid: Number(flags.ownerUid) } : {}),
    ...(flags.ownerGid !== undefined ? { ownerGid: Number(flags.ownerGid) } : {}),
    bootable: flags.bootable === true,
    bindings: flags.bindings,
    bindRefs: flags.bindRef,
    canonicalPermissions: flags.canonicalPermissions === true,
    skipIfUnchanged: flags.skipIfUnchanged === true,
    detachedMetadata: detached,
  };
}

async function runCommit(dirArg: string | undefined, flags: CommitFlags, cmd: Command): Promise<void> {
  const r = await Repo.open(repoPath(cmd));
  if (!flags.branch && !flags.orphan) throw new OstreeError('EINVAL', 'A branch must be specified with --branch, or use --orphan');
  const source = commitSource(dirArg, flags.tree);
  const signer = commitSigner(r, { keys: flags.sign, ...(flags.signType !== undefined ? { signType: flags.signType } : {}), gpgKeys: flags.gpgSign, gpgHomedir: flags.gpgHomedir ?? null });
  const opts: CommitTreeOptions = { ...commitOptions(flags), ...(signer ? { beforeRefUpdate: signer } : {}) };
  if (flags.disableFsync || flags.fsync === 'false') r.config.set('core', 'fsync', 'false');
  let csum: string;
  if (source.refTree !== undefined) {
    if (flags.bootable) throw new OstreeError('EINVAL', '--bootable is not supported with --tree=ref=');
    const base = await r.loadCommit(await r.resolveRev(source.refTree));
    csum = await r.writeCommit(base.rootTree, base.rootMeta, opts);
  } else {
    const dir = source.dir;
    csum = await withTerminalProgress(formatCommitProgress, (progress) =>
      r.commitTree(dir, progress ? { ...opts, progress } : opts));
    if (flags.consume) fs.rmSync(dir, { recursive: true, force: true });
  }
  out(`${csum}\n`);
}

export function register(program: Command): void {
  program.command('commit')
    .description('Commit a new revision')
    .argument('[path]', 'Directory to commit (default: current directory)')
    .option('-s, --subject <subject>', 'One line subject')
    .option('-m, --body <body>', 'Full description')
    .option('--body-file <file>', 'Commit message from FILE')
    .option('-b, --branch <ref>', 'Branch')
    .option('--orphan', 'Create a commit without writing a ref')
    .option('--tree <spec>', 'dir=PATH or ref=REV', collect, [])
    .option('--add-metadata-string <kv>', 'Add a key/value pair to metadata', collect, [])
    .option('--add-detached-metadata-string <kv>', 'Add a key/value pair to detached metadata', collect, [])
    .option('--add-metadata <kv>', 'Add a key/value pair to metadata, VALUE in GVariant text', collect, [])
    .option('--timestamp <time>', 'Override the timestamp of the commit')
    .option('--parent <rev>', "Parent commit checksum, or 'none'")
    .option('--no-xattrs', 'Do not import extended attributes')
    .option('--owner-uid <uid>', 'Set file ownership user id')
    .option('--owner-gid <gid>', 'Set file ownership group id')
    .option('--bootable', 'Add ostree.linux and ostree.bootable metadata')
    .option('--no-bindings', 'Do not write any ref bindings')
    .option('--bind-ref <branch>', 'Add a ref to ref binding commit metadata', collect, [])
    .option('--canonical-permissions', 'Canonicalize permissions (uid/gid 0, mode & 0755, no xattrs)')
    .option('--skip-if-unchanged', 'If the contents are unchanged from the previous commit, do nothing')
    .option('--consume', 'Delete the committed directory afterwards')
    .option('--fsync <bool>', 'Whether to sync the repo filesystem')
    .option('--disable-fsync', 'Do not sync the repo filesystem')
    .option('--gpg-sign <key-id>', 'GPG Key ID to sign the commit with', collect, [])
    .option('--gpg-homedir <homedir>', 'GPG Homedir to use when looking for keyrings')
    .option('--sign <key-id>', 'Sign the commit with', collect, [])
    .option('--sign-type <name>', "Signature type to use (defaults to 'ed25519')")
    .action(runCommit);
}
