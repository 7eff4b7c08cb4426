/**
 * `ostree remote add|delete|list|show-url|refs` and `ostree pull REMOTE [REF...]`, as upstream
 * 2022.7. Argument parsing and printing only; the work is in src/repo/pull.ts.
 */
import { terminalProgress } from './progress.js';
import { Command } from 'commander';
import { OstreeError } from '../errors.js';
import { Repo } from '../repo/repo.js';
import type { PullOptions } from '../repo/pull/http.js';

/** The pull engine (and http/https/tls) loads only when a remote verb runs. */
const pullModule = (): Promise<typeof import('../repo/pull/http.js')> => import('../repo/pull/http.js');
import { repoPathFrom } from './main.js';

function collect(v: string, prev: string[]): string[] { return [...prev, v]; }

function out(s: string): void { process.stdout.write(s); }

async function openRepo(cmd: Command): Promise<Repo> {
  return Repo.open(repoPathFrom(cmd));
}

function parseIntArg(name: string, v: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw new OstreeError('EINVAL', `Cannot parse integer value '${v}' for --${name}`);
  return Number(v);
}

export function registerRemoteCommands(program: Command): void {
  const remote = program.command('remote').description('Remote commands that may involve network access');

  remote.command('add').description('Add a remote repository')
    .argument('<name>').argument('<url>').argument('[branches...]')
    .option('--set <key=value>', 'Set config option KEY=VALUE for remote', collect, [])
    .option('--no-gpg-verify', 'Disable GPG verification')
    .option('--if-not-exists', 'Do nothing if the provided remote exists')
    .action(async (name: string, url: string, branches: string[], o: { set: string[]; gpgVerify: boolean; ifNotExists?: boolean }, cmd: Command) => {
      const repo = await openRepo(cmd);
      const options: Array<[string, string]> = [];
      if (branches.length > 0) options.push(['branches', branches.map((b) => `${b};`).join('')]);
      for (const kv of o.set) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE for --set: '${kv}'`);
        options.push([kv.slice(0, i), kv.slice(i + 1)]);
      }
      if (!o.gpgVerify) options.push(['gpg-verify', 'false']);
      const { addRemote } = await import('../repo/remotes.js');
      await addRemote(repo, name, url, options, { ifNotExists: o.ifNotExists === true });
    });

  remote.command('delete').description('Delete a remote repository')
    .argument('<name>')
    .option('--if-exists', 'Do nothing if the provided remote does not exist')
    .action(async (name: string, o: { ifExists?: boolean }, cmd: Command) => {
      const { removeRemote } = await import('../repo/remotes.js');
      await removeRemote(await openRepo(cmd), name, { ifExists: o.ifExists === true });
    });

  remote.command('list').description('List remote repository names')
    .option('-u, --show-urls', 'Show remote URLs in list')
    .action(async (o: { showUrls?: boolean }, cmd: Command) => {
      const { listRemotes } = await import('../repo/remotes.js');
      const remotes = listRemotes(await openRepo(cmd)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const width = Math.max(0, ...remotes.map((r) => r.name.length));
      for (const r of remotes) out(o.showUrls ? `${r.name.padEnd(width)}  ${r.url}\n` : `${r.name}\n`);
    });

  remote.command('show-url').description('Show remote repository URL')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { remoteUrl } = await import('../repo/remotes.js');
      out(`${remoteUrl(await openRepo(cmd), name)}\n`);
    });

  remote.command('refs').description('List remote refs')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { listRemoteRefs } = await pullModule();
      const refs = await listRemoteRefs(await openRepo(cmd), name);
      for (const spec of refs.keys()) out(`${spec}\n`);
    });

  remote.command('summary').description('Show remote summary')
    .argument('<name>')
    .option('--raw', 'Show raw variant data')
    .action(async (name: string, o: { raw?: boolean }, cmd: Command) => {
      const { fetchRemoteSummaryBytes, formatSummary, formatSummaryRaw } = await pullModule();
      const b = await fetchRemoteSummaryBytes(await openRepo(cmd), name);
      if (b === null) throw new OstreeError('ENOENT', `No summary file found for remote "${name}" (the remote's owner can create one with 'ostree summary -u')`);
      if (o.raw) out(`${formatSummaryRaw(b.data)}\n`);
      else out(formatSummary(b.data, b.source));
    });

  const existingPull = (program.commands as Command[]).findIndex((c) => c.name() === 'pull');
  if (existingPull >= 0) (program.commands as Command[]).splice(existingPull, 1);
  program.command('pull').description('Download data from remote repository')
    .argument('<remote>', 'REMOTE, or REMOTE:REF').argument('[refs...]', 'refs to pull (REF or REF@CHECKSUM); default: the remote\'s branches')
    .option('--commit-metadata-only', 'Fetch only the commit metadata')
    .option('--mirror', 'Write refs suitable for a mirror and fetches all refs if none provided')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--depth <depth>', 'Traverse DEPTH parents (-1=infinite) (default: 0)')
    .option('--url <url>', 'Pull objects from this URL instead of the one from the remote config')
    .option('--network-retries <n>', 'Specifies how many times each download should be retried upon error (default: 5)')
    .option('-T, --timestamp-check', 'Require fetched commits to have newer timestamps')
    .option('--timestamp-check-from-rev <rev>', 'Require fetched commits to have newer timestamps than given rev')
    .option('--disable-verify-bindings', 'Do not verify commit bindings')
    .option('--untrusted', 'Verify checksums of local sources (always enabled for HTTP pulls)')
    .option('--disable-static-deltas', 'Do not use static deltas (they are never used here)')
    .option('--http-header <name=value>', 'Add NAME=VALUE as HTTP header to all requests', collect, [])
    .action(async (first: string, refArgs: string[], o: {
      commitMetadataOnly?: boolean; disableFsync?: boolean; depth?: string; url?: string; networkRetries?: string;
      timestampCheck?: boolean; timestampCheckFromRev?: string; disableVerifyBindings?: boolean; httpHeader: string[]; untrusted?: boolean; mirror?: boolean;
    }, cmd: Command) => {
      const repo = await openRepo(cmd);
      let remoteName = first;
      let refs: string[] = [];
      const overrides: Array<string | undefined> = [];
      const colon = first.indexOf(':');
      if (colon >= 0) {
        remoteName = first.slice(0, colon);
        refs = [first.slice(colon + 1)];
        overrides.push(undefined);
      } else {
        for (const a of refArgs) {
          const at = a.lastIndexOf('@');
          if (at >= 0) { refs.push(a.slice(0, at)); overrides.push(a.slice(at + 1)); } else { refs.push(a); overrides.push(undefined); }
        }
      }
      const headers: Array<[string, string]> = o.httpHeader.map((kv) => {
        const i = kv.indexOf('=');
        if (i <= 0) throw new OstreeError('EINVAL', "Missing '=' in --http-header");
        return [kv.slice(0, i), kv.slice(i + 1)];
      });
      const { formatPullProgress, formatPullResult, pullFromRemote } = await pullModule();
      const progress = terminalProgress(formatPullProgress);
      const opts: PullOptions = {
        ...(o.depth !== undefined ? { depth: parseIntArg('depth', o.depth) } : {}),
        ...(o.commitMetadataOnly ? { commitMetadataOnly: true } : {}),
        ...(o.disableFsync ? { disableFsync: true } : {}),
        ...(o.url !== undefined ? { url: o.url } : {}),
        ...(o.networkRetries !== undefined ? { networkRetries: parseIntArg('network-retries', o.networkRetries) } : {}),
        ...(o.timestampCheck ? { timestampCheck: true } : {}),
        ...(o.timestampCheckFromRev !== undefined ? { timestampCheckFromRev: o.timestampCheckFromRev } : {}),
        ...(o.disableVerifyBindings ? { disableVerifyBindings: true } : {}),
        ...(o.untrusted ? { untrusted: true } : {}),
        ...(o.mirror ? { mirror: true } : {}),
        ...(overrides.some((x) => x !== undefined) ? { overrideCommits: overrides } : {}),
        ...(progress.callback ? { progress: progress.callback } : {}),
        ...(headers.length > 0 ? { httpHeaders: headers } : {}),
      };
      let r;
      try {
        r = await pullFromRemote(repo, remoteName, refs, opts);
      } finally {
        progress.clear();
      }
      out(`${formatPullResult(r)}\n`);
    });
}
