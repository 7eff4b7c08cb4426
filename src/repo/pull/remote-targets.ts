/**
 * Phases 1 and 2 of an HTTP pull: what the remote says before any object is fetched. Its
 * summary (or, when it has none, its config for the mode), fetched only when a requested ref
 * needs it (a pull of `REF@CHECKSUM` alone never reads the summary, as upstream); its mode,
 * which must be an archive mode; and the commit each requested ref names, from the summary or
 * from `refs/heads/REF`.
 */
import { OstreeError } from '../../errors.js';
import { KeyFile } from '../../glib/keyfile.js';
import { isChecksum } from '../objects/checksum.js';
import { modeFromConfig, modeTraits } from '../modes/mode.js';
import { validateRefName } from '../repo.js';
import { REF_MAX_SIZE, REMOTE_CONFIG_MAX_SIZE } from './limits.js';
import { parseSummary, type RemoteSummary } from './summary.js';
import type { RefRequest, Wanted } from './targets.js';
import type { HttpFetcher } from './transport.js';

export interface RemoteState {
  /** The summary's bytes as served (a full mirror stores them), or null. */
  summaryData: Buffer | null;
  /** Its signatures (summary.sig) as served, or null. */
  summarySig: Buffer | null;
  summary: RemoteSummary | null;
  targets: Wanted[];
}

/** Where the summary and its signatures come from: the remote (through the summary cache and
 *  the verifier: session.ts), or a metalink's verified copy. Either may be null (not served). */
export type SummaryLoader = () => Promise<{ summary: Buffer | null; sig: Buffer | null }>;

/** Only an archive-mode repository can be pulled from over HTTP. */
async function checkRemoteMode(meta: HttpFetcher, remoteName: string, summary: RemoteSummary | null): Promise<void> {
  let mode = summary?.mode;
  if (mode === undefined) {
    const cfg = await meta.get('config', { optional: true, maxSize: REMOTE_CONFIG_MAX_SIZE, what: 'repository config' });
    if (cfg !== null) mode = KeyFile.parse(cfg.toString('utf8'), meta.url('config')).get('core', 'mode') ?? 'bare';
  }
  if (mode === undefined) return;
  let compressed = false;
  try { compressed = modeTraits(modeFromConfig(mode, 'remote')).compressed; } catch { /* unknown mode: refused below */ }
  if (!compressed) {
    throw new OstreeError('EINVAL', `Can't pull from archives with mode "${mode}" (remote "${remoteName}" at ${meta.url('')} must be an archive-mode repository to be served over HTTP)`);
  }
}

/** As upstream's messages: at most 64 characters of what the server sent, newlines as spaces. */
function quash(text: string): string {
  return text.slice(0, 64).replace(/\n/g, ' ');
}

/** The commit `refs/heads/REF` names on the server. */
async function fetchRefChecksum(meta: HttpFetcher, remoteName: string, ref: string): Promise<string> {
  const rel = `refs/heads/${ref}`;
  const data = await meta.get(rel, { optional: true, maxSize: REF_MAX_SIZE, what: `ref ${ref}` });
  if (data === null) throw new OstreeError('ENOENT', `Remote "${remoteName}" has no ref '${ref}' (Server returned HTTP 404 for ${meta.url(rel)})`);
  const text = data.toString('utf8').trimEnd();
  if (!isChecksum(text)) throw new OstreeError('ECORRUPT', `Fetching checksum for ref ((empty), ${ref}): Invalid rev ${quash(text)}`);
  return text;
}

/** Every ref a full mirror pulls: the summary's, each name checked. */
function summaryRefs(summary: RemoteSummary | null, meta: HttpFetcher, remoteName: string): RefRequest[] {
  if (summary === null) throw new OstreeError('ENOENT', `Fetching all refs was requested in mirror mode, but remote repository does not have a summary (remote "${remoteName}"; name the refs to mirror)`);
  return [...summary.refs.keys()].map((name) => {
    try { validateRefName(name); } catch (e) {
      throw new OstreeError('ECORRUPT', `Remote "${remoteName}": its summary (${meta.url('summary')}) lists an invalid ref name: ${(e as Error).message}`);
    }
    return { ref: name };
  });
}

/** Phases 1 and 2: the summary when needed, the remote's mode, and the target commits. */
export async function resolveRemoteState(
  meta: HttpFetcher, remoteName: string, requests: RefRequest[], allRefs: boolean, load: SummaryLoader,
): Promise<RemoteState> {
  const needSummary = allRefs || requests.some((w) => w.override === undefined);
  const { summary: summaryData, sig: summarySig } = needSummary ? await load() : { summary: null, sig: null };
  const summary = summaryData === null ? null : parseSummary(summaryData, meta.url('summary'));
  await checkRemoteMode(meta, remoteName, summary);
  if (allRefs) requests.push(...summaryRefs(summary, meta, remoteName));
  const targets: Wanted[] = [];
  for (const w of requests) {
    if (w.override !== undefined) { targets.push({ ref: w.ref, commit: w.override }); continue; }
    const ref = w.ref!;
    if (summary) {
      const s = summary.refs.get(ref);
      if (!s) throw new OstreeError('ENOENT', `No such branch '${ref}' in repository summary (remote "${remoteName}")`);
      targets.push({ ref, commit: s.checksum });
    } else targets.push({ ref, commit: await fetchRefChecksum(meta, remoteName, ref) });
  }
  return { summaryData, summarySig, summary, targets };
}
