/**
 * Removing what the deployment list no longer references (upstream ostree-sysroot-cleanup.c;
 * notes §1.12), in upstream's order:
 *   1. the other bootversion's `boot/loader.*` and `ostree/boot.*` sets, `boot/loader.tmp`;
 *   2. deployment directories (and `.origin` files) not in the list, never the booted one;
 *   3. `boot/ostree/<os>-<bootcsum>` directories no deployment uses, unused overlay initrds;
 *   4. the deployment refs `ostree/<B>/<S>/<i>` in the repository, rewritten to the list;
 *   5. with `prune`, a repository prune keeping only what the deployments need, and the
 *      commit of a stateroot's spare (deploy/spare.ts), which the next deploy patches from;
 *      spares are deleted instead when incremental deploy is off. Skipped when it provably
 *      cannot delete anything: no object added or removed and no root dropped since the last
 *      one (prune-memo.ts).
 *
 * Only names this implementation would have made are removed (valid stateroots, deployment
 * names, `<os>-<64 hex>` boot directories), and no symlink is followed: a stateroot or deploy
 * directory that is a symlink is not walked, so nothing outside the sysroot can be deleted.
 * Removal is iterative and directory-relative (util/dirfd): any depth is cleaned up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../errors.js';
import {
  BOOT_OSTREE_REL, LOADER_TMP_REL, OVERLAY_INITRDS_REL, bootlinksLinkRel, bootlinksRel, loaderRel,
  deploymentRefName, isDeploymentRefName, parseDeploymentName, parseKernelDirName, rootDir, staterootDeployRel,
} from './layout.js';
import type { SysrootState } from './state.js';
import { faultStep, withFaultOp } from './fault.js';
import { selectBootloader } from './bootloader/registry.js';
import { repoConfig } from './sysroot-config.js';
import { pruneRepo } from '../repo/prune.js';
import { refCommits } from '../repo/refs-list.js';
import { listRemotes } from '../repo/remotes.js';
import { pruneStaticDeltas } from '../repo/deltas/catalog.js';
import { pruneSummaryCache } from '../repo/summary/cache.js';
import type { Repo } from '../repo/repo.js';
import { forgetPrune, pruneWouldFreeNothing, rememberPrune } from './prune-memo.js';
import { withTransaction } from '../repo/transaction.js';
import { formatSize } from '../util/format-size.js';
import { lstatOrNull, statOrNull } from '../util/fs.js';
import { rmrf } from '../util/tree.js';
import { incrementalDeployEnabled, listSpares, removeSpares } from './deploy/spare.js';

export interface CleanupOptions { prune?: boolean; log?: (msg: string) => void }
export interface CleanupResult { deletedDeployments: string[]; freedBytes: number }

export async function cleanupSysroot(sysroot: SysrootState, options: CleanupOptions = {}): Promise<CleanupResult> {
  return withFaultOp('cleanup', async () => {
    if (!sysroot.loaded) await sysroot.load();
    await resyncBootloader(sysroot);
    removeOtherBootversions(sysroot);
    faultStep('old-bootversions-removed');
    const deleted = removeOldDeployments(sysroot);
    if (!incrementalDeployEnabled()) removeSpares(sysroot);
    removeUnusedBootDirs(sysroot);
    faultStep('boot-dirs-removed');
    await writeDeploymentRefs(sysroot);
    faultStep('refs-written');
    let freed = 0;
    if (options.prune) {
      freed = await pruneForDeployments(sysroot, options.log);
      faultStep('pruned');
    }
    return { deletedDeployments: deleted, freedBytes: freed };
  });
}

/** A non-atomic bootloader (systemd-boot's ESP) may still name the other bootversion's links. */
async function resyncBootloader(sysroot: SysrootState): Promise<void> {
  if (lstatOrNull(sysroot.abs('boot/loader')) === null) return;
  selectBootloader(sysroot.path, await repoConfig(sysroot)).resync?.(sysroot.path);
}

function safeReaddir(p: string): string[] {
  try { return fs.readdirSync(p); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return []; throw e; }
}

function removeOtherBootversions(sysroot: SysrootState): void {
  const B = sysroot.bootversion, S = sysroot.subbootversion;
  rmrf(sysroot.abs(loaderRel(1 - B)));
  rmrf(sysroot.abs(bootlinksLinkRel(1 - B)));
  rmrf(sysroot.abs(bootlinksRel(1 - B, 0)));
  rmrf(sysroot.abs(bootlinksRel(1 - B, 1)));
  rmrf(sysroot.abs(bootlinksRel(B, 1 - S)));
  fs.rmSync(sysroot.abs(LOADER_TMP_REL), { force: true });
}

/** Deployment directories not in the list (never the booted one); returns their names. */
function removeOldDeployments(sysroot: SysrootState): string[] {
  const active = new Set(sysroot.deployments.map((d) => `${d.stateroot}/${d.name}`));
  const rootSt = statOrNull(rootDir());
  const deleted: string[] = [];
  for (const os of sysroot.stateroots()) {
    const deployDir = sysroot.abs(staterootDeployRel(os));
    if (!lstatOrNull(deployDir)?.isDirectory()) continue; // missing, or a symlink: not walked
    for (const n of safeReaddir(deployDir)) {
      const full = path.join(deployDir, n);
      const st = lstatOrNull(full);
      if (!st) continue;
      if (st.isDirectory()) {
        if (!parseDeploymentName(n) || active.has(`${os}/${n}`)) continue;
        if (rootSt && st.dev === rootSt.dev && st.ino === rootSt.ino) continue;
        rmrf(full);
        fs.rmSync(`${full}.origin`, { force: true });
        deleted.push(n);
        faultStep('deployment-deleted');
      } else if (n.endsWith('.origin')) {
        const base = n.slice(0, -'.origin'.length);
        if (parseDeploymentName(base) && !active.has(`${os}/${base}`) && !lstatOrNull(path.join(deployDir, base))) fs.rmSync(full, { force: true });
      }
    }
  }
  return deleted;
}

/** Kernel directories keyed on bootcsum only (as upstream), and overlay initrds. */
function removeUnusedBootDirs(sysroot: SysrootState): void {
  const bootcsums = new Set(sysroot.deployments.map((d) => d.bootcsum));
  const bootOstree = sysroot.abs(BOOT_OSTREE_REL);
  if (!lstatOrNull(bootOstree)?.isDirectory()) return;
  for (const n of safeReaddir(bootOstree)) {
    const csum = parseKernelDirName(n);
    if (csum === null || bootcsums.has(csum)) continue;
    rmrf(path.join(bootOstree, n));
  }
  const overlays = new Set(sysroot.deployments.flatMap((d) => d.overlayInitrds));
  const ovDir = sysroot.abs(OVERLAY_INITRDS_REL);
  if (!lstatOrNull(ovDir)?.isDirectory()) return;
  for (const n of safeReaddir(ovDir)) {
    if (n.endsWith('.img') && !overlays.has(n.slice(0, -4))) fs.rmSync(path.join(ovDir, n), { force: true });
  }
}

/** Deployment refs -> commit of deployment i, so a prune keeps every deployed commit. */
async function writeDeploymentRefs(sysroot: SysrootState): Promise<void> {
  const B = sysroot.bootversion, S = sysroot.subbootversion;
  const repo = await sysroot.repo();
  const refs = await repo.listRefs('ostree');
  const want = new Map<string, string>();
  sysroot.deployments.forEach((d, i) => want.set(deploymentRefName(B, S, i), d.csum));
  // In a repository transaction, as upstream (its staging directory, its test hooks).
  await withTransaction(repo.path, async () => {
    for (const ref of refs.keys()) {
      if (!isDeploymentRefName(ref)) continue;
      if (!want.has(ref)) await repo.setRef(ref, null);
    }
    for (const [ref, csum] of want) {
      if (refs.get(ref) !== csum) await repo.setRef(ref, csum);
    }
  });
}

async function pruneForDeployments(sysroot: SysrootState, log?: (msg: string) => void): Promise<number> {
  const repo = await sysroot.repo();
  // (a spare whose commit another implementation pruned is not kept alive: the next deploy
  // finds it unusable and deletes it)
  const spares = listSpares(sysroot).map((s) => s.csum).filter((c) => repo.hasObjectSync(c, 'commit'));
  const keep = [...sysroot.deployments.map((d) => d.csum), ...spares];
  return repo.withLock(true, async () => {
    const roots = pruneRoots(repo, keep);
    if (roots !== null && pruneWouldFreeNothing(repo.path, roots)) {
      // What else a prune does, which no object change announces (a remote deleted since).
      pruneStaticDeltas(repo.path, null, (c) => repo.hasObjectSync(c, 'commit'));
      pruneSummaryCache(repo.path, new Set(listRemotes(repo).map((r) => r.name)));
      return 0;
    }
    forgetPrune(repo.path);
    const res = await pruneRepo(repo, { refsOnly: true, depth: 0, keepCommits: keep });
    if (roots !== null) rememberPrune(repo.path, roots);
    if (res.objectsPruned > 0) log?.(`Freed objects: ${formatSize(res.bytesFreed)}`);
    return res.bytesFreed;
  });
}

/** The prune's roots: every ref's commit and `keep`; null when a ref cannot be read (the
 *  prune then runs and reports it). */
function pruneRoots(repo: Repo, keep: readonly string[]): string[] | null {
  try {
    return [...refCommits(repo, () => new Error('unreadable ref')), ...keep];
  } catch {
    return null;
  }
}
