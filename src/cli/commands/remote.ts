/**
 * `ostree remote add|delete|list|show-url|refs|summary` (upstream 2022.7 syntax and output).
 * Parsing and printing only; remotes are src/repo/remotes.ts, summaries src/repo/pull/summary.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { fetchRemoteSummaryBytes, formatSummary, formatSummaryRaw, listRemoteRefs } from '../../repo/pull/http.js';
import { addRemote, listRemotes, remoteUrl, removeRemote } from '../../repo/remotes.js';
import { Repo } from '../../repo/repo.js';
import { collect, splitKeyValue } from '../args.js';
import { verbGroup } from '../groups.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';
import { registerCookies } from './remote-cookies.js';

async function openRepo(cmd: Command): Promise<Repo> {
  return Repo.open(repoPath(cmd));
}

interface RemoteAddFlags {
  set: string[]; gpgVerify: boolean; signVerify: boolean; ifNotExists?: boolean; contenturl?: string; customBackend?: string;
}

/** The config options `remote add` writes, in upstream's order: branches, contenturl, each --set,
 *  custom-backend, then gpg-verify=false / sign-verify=false for --no-gpg-verify / --no-sign-verify. */
function remoteAddOptions(branches: string[], o: RemoteAddFlags): Array<[string, string]> {
  const options: Array<[string, string]> = [];
  if (branches.length > 0) options.push(['branches', branches.map((b) => `${b};`).join('')]);
  if (o.contenturl !== undefined) options.push(['contenturl', o.contenturl]);
  for (const kv of o.set) options.push(splitKeyValue(kv, '--set'));
  if (o.customBackend !== undefined) options.push(['custom-backend', o.customBackend]);
  if (!o.gpgVerify || !o.signVerify) options.push(['gpg-verify', 'false']);
  if (!o.signVerify) options.push(['sign-verify', 'false']);
  return options;
}

function registerAddDelete(remote: Command): void {
  remote.command('add').description('Add a remote repository')
    .argument('<name>').argument('[url]').argument('[branches...]')
    .option('--set <key=value>', 'Set config option KEY=VALUE for remote', collect, [])
    .option('--no-gpg-verify', 'Disable GPG verification')
    .option('--no-sign-verify', 'Disable signature verification')
    .option('--if-not-exists', 'Do nothing if the provided remote exists')
    .option('--custom-backend <name>', 'This remote has content not fetched via libostree')
    .option('--contenturl <url>', 'Use URL when fetching content')
    .action(async (name: string, url: string | undefined, branches: string[], o: RemoteAddFlags, cmd: Command) => {
      if (url === undefined && o.customBackend === undefined) throw new OstreeError('EINVAL', 'NAME and URL must be specified');
      const repo = await openRepo(cmd);
      await addRemote(repo, name, url ?? null, remoteAddOptions(branches, o), { ifNotExists: o.ifNotExists === true });
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

export function register(program: Command): void {
  const remote = verbGroup(program.command('remote').description('Remote commands that may involve network access'), 'remote');
  registerAddDelete(remote);
  registerQueries(remote);
  registerCookies(remote);
}
