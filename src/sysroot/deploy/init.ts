/**
 * `ostree admin init-fs` and `ostree admin os-init` (notes §1.1, §1.2): the sysroot skeleton,
 * and a new stateroot `ostree/deploy/<name>` with its shared `var` (2022.7 layout).  The name
 * is validated by layout.ts first: nothing is created for a name that could leave the sysroot.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import { DEPLOY_ROOT_REL, REPO_REL, staterootRel, staterootVarRel, validateStateroot } from '../layout.js';
import { lstatOrNull, mkdirp, statOrNull, touchNow } from '../../util/fs.js';
import { noLog, type Log } from './log.js';

/** `ostree admin init-fs [--modern] PATH`: PATH must exist. */
export async function initFs(p: string, options: { modern?: boolean } = {}): Promise<void> {
  const st = statOrNull(p);
  if (!st?.isDirectory()) throw new OstreeError('ENOENT', `${p}: not an existing directory (init-fs needs the target directory to exist)`);
  mkdirp(path.join(p, 'boot'), 0o755);
  if (!options.modern) {
    for (const d of ['dev', 'home', 'proc', 'run', 'sys']) mkdirp(path.join(p, d), 0o755);
    mkdirp(path.join(p, 'root'), 0o700);
    mkdirp(path.join(p, 'tmp'), 0o1777);
    fs.chmodSync(path.join(p, 'tmp'), 0o1777);
  }
  await ensureInitialized(p);
}

async function ensureInitialized(p: string): Promise<void> {
  mkdirp(path.join(p, DEPLOY_ROOT_REL), 0o755);
  mkdirp(path.join(p, REPO_REL), 0o755);
  await Repo.create(path.join(p, REPO_REL), 'bare');
}

/** `ostree admin os-init NAME` (2022.7 var layout). */
export async function osInit(sysrootPath: string, name: string, log: Log = noLog): Promise<void> {
  validateStateroot(name);
  await ensureInitialized(sysrootPath);
  const dir = path.join(sysrootPath, staterootRel(name));
  try {
    fs.mkdirSync(dir, 0o777);
  } catch (e) {
    if (isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `Creating ${staterootRel(name)}: File exists`);
    throw e;
  }
  const v = path.join(sysrootPath, staterootVarRel(name));
  mkdirp(v, 0o755);
  fs.mkdirSync(path.join(v, 'tmp'), { recursive: true });
  fs.chmodSync(path.join(v, 'tmp'), 0o1777);
  mkdirp(path.join(v, 'lib'), 0o755);
  mkdirp(path.join(v, 'log'), 0o755);
  if (!lstatOrNull(path.join(v, 'run'))) fs.symlinkSync('../run', path.join(v, 'run'));
  if (!lstatOrNull(path.join(v, 'lock'))) fs.symlinkSync('../run/lock', path.join(v, 'lock'));
  touchNow(path.join(sysrootPath, DEPLOY_ROOT_REL));
  log(`${staterootRel(name)} initialized as OSTree root`);
}
