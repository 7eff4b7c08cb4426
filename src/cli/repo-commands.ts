/**
 * Repository verbs with upstream 2022.7 syntax and output: init, config, commit, refs,
 * rev-parse, log, show, ls, cat, checkout (remote verbs and pull: remote-commands.ts). Only argument parsing and
 * printing here; the behaviour is in src/repo.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { OstreeError } from '../errors.js';
import { Variant, printVariant } from '../glib/gvariant.js';
import { Repo, parseRepoMode, type CommitObject, type CommitProgress } from '../repo/repo.js';
import { withTerminalProgress } from './progress.js';
import { commitContentChecksum, commitMetadataString, isSymlinkMode } from '../repo/objects.js';
import { glibHashTableOrder } from '../glib/ghash-order.js';
import { repoPathFrom } from './main.js';
import { registerRepoMaintCommands } from './repo-maint-commands.js';
import { registerRemoteCommands } from './remote-commands.js';

const out = (s: string): void => { process.stdout.write(s); };
function collect(value: string, previous: string[]): string[] { return [...previous, value]; }

async function openRepo(cmd: Command): Promise<Repo> {
  return Repo.open(repoPathFrom(cmd));
}

/** `SECTION.KEY` → [section, key], split at the first dot as upstream (`remote "x".url`). */
export function splitConfigKey(k: string): [string, string] {
  const i = k.indexOf('.');
  if (i <= 0 || i === k.length - 1) throw new OstreeError('EINVAL', 'Key must be of the form "sectionname.keyname"');
  return [k.slice(0, i), k.slice(i + 1)];
}

/** Parse `--timestamp`: `@SECONDS`, plain seconds, or a date string (ISO 8601 etc.). */
export function parseTimestamp(s: string): bigint {
  if (/^@?-?\d+$/.test(s)) return BigInt(s.replace(/^@/, ''));
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new OstreeError('EINVAL', `Could not parse '${s}'`);
  return BigInt(Math.floor(ms / 1000));
}

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

export function registerRepoCommands(program: Command): void {
  program.command('init')
    .description('Initialize a new empty repository')
    .option('--mode <mode>', 'bare, bare-user, bare-user-only, archive (archive-z2)', 'bare')
    .option('--collection-id <id>', 'Collection ID (accepted, stored in config)')
    .action(async (opts: { mode: string; collectionId?: string }, cmd: Command) => {
      const r = await Repo.create(repoPathFrom(cmd), parseRepoMode(opts.mode));
      if (opts.collectionId) { r.config.set('core', 'collection-id', opts.collectionId); await r.saveConfig(); }
    });

  const config = program.command('config').description('Change repo configuration settings');
  config.command('get').argument('<key>').option('--group <group>', 'Group name')
    .action(async (key: string, opts: { group?: string }, cmd: Command) => {
      const r = await openRepo(cmd);
      const [g, k] = opts.group ? [opts.group, key] : splitConfigKey(key);
      const v = r.config.get(g, k);
      if (v === undefined) throw new OstreeError('ENOENT', r.config.hasGroup(g) ? `Key file does not have key “${k}” in group “${g}”` : `Key file does not have group “${g}”`);
      out(v + '\n');
    });
  config.command('set').argument('<key>').argument('<value>').option('--group <group>', 'Group name')
    .action(async (key: string, value: string, opts: { group?: string }, cmd: Command) => {
      const r = await openRepo(cmd);
      const [g, k] = opts.group ? [opts.group, key] : splitConfigKey(key);
      r.config.set(g, k, value);
      await r.saveConfig();
    });
  config.command('unset').argument('<key>').option('--group <group>', 'Group name')
    .action(async (key: string, opts: { group?: string }, cmd: Command) => {
      const r = await openRepo(cmd);
      const [g, k] = opts.group ? [opts.group, key] : splitConfigKey(key);
      r.config.removeKey(g, k);
      await r.saveConfig();
    });

  program.command('commit')
    .description('Commit a new revision')
    .argument('[path]', 'Directory to commit (default: current directory)')
    .option('-s, --subject <subject>', 'One line subject')
    .option('-m, --body <body>', 'Full description')
    .option('--body-file <file>', 'Commit message from FILE')
    .option('-b, --branch <ref>', 'Branch')
    .option('--orphan', 'Create a commit without writing a ref')
    .option('--tree <spec>', 'dir=PATH (only dir= is supported)', collect, [])
    .option('--add-metadata-string <kv>', 'Add a key/value pair to metadata', collect, [])
    .option('--add-detached-metadata-string <kv>', 'Add a key/value pair to detached metadata', collect, [])
    .option('--add-metadata <kv>', 'Add a key/value pair (value in GVariant text: strings, true/false, integers)', collect, [])
    .option('--timestamp <time>', 'Override the timestamp of the commit')
    .option('--parent <rev>', "Parent commit checksum, or 'none'")
    .option('--no-xattrs', 'Do not import extended attributes')
    .option('--owner-uid <uid>', 'Set file ownership user id')
    .option('--owner-gid <gid>', 'Set file ownership group id')
    .option('--bootable', 'Add ostree.linux and ostree.bootable metadata')
    .option('--no-bindings', 'Do not write ostree.ref-binding')
    .option('--canonical-permissions', 'Canonicalize permissions (uid/gid 0, mode & 0755, no xattrs)')
    .option('--skip-if-unchanged', 'If the contents are unchanged from the previous commit, do nothing')
    .option('--consume', 'Delete the committed directory afterwards')
    .option('--fsync <bool>', 'Whether to sync the repo filesystem')
    .option('--disable-fsync', 'Do not sync the repo filesystem')
    .action(async (dirArg: string | undefined, opts: {
      subject?: string; body?: string; bodyFile?: string; branch?: string; orphan?: boolean; tree: string[];
      addMetadataString: string[]; addMetadata: string[]; addDetachedMetadataString: string[]; timestamp?: string; parent?: string; xattrs: boolean;
      ownerUid?: string; ownerGid?: string; bootable?: boolean; bindings: boolean; fsync?: string; disableFsync?: boolean;
      canonicalPermissions?: boolean; skipIfUnchanged?: boolean; consume?: boolean;
    }, cmd: Command) => {
      const r = await openRepo(cmd);
      if (!opts.branch && !opts.orphan) throw new OstreeError('EINVAL', 'A branch must be specified with --branch, or use --orphan');
      let dir = dirArg;
      let refTree: string | undefined;
      for (const t of opts.tree) {
        if (dir !== undefined || refTree !== undefined) throw new OstreeError('EINVAL', 'only one --tree can be committed');
        if (t.startsWith('dir=')) dir = t.slice(4);
        else if (t.startsWith('ref=')) refTree = t.slice(4);
        else throw new OstreeError('EINVAL', `unsupported --tree '${t}' (dir=PATH or ref=REV)`);
      }
      dir ??= process.cwd();
      const metadata: Array<[string, Variant]> = [];
      for (const kv of opts.addMetadataString) {
        const i = kv.indexOf('=');
        if (i < 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE metadata '${kv}'`);
        metadata.push([kv.slice(0, i), new Variant('s', kv.slice(i + 1))]);
      }
      for (const kv of opts.addMetadata) {
        const i = kv.indexOf('=');
        if (i < 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE metadata '${kv}'`);
        metadata.push([kv.slice(0, i), parseSimpleVariantText(kv.slice(i + 1))]);
      }
      let body = opts.body;
      if (opts.bodyFile) body = (await import('node:fs')).readFileSync(opts.bodyFile, 'utf8');
      if (opts.disableFsync || opts.fsync === 'false') r.config.set('core', 'fsync', 'false');
      const detachedMetadata: Array<[string, Variant]> = [];
      for (const kv of opts.addDetachedMetadataString) {
        const i = kv.indexOf('=');
        if (i < 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE metadata '${kv}'`);
        detachedMetadata.push([kv.slice(0, i), new Variant('s', kv.slice(i + 1))]);
      }
      const commitOpts = {
        ...(opts.branch && !opts.orphan ? { branch: opts.branch } : {}),
        subject: opts.subject ?? '',
        body: body ?? '',
        metadata,
        ...(opts.timestamp !== undefined ? { timestamp: parseTimestamp(opts.timestamp) } : {}),
        ...(opts.parent !== undefined ? { parent: opts.parent === 'none' ? null : opts.parent } : opts.orphan ? { parent: null } : {}),
        noXattrs: !opts.xattrs,
        ...(opts.ownerUid !== undefined ? { ownerUid: Number(opts.ownerUid) } : {}),
        ...(opts.ownerGid !== undefined ? { ownerGid: Number(opts.ownerGid) } : {}),
        bootable: opts.bootable === true,
        bindings: opts.bindings,
        canonicalPermissions: opts.canonicalPermissions === true,
        skipIfUnchanged: opts.skipIfUnchanged === true,
        detachedMetadata,
      };
      let csum: string;
      if (refTree !== undefined) {
        if (opts.bootable) throw new OstreeError('EINVAL', '--bootable is not supported with --tree=ref=');
        const base = await r.loadCommit(await r.resolveRev(refTree));
        csum = await r.writeCommit(base.rootTree, base.rootMeta, commitOpts);
      } else {
        const tree = dir;
        csum = await withTerminalProgress(formatCommitProgress, (progress) =>
          r.commitTree(tree, progress ? { ...commitOpts, progress } : commitOpts));
      }
      if (opts.consume) (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
      out(csum + '\n');
    });

  program.command('refs')
    .description('List refs')
    .argument('[prefix...]')
    .option('--create <ref>', 'Create a new ref pointing to the given checksum (second argument)')
    .option('--delete', 'Delete refs which match PREFIX')
    .option('--list', 'Do not remove the prefix from the refs')
    .option('--force', 'Overwrite existing refs with --create')
    .action(async (args: string[], opts: { create?: string; delete?: boolean; list?: boolean; force?: boolean }, cmd: Command) => {
      const r = await openRepo(cmd);
      if (opts.create) {
        if (args.length !== 1) throw new OstreeError('EINVAL', '--create requires specifying a revision');
        const existing = await r.resolveRevOptional(opts.create).catch(() => null);
        if (existing !== null && !opts.force && (await r.listRefs()).has(opts.create)) {
          throw new OstreeError('EEXIST', `--create specified but ref ${opts.create} already exists`);
        }
        const target = await r.resolveRev(args[0]!);
        await r.setRef(opts.create, target);
        return;
      }
      if (opts.delete) {
        if (args.length === 0) throw new OstreeError('EINVAL', 'At least one PREFIX is required when deleting refs');
        for (const p of args) {
          const refs = await r.listRefs(p);
          for (const k of refs.keys()) await r.setRef(k, null);
        }
        return;
      }
      // Upstream prints refs in GHashTable order (not sorted), keyed by the printed name.
      if (args.length === 0) {
        for (const k of glibHashTableOrder([...(await r.listRefs(undefined, { sorted: false })).keys()])) out(k + '\n');
        return;
      }
      for (const p of args) {
        const refs = await r.listRefs(p, { sorted: false });
        const names = [...refs.keys()].map((k) => (opts.list || k === p ? k : k.slice(p.endsWith('/') || p.endsWith(':') ? p.length : p.length + 1)));
        for (const k of glibHashTableOrder(names)) out(k + '\n');
      }
    });

  program.command('rev-parse')
    .description('Output the target of a rev')
    .argument('[rev]')
    .option('--single', 'If the repository has exactly one commit, print it; anything else is an error')
    .action(async (rev: string | undefined, opts: { single?: boolean }, cmd: Command) => {
      const r = await openRepo(cmd);
      if (opts.single) {
        if (rev !== undefined) throw new OstreeError('EINVAL', '--single takes no REV argument');
        const commits = [...(await r.listObjects())].filter((o) => o.endsWith('.commit')).map((o) => o.slice(0, 64));
        if (commits.length !== 1) throw new OstreeError('EINVAL', `Repository has ${commits.length} commits, expected exactly one`);
        out(commits[0] + '\n');
        return;
      }
      if (rev === undefined) throw new OstreeError('EINVAL', 'A REV argument is required');
      out((await r.resolveRev(rev)) + '\n');
    });

  program.command('log')
    .description('Show log starting at commit or ref')
    .argument('<rev>')
    .option('--raw', 'Show raw variant data')
    .action(async (rev: string, opts: { raw?: boolean }, cmd: Command) => {
      const r = await openRepo(cmd);
      let cur: string | null = await r.resolveRev(rev);
      while (cur) {
        if (!(await r.hasObject(cur, 'commit'))) { out('<< History beyond this commit not fetched >>\n'); break; }
        const c = await r.loadCommit(cur);
        out(opts.raw ? rawCommit(cur, c) : formatCommit(cur, c));
        cur = c.parent;
      }
    });

  program.command('show')
    .description('Output a metadata object')
    .argument('<rev>')
    .option('--print-metadata-key <key>', 'Print string value of metadata key')
    .option('--print-detached-metadata-key <key>', 'Print string value of detached metadata key')
    .option('--raw', 'Show raw variant data')
    .action(async (rev: string, opts: { printMetadataKey?: string; printDetachedMetadataKey?: string; raw?: boolean }, cmd: Command) => {
      const r = await openRepo(cmd);
      const csum = await r.resolveRev(rev);
      const c = await r.loadCommit(csum);
      if (opts.printMetadataKey !== undefined) {
        const v = c.metadata.find(([k]) => k === opts.printMetadataKey)?.[1];
        if (!v) throw new OstreeError('ENOENT', `No such metadata key '${opts.printMetadataKey}'`);
        out(printVariant(v.type, v.value) + '\n');
        return;
      }
      if (opts.printDetachedMetadataKey !== undefined) {
        const m = await r.loadCommitMeta(csum);
        const v = m?.find(([k]) => k === opts.printDetachedMetadataKey)?.[1];
        if (!v) throw new OstreeError('ENOENT', `No such detached metadata key '${opts.printDetachedMetadataKey}'`);
        out(printVariant(v.type, v.value) + '\n');
        return;
      }
      out(opts.raw ? rawCommit(csum, c) : formatCommit(csum, c));
    });

  program.command('ls')
    .description('List file paths')
    .argument('<rev>')
    .argument('[paths...]')
    .option('-R, --recursive', 'Print directories recursively')
    .option('-d, --dironly', 'Only print directories')
    .option('-C, --checksum', 'Print checksum')
    .option('-X, --xattrs', 'Print extended attributes')
    .option('--nul-filenames-only', 'Print only filenames, NUL separated')
    .action(async (rev: string, paths: string[], opts: { recursive?: boolean; dironly?: boolean; checksum?: boolean; xattrs?: boolean; nulFilenamesOnly?: boolean }, cmd: Command) => {
      const r = await openRepo(cmd);
      const csum = await r.resolveRev(rev);
      const emit = (p: string, line: string): void => { out(opts.nulFilenamesOnly ? p + '\0' : line); };
      const printDir = (p: string, tree: string, meta: string): void => {
        const m = r.loadDirMetaSync(meta);
        emit(p, lsLine('d', m.mode, m.uid, m.gid, 0, p, {
          ...(opts.checksum ? { checksum: `${tree} ${meta}` } : {}),
          ...(opts.xattrs ? { xattrs: xattrText(m.xattrs) } : {}),
        }));
      };
      const printFile = (p: string, fcsum: string): void => {
        const h = r.readFileHeaderSync(fcsum);
        const sym = isSymlinkMode(h.header.mode);
        emit(p, lsLine(sym ? 'l' : '-', h.header.mode, h.header.uid, h.header.gid, h.size, p, {
          ...(opts.checksum ? { checksum: fcsum } : {}),
          ...(opts.xattrs ? { xattrs: xattrText(h.header.xattrs) } : {}),
          ...(sym ? { target: h.header.symlinkTarget } : {}),
        }));
      };
      const listChildren = (p: string, tree: string): void => {
        const t = r.loadDirTreeSync(tree);
        // Upstream enumerates files then directories, each in tree (byte) order.
        const entries: Array<{ name: string; file?: string; dir?: { tree: string; meta: string } }> = [
          ...t.files.map((f) => ({ name: f.name, file: f.checksum })),
          ...t.dirs.map((d) => ({ name: d.name, dir: { tree: d.treeChecksum, meta: d.metaChecksum } })),
        ];
        for (const e of entries) {
          const cp = p === '/' ? `/${e.name}` : `${p}/${e.name}`;
          if (e.dir) {
            printDir(cp, e.dir.tree, e.dir.meta);
            if (opts.recursive) listChildren(cp, e.dir.tree);
          } else if (!opts.dironly) {
            printFile(cp, e.file!);
          }
        }
      };
      for (const raw of paths.length ? paths : ['/']) {
        const p = '/' + raw.split('/').filter((x) => x !== '').join('/');
        let found;
        try { found = r.lookupPathSync(csum, p); } catch (e) {
          if (e instanceof OstreeError && e.code === 'ENOENT') throw new OstreeError('ENOENT', `Inspecting path '${p}': No such file or directory: ${p}`);
          throw e;
        }
        if (found.kind === 'file') { printFile(p, found.checksum); continue; }
        printDir(p, found.tree, found.meta);
        if (!opts.dironly || opts.recursive) listChildren(p, found.tree);
      }
    });

  program.command('cat')
    .description('Concatenate contents of files')
    .argument('<rev>')
    .argument('<paths...>')
    .action(async (rev: string, paths: string[], _opts: unknown, cmd: Command) => {
      const r = await openRepo(cmd);
      const csum = await r.resolveRev(rev);
      for (const p of paths) {
        let cur = '/' + p.split('/').filter((x) => x !== '').join('/');
        for (let hops = 0; ; hops++) {
          if (hops > 40) throw new OstreeError('EINVAL', `Too many levels of symbolic links: ${p}`);
          const f = r.lookupPathSync(csum, cur);
          if (f.kind === 'dir') throw new OstreeError('EINVAL', `Can't open directory: ${cur}`);
          const { header, stream } = await r.openFileContent(f.checksum);
          if (isSymlinkMode(header.mode)) {
            const t = header.symlinkTarget;
            cur = path.posix.normalize(t.startsWith('/') ? t : path.posix.join(path.posix.dirname(cur), t));
            continue;
          }
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            if (!process.stdout.write(chunk)) await new Promise((res) => process.stdout.once('drain', res));
          }
          break;
        }
      }
    });

  program.command('checkout')
    .description('Check out a commit into a filesystem tree')
    .argument('<rev>')
    .argument('[destination]')
    .option('-U, --user-mode', 'Do not change file ownership or initialize extended attributes')
    .option('-H, --require-hardlinks', 'Do not fall back to full copies if hardlinking fails')
    .option('--force-copy', 'Never hardlink (but may reflink if available)')
    .option('--subpath <path>', 'Checkout sub-directory PATH')
    .option('--union', 'Keep existing directories, overwrite existing files')
    .option('--union-add', 'Keep existing directories and files, only add new ones')
    .option('--allow-noent', 'Do nothing if the specified path does not exist')
    .option('--whiteouts', 'Process .wh. (Docker-style) whiteout entries')
    .option('--process-passthrough-whiteouts', 'Enable overlayfs whiteout extraction into char 0:0 devices')
    .action(async (rev: string, dest: string | undefined, opts: {
      userMode?: boolean; requireHardlinks?: boolean; forceCopy?: boolean; subpath?: string; union?: boolean;
      whiteouts?: boolean; processPassthroughWhiteouts?: boolean; unionAdd?: boolean; allowNoent?: boolean;
    }, cmd: Command) => {
      const r = await openRepo(cmd);
      if (opts.allowNoent && opts.subpath !== undefined) {
        try { r.lookupPathSync(await r.resolveRev(rev), opts.subpath); } catch (e) {
          if (e instanceof OstreeError && e.code === 'ENOENT') return;
          throw e;
        }
      }
      await r.checkout(rev, dest ?? rev, {
        unionAdd: opts.unionAdd === true,
        userMode: opts.userMode === true,
        hardlink: opts.requireHardlinks === true,
        forceCopy: opts.forceCopy === true,
        ...(opts.subpath !== undefined ? { subpath: opts.subpath } : {}),
        union: opts.union === true,
        dockerWhiteouts: opts.whiteouts === true,
        whiteouts: opts.processPassthroughWhiteouts === true,
      });
    });

  // fsck, prune, diff, pull-local: owned by the repository-maintenance work.
  registerRepoMaintCommands(program);
  registerRemoteCommands(program); // remote add/delete/list/show-url/refs and pull (src/cli/remote-commands.ts)
}

function rawCommit(csum: string, c: CommitObject): string {
  return `commit ${csum}\n` + printVariant('(a{sv}aya(say)sstayay)', [
    c.metadata, c.parent ? Buffer.from(c.parent, 'hex') : Buffer.alloc(0), c.related, c.subject, c.body, c.timestamp,
    Buffer.from(c.rootTree, 'hex'), Buffer.from(c.rootMeta, 'hex'),
  ], true) + '\n';
}

/** A small subset of GVariant text: 'string', "string", true/false, integers (int32), uint32 N, uint64 N, int64 N. */
export function parseSimpleVariantText(t: string): Variant {
  const s = t.trim();
  let m: RegExpExecArray | null;
  if ((m = /^'((?:[^'\\]|\\.)*)'$/.exec(s)) || (m = /^"((?:[^"\\]|\\.)*)"$/.exec(s))) return new Variant('s', m[1]!.replace(/\\(.)/g, '$1'));
  if (s === 'true' || s === 'false') return new Variant('b', s === 'true');
  if ((m = /^(uint32|int32|uint64|int64|byte|int16|uint16)\s+(-?\d+)$/.exec(s))) {
    const code = { uint32: 'u', int32: 'i', uint64: 't', int64: 'x', byte: 'y', int16: 'n', uint16: 'q' }[m[1]!]!;
    return new Variant(code, code === 't' || code === 'x' ? BigInt(m[2]!) : Number(m[2]!));
  }
  if (/^-?\d+$/.test(s)) return new Variant('i', Number(s));
  throw new OstreeError('EINVAL', `unsupported GVariant text '${t}' (supported: quoted strings, true/false, integers)`);
}

/** `Committing: 1234/30000 files` (the total is known once the walk is done). */
function formatCommitProgress(p: CommitProgress): string {
  return p.walkDone
    ? `Committing: ${p.filesWritten}/${p.filesScanned} files`
    : `Committing: ${p.filesWritten} files stored, ${p.filesScanned} found...`;
}
