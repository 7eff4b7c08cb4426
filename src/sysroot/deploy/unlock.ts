/**
 * `ostree admin unlock` (notes §6.10): a writable overlay on the booted deployment's /usr —
 * discarded at reboot (development, transient), or kept (hotfix, with a non-hotfixed clone as
 * the rollback target).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import * as libc from '../../native/libc.js';
import { Origin } from '../formats/origin.js';
import type { Sysroot } from '../sysroot.js';
import { deploymentStateDir, rootDir } from '../layout.js';
import { deployTree } from './create.js';
import { simpleWriteDeployment } from './list.js';
import { noLog, type Log } from './log.js';
import { mkdirp, writeFileAtomic } from '../../util/fs.js';
import { clearImmutable } from '../../util/tree.js';

export type UnlockMode = 'development' | 'transient' | 'hotfix';

export async function unlock(sysroot: Sysroot, mode: UnlockMode, log: Log = noLog): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const booted = sysroot.requireBooted('unlock');
  if (booted.unlocked !== 'none') throw new OstreeError('ESTATE', `Deployment is already in unlocked state: ${booted.unlocked}`);
  const deployDir = sysroot.deploymentDirectory(booted);
  const rootUsr = path.join(rootDir(), 'usr');
  const usrMode = fs.statSync(rootUsr).mode & 0o7777;
  if (mode === 'hotfix') {
    // Non-default clone of the booted deployment as the rollback target.
    const clone = await deployTree(sysroot, booted.stateroot, booted.csum, booted.origin?.withoutTransientState() ?? null, {
      merge: booted, kargs: booted.bootconfig.kernelArgsWithoutOstree(), log,
    });
    await simpleWriteDeployment(sysroot, booted.stateroot, clone, booted, { notAsDefault: true, cleanup: false, log });
    clearImmutable(deployDir); // the overlay directories go at its top level
    const upper = path.join(deployDir, '.usr-ovl-upper');
    const work = path.join(deployDir, '.usr-ovl-work');
    mkdirp(upper, usrMode); mkdirp(work, usrMode);
    libc.mount('overlay', rootUsr, 'overlay', 0, `lowerdir=${rootUsr},upperdir=${upper},workdir=${work}`);
    const cur = sysroot.deployments.find((d) => d.sameAs(booted)) ?? booted;
    const o = cur.origin ? cur.origin.clone() : Origin.parse('', sysroot.originPath(cur));
    o.setUnlocked('hotfix');
    sysroot.writeOrigin(cur, o);
    log('Hotfix mode enabled.  A writable overlayfs is now mounted on /usr\nfor this booted deployment.  A non-hotfixed clone has been created\nas the non-default rollback target.');
    return;
  }
  const varTmp = path.join(rootDir(), 'var/tmp');
  mkdirp(varTmp, 0o1777);
  const ovl = fs.mkdtempSync(path.join(varTmp, 'ostree-unlock-ovl.'));
  const upper = path.join(ovl, 'upper');
  const work = path.join(ovl, 'work');
  fs.mkdirSync(upper, usrMode); fs.mkdirSync(work, usrMode);
  libc.mount('overlay', rootUsr, 'overlay', mode === 'transient' ? libc.MS_RDONLY : 0, `lowerdir=${rootUsr},upperdir=${upper},workdir=${work}`);
  const stateDir = deploymentStateDir(booted.name);
  mkdirp(stateDir, 0o755);
  writeFileAtomic(path.join(stateDir, mode === 'transient' ? 'unlocked-transient' : 'unlocked-development'), ovl);
  sysroot.bumpMtime();
  if (mode === 'transient') {
    log('A writable overlayfs is prepared for /usr, but is mounted read-only by default.\nAll changes there will be discarded on reboot.');
  } else {
    log('Development mode enabled.  A writable overlayfs is now mounted on /usr.\nAll changes there will be discarded on reboot.');
  }
}
