/**
 * `ostree pull REMOTE [REF...]` and `ostree pull REMOTE:REF` (upstream 2022.7 options and
 * result line), with a terminal progress line. Parsing and printing only; the pull is
 * src/repo/pull/http.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { formatPullProgress, formatPullResult, pullFromRemote, type PullOptions } from '../../repo/pull/http.js';
import { Repo } from '../../repo/repo.js';
import { collect, parseIntArg } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';
import { formatDeltaUpdate } from '../../repo/pull/delta-phase.js';
import { terminalProgress } from '../progress.js';

interface PullFlags {
  commitMetadataOnly?: boolean; disableFsync?: boolean; depth?: string; url?: string; networkRetries?: string;
  timestampCheck?: boolean; timestampCheckFromRev?: string; disableVerifyBindings?: boolean; httpHeader: string[];
  untrusted?: boolean; mirror?: boolean; subpath: string[]; localcacheRepo: string[]; bareuseronlyFiles?: boolean;
  httpTrusted?: boolean; dryRun?: boolean; requireStaticDeltas?: boolean; disableStaticDeltas?: boolean;
  appendUserAgent?: string; updateFrequency?: string; cacheDir?: string;
}

/** REMOTE:REF, or REMOTE and REF[@CHECKSUM]... → the remote, the refs and per-ref commit overrides. */
export function parsePullTargets(first: string, refArgs: string[]): { remote: string; refs: string[]; overrides: Array<string | undefined> } {
  const colon = first.indexOf(':');
  if (colon >= 0) return { remote: first.slice(0, colon), refs: [first.slice(colon + 1)], overrides: [undefined] };
  const refs: string[] = [];
  const overrides: Array<string | undefined> = [];
  for (const a of refArgs) {
    const at = a.lastIndexOf('@');
    refs.push(at >= 0 ? a.slice(0, at) : a);
    overrides.push(at >= 0 ? a.slice(at + 1) : undefined);
  }
  return { remote: first, refs, overrides };
}

function httpHeaders(specs: string[]): Array<[string, string]> {
  return specs.map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw new OstreeError('EINVAL', "Missing '=' in --http-header");
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

function pullOptions(o: PullFlags, overrides: Array<string | undefined>): PullOptions {
  const headers = httpHeaders(o.httpHeader);
  return {
    ...(o.depth !== undefined ? { depth: parseIntArg('--depth', o.depth) } : {}),
    ...(o.commitMetadataOnly ? { commitMetadataOnly: true } : {}),
    ...(o.disableFsync ? { disableFsync: true } : {}),
    ...(o.url !== undefined ? { url: o.url } : {}),
    ...(o.networkRetries !== undefined ? { networkRetries: parseIntArg('--network-retries', o.networkRetries) } : {}),
    ...(o.timestampCheck ? { timestampCheck: true } : {}),
    ...(o.timestampCheckFromRev !== undefined ? { timestampCheckFromRev: o.timestampCheckFromRev } : {}),
    ...(o.disableVerifyBindings ? { disableVerifyBindings: true } : {}),
    ...(o.untrusted ? { untrusted: true } : {}),
    ...(o.mirror ? { mirror: true } : {}),
    ...(overrides.some((x) => x !== undefined) ? { overrideCommits: overrides } : {}),
    ...(headers.length > 0 ? { httpHeaders: headers } : {}),
    ...(o.subpath.length > 0 ? { subpaths: o.subpath } : {}),
    ...(o.localcacheRepo.length > 0 ? { localCacheRepos: o.localcacheRepo } : {}),
    ...(o.bareuseronlyFiles ? { bareUserOnlyFiles: true } : {}),
    ...(o.httpTrusted ? { httpTrusted: true } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.requireStaticDeltas ? { requireStaticDeltas: true } : {}),
    ...(o.disableStaticDeltas ? { disableStaticDeltas: true } : {}),
    ...(o.appendUserAgent !== undefined ? { appendUserAgent: o.appendUserAgent } : {}),
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
  };
}

async function runPull(first: string, refArgs: string[], o: PullFlags, cmd: Command): Promise<void> {
  const repo = await Repo.open(repoPath(cmd));
  const { remote, refs, overrides } = parsePullTargets(first, refArgs);
  if (o.requireStaticDeltas && o.disableStaticDeltas) throw new OstreeError('EINVAL', 'Cannot specify both --disable-static-deltas and --require-static-deltas');
  if (o.updateFrequency !== undefined) parseIntArg('--update-frequency', o.updateFrequency);
  const opts = pullOptions(o, overrides);
  // as upstream: the progress line goes to stdout when it is a terminal; logs and pipes get the summary only
  const progress = terminalProgress(formatPullProgress, process.stdout);
  let r;
  try {
    r = await pullFromRemote(repo, remote, refs, progress.callback ? { ...opts, progress: progress.callback } : opts);
  } finally {
    progress.clear();
  }
  out(r.deltaUpdate !== undefined ? `${formatDeltaUpdate(r.deltaUpdate)}\n` : `${formatPullResult(r)}\n`);
}

export function register(program: Command): void {
  program.command('pull').description('Download data from remote repository')
    .argument('<remote>', 'REMOTE, or REMOTE:REF').argument('[refs...]', 'refs to pull (REF or REF@CHECKSUM); default: the remote\'s branches')
    .option('--commit-metadata-only', 'Fetch only the commit metadata')
    .option('--mirror', 'Write refs suitable for a mirror and fetches all refs if none provided')
    .option('--cache-dir <dir>', 'Use custom cache dir')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--per-object-fsync', 'Perform writes in such a way that avoids stalling concurrent processes')
    .option('--subpath <path>', 'Only pull the provided subpath(s)', collect, [])
    .option('--http-trusted', 'Do not verify checksums of HTTP sources (mostly useful when mirroring)')
    .option('--bareuseronly-files', 'Reject regular files with mode outside of 0775 (world writable, suid, etc.)')
    .option('--dry-run', 'Only print information on what will be downloaded (requires static deltas)')
    .option('--require-static-deltas', 'Require static deltas')
    .option('--update-frequency <ms>', 'Sets the update frequency, in milliseconds (0=1000ms) (default: 0)')
    .option('-L, --localcache-repo <repo>', 'Add REPO as local cache source for objects during this pull', collect, [])
    .option('--append-user-agent <product>', 'Append PRODUCT to the User-Agent of HTTP requests')
    .option('-v, --verbose', 'Print debug information during command processing')
    .option('--depth <depth>', 'Traverse DEPTH parents (-1=infinite) (default: 0)')
    .option('--url <url>', 'Pull objects from this URL instead of the one from the remote config')
    .option('--network-retries <n>', 'Specifies how many times each download should be retried upon error (default: 5)')
    .option('-T, --timestamp-check', 'Require fetched commits to have newer timestamps')
    .option('--timestamp-check-from-rev <rev>', 'Require fetched commits to have newer timestamps than given rev')
    .option('--disable-verify-bindings', 'Do not verify commit bindings')
    .option('--untrusted', 'Verify checksums of local sources (always enabled for HTTP pulls)')
    .option('--disable-static-deltas', 'Do not use static deltas')
    .option('--http-header <name=value>', 'Add NAME=VALUE as HTTP header to all requests', collect, [])
    .action(runPull);
}
