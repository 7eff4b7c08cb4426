/**
 * `ostree remote add|delete|list|show-url|refs|summary` (upstream 2022.7 syntax and output).
 * Parsing and printing only; remotes are src/repo/remotes.ts, summaries src/repo/pull/summary.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { fetchRemoteSummaryBytes, formatSummary, formatSummaryRaw, listRemoteRefs } from '../../repo/pull/http.js';
import { addRemote, listRemotes, remoteUrl, removeRemote } from '../../repo/remotes.js';
import { Repo } from '../../repo/repo.js';
import { fsyncEnabled } from '../../repo/store.js';
import { KEY_FILE_MAX } from '../../repo/sign/keyfiles.js';
import { formatKey, importRemoteKeys, listRemoteKeys } from '../../repo/sign/gpg/remote-keys.js';
import { signVerifyOptions } from '../../repo/sign/remote-policy.js';
import { readFileBounded } from '../../util/fs.js';
import { collect, splitKeyValue } from '../args.js';
import { verbGroup } from '../groups.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

async function openRepo(cmd: Command): Promise<Repo> {
  return Repo.open(repoPath(cmd));
}

interface AddFlags { set: string[]; gpgVerify: boolean; signVerify: string[] | boolean; ifNotExists?: boolean; gpgImport?: string }

/** The config options `remote add` writes, in upstream's order: branches, each --set,
 *  gpg-verify=false (--no-gpg-verify, --no-sign-verify), sign-verify and its keys. */
function remoteAddOptions(branches: string[], o: AddFlags): Array<[string, string]> {
  const options: Array<[string, string]> = [];
  if (branches.length > 0) options.push(['branches', branches.map((b) => `${b};`).join('')]);
  for (const kv of o.set) options.push(splitKeyValue(kv, '--set'));
  const specs = Array.isArray(o.signVerify) ? o.signVerify : [];
  if (!o.gpgVerify || o.signVerify === false) options.push(['gpg-verify', 'false']);
  if (o.signVerify === false) options.push(['sign-verify', 'false']);
  options.push(...signVerifyOptions(specs));
  return options;
}

function importedLine(n: number, remote: string): string {
  return `Imported ${n} GPG key${n === 1 ? '' : 's'} to remote "${remote}"\n`;
}

function registerAddDelete(remote: Command): void {
  remote.command('add').description('Add a remote repository')
    .argument('<name>').argument('<url>').argument('[branches...]')
    .option('--set <key=value>', 'Set config option KEY=VALUE for remote', collect, [])
    .option('--no-gpg-verify', 'Disable GPG verification')
    .option('--sign-verify <spec>', 'Verify signatures using KEYTYPE=inline:PUBKEY or KEYTYPE=file:/path/to/key', collect, [])
    .option('--no-sign-verify', 'Disable signature verification')
    .option('--gpg-import <file>', 'Import GPG key from FILE')
    .option('--if-not-exists', 'Do nothing if the provided remote exists')
    .action(async (name: string, url: string, branches: string[], o: AddFlags, cmd: Command) => {
      const repo = await openRepo(cmd);
      await addRemote(repo, name, url, remoteAddOptions(branches, o), { ifNotExists: o.ifNotExists === true });
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
      const remotes = listRemotes(await openRepo(cmd)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const refs = await listRemoteRefs(await openRepo(cmd), name);
      for (const spec of refs.keys()) out(`${spec}\n`);
    });

  remote.command('summary').description('Show remote summary')
    .argument('<name>')
    .option('--raw', 'Show raw variant data')
    .action(async (name: string, o: { raw?: boolean }, cmd: Command) => {
      const b = await fetchRemoteSummaryBytes(await openRepo(cmd), name);
      if (b === null) throw new OstreeError('ENOENT', `No summary file found for remote "${name}" (the remote's owner can create one with 'ostree summary -u')`);
      out(o.raw ? `${formatSummaryRaw(b.data)}\n` : formatSummary(b.data, b.source));
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
  const remote = verbGroup(program.command('remote').description('Remote commands that may involve network access'), 'remote');
  registerAddDelete(remote);
  registerQueries(remote);
  registerGpg(remote);
}
