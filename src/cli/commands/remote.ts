/**
 * `ostree remote add|delete|list|show-url|refs|summary` (upstream 2022.7 syntax and output).
 * Parsing and printing only; remotes are src/repo/remotes.ts, summaries src/repo/pull/summary.ts.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { listRemoteRefs, remoteSummaryText } from '../../repo/pull/http.js';
import { addRemote, listRemotes, remoteUrl, removeRemote } from '../../repo/remotes.js';
import { Repo } from '../../repo/repo.js';
import { fsyncEnabled } from '../../repo/store.js';
import { KEY_FILE_MAX } from '../../repo/sign/keyfiles.js';
import { formatKey, importRemoteKeys, listRemoteKeys } from '../../repo/sign/gpg/remote-keys.js';
import { signEngine } from '../../repo/sign/registry.js';
import { readFileBounded } from '../../util/fs.js';
import { collect, splitKeyValue } from '../args.js';
import { verbGroup } from '../groups.js';
import { repoPath, sysrootFrom } from '../context.js';
import { out } from '../output.js';
import { registerCookies } from './remote-cookies.js';

async function openRepo(cmd: Command): Promise<Repo> {
  return Repo.open(repoPath(cmd));
}

interface RemoteAddFlags {
  set: string[]; gpgVerify: boolean; signVerify: boolean; signVerifyKeys: string[]; ifNotExists?: boolean; force?: boolean;
  contenturl?: string; customBackend?: string; collectionId?: string; sysroot?: string;
}

/** `--sign-verify=KEYTYPE=inline:KEY|file:PATH` → the option it sets, and the type's name. */
function signVerifyOption(spec: string): { key: string; value: string; type: string } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new OstreeError('EINVAL', `Failed to parse KEYTYPE=[inline|file]:DATA in ${spec}`);
  const type = spec.slice(0, eq);
  signEngine(type); // the registry's "Requested signature type is not implemented" for unknown types
  const rest = spec.slice(eq + 1);
  const colon = rest.indexOf(':');
  const ref = colon < 0 ? rest : rest.slice(0, colon);
  if (ref !== 'inline' && ref !== 'file') throw new OstreeError('EINVAL', `Invalid key reference ${ref}, expected inline|file`);
  if (colon < 0) throw new OstreeError('EINVAL', `Failed to parse KEYTYPE=[inline|file]:DATA in ${spec}`);
  return { key: ref === 'inline' ? `verification-${type}-key` : `verification-${type}-file`, value: rest.slice(colon + 1), type };
}

/** The config options `remote add` writes, in upstream's order: branches, contenturl,
 *  custom-backend, each --set, gpg-verify / sign-verify for --no-*-verify, the --sign-verify
 *  keys and types, collection-id. */
function remoteAddOptions(branches: string[], o: RemoteAddFlags): Array<[string, string]> {
  const options: Array<[string, string]> = [];
  if (branches.length > 0) options.push(['branches', branches.map((b) => `${b};`).join('')]);
  if (o.contenturl !== undefined) options.push(['contenturl', o.contenturl]);
  if (o.customBackend !== undefined) options.push(['custom-backend', o.customBackend]);
  for (const kv of o.set) options.push(splitKeyValue(kv, '--set'));
  if (!o.gpgVerify || !o.signVerify) options.push(['gpg-verify', 'false']);
  if (!o.signVerify) {
    if (o.signVerifyKeys.length > 0) throw new OstreeError('EINVAL', 'Cannot specify both --sign-verify and --no-sign-verify');
    options.push(['sign-verify', 'false']);
  }
  const types: string[] = [];
  for (const spec of o.signVerifyKeys) {
    const { key, value, type } = signVerifyOption(spec);
    options.push([key, value]);
    types.push(type);
  }
  if (types.length > 0) options.push(['sign-verify', types.join(',')]);
  if (o.collectionId !== undefined) options.push(['collection-id', o.collectionId]);
  return options;
}

function importedLine(n: number, remote: string): string {
  return `Imported ${n} GPG key${n === 1 ? '' : 's'} to remote "${remote}"\n`;
}

function registerAddDelete(remote: Command): void {
  remote.command('add').description('Add a remote repository')
    .argument('<name>').argument('[url]').argument('[branches...]')
    .option('--set <key=value>', 'Set config option KEY=VALUE for remote', collect, [])
    .option('--no-gpg-verify', 'Disable GPG verification')
    .option('--no-sign-verify', 'Disable signature verification')
    .option('--sign-verify <spec>', 'Verify signatures using KEYTYPE=inline:PUBKEY or KEYTYPE=file:/path/to/key', collect, [])
    .option('--gpg-import <file>', 'Import GPG key from FILE')
    .option('--if-not-exists', 'Do nothing if the provided remote exists')
    .option('--force', 'Replace the provided remote if it exists')
    .option('--custom-backend <name>', 'This remote has content not fetched via libostree')
    .option('--contenturl <url>', 'Use URL when fetching content')
    .option('--collection-id <id>', 'Globally unique ID for this repository as an collection of refs for redistribution to other repositories')
    .option('--sysroot <path>', 'Use sysroot at PATH (overrides --repo)')
    .action(async (name: string, url: string | undefined, branches: string[], o: Omit<RemoteAddFlags, 'signVerifyKeys'> & { signVerify: boolean | string[]; gpgImport?: string }, cmd: Command) => {
      if (url === undefined && o.customBackend === undefined) throw new OstreeError('EINVAL', 'NAME and URL must be specified');
      if (o.ifNotExists && o.force) throw new OstreeError('EINVAL', 'Can only specify one of --if-not-exists and --force');
      const flags: RemoteAddFlags = { ...o, signVerify: o.signVerify !== false, signVerifyKeys: Array.isArray(o.signVerify) ? o.signVerify : [] };
      const options = remoteAddOptions(branches, flags);
      const sysroot = o.sysroot !== undefined ? sysrootFrom(o.sysroot) : undefined;
      const repo = await Repo.open(sysroot !== undefined ? path.join(sysroot, 'ostree/repo') : repoPath(cmd));
      await addRemote(repo, name, url ?? null, options, { ifNotExists: o.ifNotExists === true, replace: o.force === true, ...(sysroot !== undefined ? { sysroot } : {}) });
      if (o.gpgImport !== undefined) {
        const n = await importRemoteKeys(repo, name, readKeySource(o.gpgImport), [], fsyncEnabled(repo));
        out(importedLine(n, name));
      }
    });

  remote.command('delete').description('Delete a remote repository')
    .argument('<name>')
    .option('--if-exists', 'Do nothing if the provided remote does not exist')
    .action(async (name: string, o: { ifExists?: boolean }, cmd: Command) => {
      await removeRemote(await openRepo(cmd), name, { ifExists: o.ifExists === true });
    });
}

function registerQueries(remote: Command): void {
  remote.command('list').description('List remote repository names')
    .option('-u, --show-urls', 'Show remote URLs in list')
    .action(async (o: { showUrls?: boolean }, cmd: Command) => {
      const remotes = listRemotes(await openRepo(cmd), { inherit: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const width = Math.max(0, ...remotes.map((r) => r.name.length));
      for (const r of remotes) out(o.showUrls ? `${r.name.padEnd(width)}  ${r.url}\n` : `${r.name}\n`);
    });

  remote.command('show-url').description('Show remote repository URL')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      out(`${remoteUrl(await openRepo(cmd), name)}\n`);
    });

  remote.command('refs').description('List remote refs')
    .argument('<name>')
    .option('--cache-dir <dir>', 'Use custom cache dir')
    .action(async (name: string, o: { cacheDir?: string }, cmd: Command) => {
      const refs = await listRemoteRefs(await openRepo(cmd), name, o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {});
      for (const spec of refs.keys()) out(`${spec}\n`);
    });

  remote.command('summary').description('Show remote summary')
    .argument('<name>')
    .option('--raw', 'Show raw variant data')
    .option('--cache-dir <dir>', 'Use custom cache dir')
    .action(async (name: string, o: { raw?: boolean; cacheDir?: string }, cmd: Command) => {
      out(await remoteSummaryText(await openRepo(cmd), name, { raw: o.raw === true, ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}) }));
    });
}

/** The bytes of a key file (bounded). */
function readKeySource(file: string): Buffer {
  const data = readFileBounded(file, KEY_FILE_MAX, { what: 'Key file', code: 'EINVAL' });
  if (data === null) throw new OstreeError('ENOENT', `Opening ${file}: No such file or directory`);
  return data;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    n += (c as Buffer).length;
    if (n > KEY_FILE_MAX) throw new OstreeError('EINVAL', `standard input holds more than ${KEY_FILE_MAX} bytes of keys`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function registerGpg(remote: Command): void {
  remote.command('gpg-import').description('Import GPG keys')
    .argument('<name>').argument('[keys...]', 'KEY-ID...')
    .option('-k, --keyring <file>', 'Import keys from a keyring file (repeatable)', collect, [])
    .option('--stdin', 'Import keys from standard input')
    .action(async (name: string, keys: string[], o: { keyring: string[]; stdin?: boolean }, cmd: Command) => {
      if (o.stdin && o.keyring.length > 0) throw new OstreeError('EINVAL', '--keyring and --stdin are mutually exclusive');
      const repo = await openRepo(cmd);
      const source = o.stdin ? await readStdin() : Buffer.concat(o.keyring.map(readKeySource));
      out(importedLine(await importRemoteKeys(repo, name, source, keys, fsyncEnabled(repo)), name));
    });

  remote.command('gpg-list-keys').description('Show remote GPG keys')
    .argument('[name]')
    .action(async (name: string | undefined, _o: unknown, cmd: Command) => {
      for (const k of await listRemoteKeys(await openRepo(cmd), name ?? null)) out(formatKey(k));
    });
}

export function register(program: Command): void {
  const remote = verbGroup(program.command('remote').description('Remote commands that may involve internet access'), 'remote');
  registerAddDelete(remote);
  registerQueries(remote);
  registerGpg(remote);
  registerCookies(remote);
}
