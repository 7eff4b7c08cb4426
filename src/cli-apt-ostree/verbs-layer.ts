/**
 * The verbs that make a new deployment from the origin: install, uninstall, reset, override,
 * rebase, upgrade, deploy. Each builds a LayerRequest, runs the transaction, prints the diff.
 */
import { layerTransaction, type LayerRequest } from '../layering/transaction.js';
import { checkUpgrade } from '../layering/upgrade-check.js';
import { commitOfVersion } from '../layering/db.js';
import { LayerSpec } from '../layering/layer-origin.js';
import { mergeFor } from '../sysroot/deploy/list.js';
import { defaultStateroot } from '../layering/bases.js';
import { finish, line, openSysroot, printDiff, progress, type GlobalOpts } from './context.js';
import { kv } from './status-text.js';

export interface LayerOpts extends GlobalOpts { reboot?: boolean; dryRun?: boolean }

export async function runLayer(o: LayerOpts, req: LayerRequest): Promise<void> {
  const sysroot = await openSysroot(o);
  const r = await layerTransaction(sysroot, { ...req, ...(o.os !== undefined ? { stateroot: o.os } : {}), dryRun: !!o.dryRun, log: progress });
  if (o.dryRun) {
    if (r.spec.requested.length) line(`Requested packages: ${r.spec.requested.join(' ')}`);
    if (r.spec.requestedLocal.length) line(`Requested local packages: ${r.spec.requestedLocal.map((l) => l.nevra).join(' ')}`);
    line(`Base: ${r.spec.baseRefspec} (${r.base})`);
    line("Exiting because of '--dry-run' option");
    return;
  }
  printDiff(r.diff);
  if (!r.deployment) { line('No change.'); return; }
  finish(o.reboot);
}

/** `rebase`: `-b BRANCH` keeps the remote; `REMOTE:REF`; `REMOTE:` keeps the ref; `REF` keeps the remote. */
export async function newRefspec(o: GlobalOpts, arg: string | undefined, branch: string | undefined): Promise<string> {
  const sysroot = await openSysroot(o);
  const cur = LayerSpec.fromOrigin(mergeFor(sysroot, defaultStateroot(sysroot, o.os)).origin).baseRefspec;
  const i = cur.indexOf(':');
  const remote = i < 0 ? null : cur.slice(0, i);
  const ref = i < 0 ? cur : cur.slice(i + 1);
  const withRemote = (r: string | null, b: string): string => (r === null ? b : `${r}:${b}`);
  if (branch !== undefined) return withRemote(arg !== undefined && arg.endsWith(':') ? arg.slice(0, -1) : remote, branch);
  if (arg === undefined) throw new Error('rebase: give REFSPEC or -b BRANCH');
  if (arg.endsWith(':')) return withRemote(arg.slice(0, -1), ref);
  return arg.includes(':') ? arg : withRemote(remote, arg);
}

export async function upgradeCheck(o: GlobalOpts, preview: boolean): Promise<void> {
  const sysroot = await openSysroot(o);
  const r = await checkUpgrade(sysroot, { preview, ...(o.os !== undefined ? { stateroot: o.os } : {}) });
  if (!r.available) { line('No updates available.'); return; }
  line('AvailableUpdate:');
  const when = new Date(r.available.timestamp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (r.available.version !== null) process.stdout.write(kv('Version', `${r.available.version} (${when})`));
  process.stdout.write(kv('Commit', r.available.checksum));
  printDiff(r.diff);
}

/** `deploy VERSION|CHECKSUM`: a checksum (or prefix, or ref) as is, else a version on the base ref. */
export async function deployTarget(o: GlobalOpts, target: string): Promise<string> {
  const sysroot = await openSysroot(o);
  const repo = await sysroot.repo();
  const found = await repo.resolveRevOptional(target);
  if (found !== null) return found;
  return commitOfVersion(repo, LayerSpec.fromOrigin(mergeFor(sysroot, defaultStateroot(sysroot, o.os)).origin).baseRefspec, target);
}
