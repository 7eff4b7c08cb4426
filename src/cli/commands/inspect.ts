/**
 * `ostree log`, `show`, `ls` and `cat`: reading commits and trees, printed exactly as upstream
 * 2022.7 prints them. The walks (history, tree, symlinks inside a commit) are in
 * src/repo/inspect.ts; this file formats.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { deserialize, printVariant, serialize, type Variant } from '../../glib/gvariant.js';
import { formatSize } from '../../util/format-size.js';
import { commitSizesSummary, openFileInCommit } from '../../repo/inspect.js';
import { parentChain, walkTree, type TreeEntry } from '../../repo/traverse.js';
import { commitContentChecksum, commitMetadataString } from '../../repo/objects/commit.js';
import { isSymlinkMode } from '../../repo/objects/common.js';
import { Repo, type CommitObject } from '../../repo/repo.js';
import { describeResult } from '../../repo/sign/gpg/describe.js';
import { gpgVerifyCommit } from '../../repo/sign/gpg/commit.js';
import { repoPath } from '../context.js';
import { out, stdoutClosed, writeChunk } from '../output.js';

function formatDate(ts: bigint): string {
  const d = new Date(Number(ts) * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function indented(text: string): string {
  return text.split('\n').map((l) => `    ${l}\n`).join('');
}

/** One commit in `ostree log`/`ostree show` format. */
export function formatCommit(checksum: string, c: CommitObject): string {
  let s = `commit ${checksum}\n`;
  if (c.parent) s += `Parent:  ${c.parent}\n`;
  s += `ContentChecksum:  ${commitContentChecksum(c)}\n`;
  s += `Date:  ${formatDate(c.timestamp)}\n`;
  const version = commitMetadataString(c, 'version');
  if (version !== undefined) s += `Version: ${version}\n`;
  if (c.subject !== '') s += '\n' + indented(c.subject);
  else s += '(no subject)\n';
  if (c.body !== '') s += '\n' + indented(c.body);
  s += '\n';
  return s;
}

/** One commit as `--raw` prints it: the commit variant in GVariant text. */
function rawCommit(csum: string, c: CommitObject): string {
  return `commit ${csum}\n` + printVariant('(a{sv}aya(say)sstayay)', [
    c.metadata, c.parent ? Buffer.from(c.parent, 'hex') : Buffer.alloc(0), c.related, c.subject, c.body, c.timestamp,
    Buffer.from(c.rootTree, 'hex'), Buffer.from(c.rootMeta, 'hex'),
  ], true) + '\n';
}

interface LsFlags { recursive?: boolean; dironly?: boolean; checksum?: boolean; xattrs?: boolean; nulFilenamesOnly?: boolean }

function lsLine(type: string, mode: number, uid: number, gid: number, size: number, p: string, extra: { checksum?: string; xattrs?: string; target?: string }): string {
  let s = `${type}0${(mode & 0o7777).toString(8).padStart(4, '0')} ${uid} ${gid} ${String(size).padStart(6, ' ')} `;
  if (extra.checksum !== undefined) s += `${extra.checksum} `;
  if (extra.xattrs !== undefined) s += `{ ${extra.xattrs} } `;
  s += p;
  if (extra.target !== undefined) s += ` -> ${extra.target}`;
  return s + '\n';
}

function xattrText(x: Array<[string, Buffer]>): string {
  return printVariant('a(ayay)', x.map(([n, v]) => [Buffer.concat([Buffer.from(n), Buffer.from([0])]), v]), true);
}

/** The `ls` line of one entry (directory or file), or its NUL-terminated name with --nul-filenames-only. */
function lsEntry(r: Repo, e: TreeEntry, o: LsFlags): string {
  if (o.nulFilenamesOnly) return `${e.path}\0`;
  if (e.kind === 'dir') {
    const m = r.loadDirMetaSync(e.metaChecksum);
    return lsLine('d', m.mode, m.uid, m.gid, 0, e.path, {
      ...(o.checksum ? { checksum: `${e.treeChecksum} ${e.metaChecksum}` } : {}),
      ...(o.xattrs ? { xattrs: xattrText(m.xattrs) } : {}),
    });
  }
  const h = r.readFileHeaderSync(e.checksum);
  const sym = isSymlinkMode(h.header.mode);
  return lsLine(sym ? 'l' : '-', h.header.mode, h.header.uid, h.header.gid, h.size, e.path, {
    ...(o.checksum ? { checksum: e.checksum } : {}),
    ...(o.xattrs ? { xattrs: xattrText(h.header.xattrs) } : {}),
    ...(sym ? { target: h.header.symlinkTarget } : {}),
  });
}

function lsPath(r: Repo, commit: string, raw: string, o: LsFlags): void {
  const p = '/' + raw.split('/').filter((x) => x !== '').join('/');
  let found;
  try { found = r.lookupPathSync(commit, p); } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT' && /^(No such file|Not a directory)/.test(e.message)) throw new OstreeError('ENOENT', `Inspecting path '${p}': ${e.message}`);
    throw e;
  }
  const name = p.slice(p.lastIndexOf('/') + 1);
  if (found.kind === 'file') { out(lsEntry(r, { kind: 'file', path: p, name, depth: 0, checksum: found.checksum }, o)); return; }
  out(lsEntry(r, { kind: 'dir', path: p, name, depth: 0, treeChecksum: found.tree, metaChecksum: found.meta }, o));
  if (o.dironly && !o.recursive) return;
  for (const e of walkTree(r, found.tree, { prefix: p === '/' ? '' : p, recursive: o.recursive === true })) {
    if (stdoutClosed()) return; // the reader is gone: stop walking (upstream keeps going, silently)
    if (e.kind === 'file' && o.dironly) continue;
    out(lsEntry(r, e, o));
  }
}

function registerLog(program: Command): void {
  program.command('log')
    .description('Show log starting at commit or ref')
    .argument('<rev>')
    .option('--raw', 'Show raw variant data')
    .action(async (rev: string, opts: { raw?: boolean }, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      for (const { checksum, commit } of parentChain(r, await r.resolveRev(rev))) {
        if (commit === null) { out('<< History beyond this commit not fetched >>\n'); break; }
        out(opts.raw ? rawCommit(checksum, commit) : formatCommit(checksum, commit));
        if (stdoutClosed()) break;
      }
    });
}

interface ShowFlags {
  printMetadataKey?: string; printDetachedMetadataKey?: string; raw?: boolean; noByteswap?: boolean; printSizes?: boolean;
  gpgHomedir?: string; gpgVerifyRemote?: string;
}

/** A metadata value as upstream prints it: byteswapped from big endian (GLib's view of commit
 *  data on a little-endian host) unless -B. */
function metadataValueText(v: Variant, noByteswap: boolean): string {
  const value = noByteswap ? v.value : deserialize(v.type, serialize(v.type, v.value), { bigEndian: true });
  return printVariant(v.type, value, true) + '\n';
}

async function showKey(r: Repo, csum: string, key: string, detached: boolean, noByteswap: boolean): Promise<void> {
  let md: Array<[string, Variant]>;
  if (detached) {
    const d = await r.loadCommitMeta(csum);
    if (!d) throw new OstreeError('ENOENT', `No detached metadata for commit ${csum}`);
    md = d;
  } else md = (await r.loadCommit(csum)).metadata;
  const v = md.find(([k]) => k === key)?.[1];
  if (!v) throw new OstreeError('ENOENT', `No such metadata key '${key}'`);
  out(metadataValueText(v, noByteswap));
}

function registerShow(program: Command): void {
  program.command('show')
    .description('Output a metadata object')
    .argument('<rev>')
    .option('--print-related', 'Show the "related" commits')
    .option('--print-metadata-key <key>', 'Print string value of metadata key')
    .option('--print-detached-metadata-key <key>', 'Print string value of detached metadata key')
    .option('--print-sizes', 'Show the commit size metadata')
    .option('--raw', 'Show raw variant data')
    .option('-B, --no-byteswap', 'Do not automatically convert variant data from big endian')
    .option('--gpg-homedir <homedir>', 'GPG Homedir to use when looking for keyrings')
    .option('--gpg-verify-remote <remote>', 'Use REMOTE name for GPG configuration')
    .action(async (rev: string, opts: ShowFlags & { byteswap?: boolean }, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      const csum = await r.resolveRev(rev);
      const noByteswap = opts.byteswap === false;
      if (opts.printMetadataKey !== undefined) return showKey(r, csum, opts.printMetadataKey, false, noByteswap);
      if (opts.printDetachedMetadataKey !== undefined) return showKey(r, csum, opts.printDetachedMetadataKey, true, noByteswap);
      if (opts.printSizes) {
        const s = await commitSizesSummary(r, csum);
        out(`Compressed size (needed/total): ${formatSize(s.neededArchived)}/${formatSize(s.archived)}\n`
          + `Unpacked size (needed/total): ${formatSize(s.neededUnpacked)}/${formatSize(s.unpacked)}\n`
          + `Number of objects (needed/total): ${s.neededObjects}/${s.objects}\n`);
        return;
      }
      const c = await r.loadCommit(csum);
      out(opts.raw ? rawCommit(csum, c) : formatCommit(csum, c));
      // then its GPG signatures, as upstream's show (nothing when it has none)
      const scope = opts.gpgVerifyRemote !== undefined ? { remote: opts.gpgVerifyRemote } : { allRemotes: true as const };
      const result = await gpgVerifyCommit(r, csum, scope, opts.gpgHomedir !== undefined ? { keyringDir: opts.gpgHomedir } : {});
      if (result !== null) out(describeResult(result));
    });
}

function registerLs(program: Command): void {
  program.command('ls')
    .description('List file paths')
    .argument('<rev>')
    .argument('[paths...]')
    .option('-R, --recursive', 'Print directories recursively')
    .option('-d, --dironly', 'Only print directories')
    .option('-C, --checksum', 'Print checksum')
    .option('-X, --xattrs', 'Print extended attributes')
    .option('--nul-filenames-only', 'Print only filenames, NUL separated')
    .action(async (rev: string, paths: string[], opts: LsFlags, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      const csum = await r.resolveRev(rev);
      for (const p of paths.length ? paths : ['/']) lsPath(r, csum, p, opts);
    });
}

function registerCat(program: Command): void {
  program.command('cat')
    .description('Concatenate contents of files')
    .argument('<rev>')
    .argument('<paths...>')
    .action(async (rev: string, paths: string[], _opts: unknown, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      const csum = await r.resolveRev(rev);
      for (const p of paths) {
        const { stream } = await openFileInCommit(r, csum, p);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (!(await writeChunk(chunk))) {
            (stream as unknown as { destroy?(): void }).destroy?.();
            // As upstream: the data did not all arrive, so cat fails (one line, no trace).
            throw new OstreeError('EIO', 'Writing to standard output: Broken pipe (the reader closed it before the end of the file)');
          }
        }
      }
    });
}

export function register(program: Command): void {
  registerLog(program);
  registerShow(program);
  registerLs(program);
  registerCat(program);
}
