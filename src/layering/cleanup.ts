/**
 * `cleanup`: `-p` removes the pending deployment, `-r` the rollback deployment, `-b` the
 * temporary data (stale base refs, scratch directories of dead transactions, unreferenced
 * objects), `-m` the apt metadata and downloads cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sysroot } from '../sysroot/sysroot.js';
import { undeploy } from '../sysroot/deploy/edit.js';
import { rmrf } from '../util/tree.js';
import { syncBaseRefs } from './bases.js';
import { aptCacheDir } from './local-debs.js';

export interface CleanupRequest { pending?: boolean; rollback?: boolean; base?: boolean; repomd?: boolean; stateroot?: string }

function removeDeadScratch(repoPath: string): number {
  const tmp = path.join(repoPath, 'tmp');
  let n = 0;
  for (const name of fs.existsSync(tmp) ? fs.readdirSync(tmp) : []) {
    const m = /^apt-ostree-(\d+)-/.exec(name);
    if (!m) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch { /* its owner is gone */ }
    rmrf(path.join(tmp, name));
    n++;
  }
  return n;
}

export async function layerCleanup(sysroot: Sysroot, req: CleanupRequest, log: (l: string) => void = () => {}): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const booted = sysroot.bootedDeployment;
  const os = req.stateroot ?? booted?.stateroot ?? sysroot.deployments[0]?.stateroot;
  const { pending, rollback } = booted ? sysroot.queryDeploymentsFor(os ?? null) : { pending: null, rollback: sysroot.deployments[1] ?? null };
  for (const [want, d, what] of [[req.pending, pending, 'pending'], [req.rollback, rollback, 'rollback']] as const) {
    if (!want) continue;
    if (!d) { log(`No ${what} deployment`); continue; }
    await sysroot.reload();
    const idx = sysroot.deployments.findIndex((x) => x.sameAs(d));
    await undeploy(sysroot, idx, log);
    log(`Deployment ${d.name} (${what}) removed`);
  }
  if (req.base) {
    const repo = await sysroot.repo();
    await sysroot.reload();
    const n = removeDeadScratch(repo.path);
    await sysroot.lock({ wait: false });
    try {
      await syncBaseRefs(repo, sysroot.deployments);
      const r = await sysroot.cleanup({ prune: true, log });
      log(`Removed ${n} scratch directories; freed ${r.freedBytes} bytes`);
    } finally {
      sysroot.unlock();
    }
  }
  if (req.repomd && os !== undefined) {
    rmrf(aptCacheDir(sysroot, os));
    log('Removed the apt metadata and package cache');
  }
}
