/**
 * One deployment's boot files (upstream install_deployment_kernel, ostree-sysroot-deploy.c):
 * its kernel, initramfs, devicetree and FIPS hmac hardlinked (or copied) into
 * `/boot/ostree/<stateroot>-<bootcsum>/`, and its BLS entry filled in: title, version, linux,
 * initrd(s), devicetree, and the `ostree=` bootlink (through formats/bls, the one place that
 * builds entry contents and kernel arguments).
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { overlayInitrdPath } from './formats/bls.js';
import { kernelDirInBoot, sysrootDebug } from './layout.js';
import type { Deployment } from './deployment.js';
import type { SysrootState } from './state.js';
import { findKernel, type KernelLayout } from './kernel-layout.js';
import { mkdirp, parseOsRelease, readFileBounded } from '../util/fs.js';
import { copyTree, linkOrCopy } from '../util/tree.js';

/** os-release files are small; a larger one is not one. */
const OS_RELEASE_MAX_BYTES = 64 * 1024;

function installBootFiles(bootDir: string, k: KernelLayout): void {
  mkdirp(bootDir, 0o775);
  linkOrCopy(k.kernelSrc, path.join(bootDir, k.kernelDestName));
  if (k.initramfsSrc && k.initramfsDestName) linkOrCopy(k.initramfsSrc, path.join(bootDir, k.initramfsDestName));
  if (k.devicetreeSrc && k.devicetreeDestName) linkOrCopy(k.devicetreeSrc, path.join(bootDir, k.devicetreeDestName));
  if (k.dtbDir) copyTree(k.dtbDir, path.join(bootDir, 'dtb'));
  if (k.hmacSrc && k.hmacDestName) linkOrCopy(k.hmacSrc, path.join(bootDir, k.hmacDestName));
}

/** PRETTY_NAME (usr/lib/os-release, else etc/os-release), else ID. */
function osName(deployDir: string, d: Deployment): string {
  let text: string | null = null;
  for (const rel of ['usr/lib/os-release', 'etc/os-release']) {
    const data = readFileBounded(path.join(deployDir, rel), OS_RELEASE_MAX_BYTES, { what: `os-release of deployment ${d.name}` });
    if (data !== null) { text = data.toString('utf8'); break; }
  }
  if (text === null) {
    throw new OstreeError('ENOENT', `Deployment ${d.name} has no usr/lib/os-release or etc/os-release; cannot name its boot entry`);
  }
  const rel = parseOsRelease(text);
  const title = rel.get('PRETTY_NAME') ?? rel.get('ID');
  if (title === undefined) throw new OstreeError('ECORRUPT', `No PRETTY_NAME or ID in os-release of deployment ${d.name}`);
  return title;
}

/** `sysroot.bls-append-except-default`: `KEY=VALUE;...` added to every entry but the default. */
async function appendExceptDefault(sysroot: SysrootState, d: Deployment): Promise<void> {
  const cfg = await sysroot.repo().then((r) => r.config).catch(() => undefined);
  const extra = cfg?.get('sysroot', 'bls-append-except-default');
  if (!extra || d.index === 0) return;
  for (const kv of extra.split(';').filter((s) => s !== '')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new OstreeError('ECONFIG', `Invalid sysroot.bls-append-except-default entry '${kv}', expected KEY=VALUE`);
    d.bootconfig.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
}

/**
 * Install the boot files of `d` and fill its BLS entry for bootversion `bootversion` in a list
 * of `count` deployments (`showStateroot` when the list spans several stateroots).
 */
export async function installDeploymentKernel(sysroot: SysrootState, d: Deployment, bootversion: 0 | 1, count: number, showStateroot: boolean): Promise<void> {
  const deployDir = sysroot.deploymentDirectory(d);
  // The files are found again, but the directory keeps the deployment's recorded bootcsum even
  // when today's computation differs (a deployment made under OSTREE_SYSROOT_DEBUG=no-dtb gets
  // its dtb/ once the flag is gone), as upstream's install_deployment_kernel does.
  const k = await findKernel(deployDir, { noDtb: sysrootDebug('no-dtb') });
  const bootRel = kernelDirInBoot(d.stateroot, d.bootcsum);
  installBootFiles(sysroot.abs(`boot/${bootRel}`), k);

  const bc = d.bootconfig;
  let title = osName(deployDir, d);
  const version = await sysroot.commitVersion(d.csum);
  if (version && !title.includes(version)) title += ` ${version}`;
  title += ` (ostree${showStateroot ? ':' + d.stateroot : ''}:${d.index})`;
  bc.title = title;
  bc.version = String(count - d.index);
  bc.linux = `/${bootRel}/${k.kernelDestName}`;
  bc.initrd = k.initramfsDestName ? `/${bootRel}/${k.initramfsDestName}` : undefined;
  if (k.devicetreeDestName) bc.devicetree = `/${bootRel}/${k.devicetreeDestName}`;
  if (k.dtbDir) bc.set('fdtdir', `/${bootRel}/dtb`);
  bc.overlayInitrds = d.overlayInitrds.map(overlayInitrdPath);
  bc.setBootlink({ bootversion, stateroot: d.stateroot, bootcsum: d.bootcsum, bootserial: d.bootserial }, !k.initramfsDestName);
  await appendExceptDefault(sysroot, d);
}
