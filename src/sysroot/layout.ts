/**
 * The sysroot's on-disk layout: the one owner of every path under a sysroot, and of the names
 * that become path components there (stateroot names, deployment names), plus the run-time
 * directory (`/run`) and the debug switches that change where and how things are written.
 *
 *   ostree/deploy/<stateroot>/{var,deploy/<csum>.<serial>[.origin]}   deployments
 *   ostree/boot.<B> -> boot.<B>.<S>, ostree/boot.<B>.<S>/<stateroot>/<bootcsum>/<serial>   bootlinks
 *   boot/loader -> loader.<B>, boot/loader.<B>/entries/*.conf        BLS entries (formats/bls)
 *   boot/ostree/<stateroot>-<bootcsum>/                                kernels and initramfs
 *   ostree/repo, ostree/lock
 *   /run/ostree/{staged-deployment,staged-deployment-locked,deployment-state/<name>/}
 *
 * Names are validated here, whatever reads or writes them (a CLI option, a BLS entry, a
 * bootlink, the staged record): a stateroot or deployment name that could leave the sysroot
 * (`..`, `/`), break a kernel command line or a file name (whitespace, control characters,
 * NUL), or not fit a file name is refused before any path is built from it.
 *
 * Test-only knobs (defaults are the real paths):
 *   OSTREE_TS_RUN_DIR   directory used instead of `/run`
 *   OSTREE_TS_ROOT_DIR  directory used instead of `/` when deciding "booted" (same inode test)
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Names

/**
 * At most this many bytes: the longest path component built from a stateroot is
 * `boot/ostree/<stateroot>-<64 hex>` (65 more bytes) and a file name has at most 255.
 */
export const STATEROOT_MAX_BYTES = 180;

/** Why `name` is not a usable stateroot name, or null when it is. */
export function staterootProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  if (name === '.' || name === '..') return `'${name}' names a directory that already exists`;
  if (name.includes('/')) return "it contains '/'";
  if (name.includes('\0')) return 'it contains a NUL byte';
  // whitespace splits a kernel argument (ostree=...); control characters break files and logs
  if (/[\s\x00-\x1f\x7f]/u.test(name)) return 'it contains whitespace or a control character';
  if (Buffer.byteLength(name, 'utf8') > STATEROOT_MAX_BYTES) return `it is longer than ${STATEROOT_MAX_BYTES} bytes`;
  return null;
}

/** Throw EINVAL (or ECORRUPT when read from `source` on disk) unless `name` is a valid stateroot. */
export function validateStateroot(name: string, source?: string): string {
  const problem = staterootProblem(name);
  if (problem === null) return name;
  const shown = JSON.stringify(name);
  if (source !== undefined) {
    throw new OstreeError('ECORRUPT', `${source}: invalid stateroot name ${shown}: ${problem}`, { path: source });
  }
  throw new OstreeError('EINVAL', `Invalid stateroot name ${shown}: ${problem} (a stateroot is one path component, without whitespace)`);
}

const SHA256_RE = /^[0-9a-f]{64}$/;
const DEPLOYMENT_NAME_RE = /^([0-9a-f]{64})\.([0-9]{1,9})$/;

export function isChecksum(s: string): boolean { return SHA256_RE.test(s); }

/** A deployment directory name `<64 hex>.<serial>`, or null. */
export function parseDeploymentName(name: string): { csum: string; serial: number } | null {
  const m = DEPLOYMENT_NAME_RE.exec(name);
  return m ? { csum: m[1]!, serial: Number(m[2]) } : null;
}

export function deploymentName(csum: string, serial: number): string { return `${csum}.${serial}`; }

// ---------------------------------------------------------------------------------------------
// Paths relative to the sysroot (no leading '/')

export const REPO_REL = 'ostree/repo';
export const LOCK_REL = 'ostree/lock';
export const DEPLOY_ROOT_REL = 'ostree/deploy';

export function staterootRel(stateroot: string): string { return `${DEPLOY_ROOT_REL}/${stateroot}`; }
export function staterootDeployRel(stateroot: string): string { return `${DEPLOY_ROOT_REL}/${stateroot}/deploy`; }
export function staterootVarRel(stateroot: string): string { return `${DEPLOY_ROOT_REL}/${stateroot}/var`; }
export function deploymentRel(stateroot: string, name: string): string { return `${staterootDeployRel(stateroot)}/${name}`; }
export function originRel(stateroot: string, name: string): string { return `${deploymentRel(stateroot, name)}.origin`; }

export function loaderLinkRel(): string { return 'boot/loader'; }
export function loaderRel(bootversion: number): string { return `boot/loader.${bootversion}`; }
export function entriesRel(bootversion: number): string { return `boot/loader.${bootversion}/entries`; }
export const LOADER_TMP_REL = 'boot/loader.tmp';

/** `ostree/boot.<B>`: the symlink to the live bootlink set `boot.<B>.<S>`. */
export function bootlinksLinkRel(bootversion: number): string { return `ostree/boot.${bootversion}`; }
export function bootlinksRel(bootversion: number, subbootversion: number): string { return `ostree/boot.${bootversion}.${subbootversion}`; }
/** The directory holding the bootlinks `<serial>` of one stateroot and kernel. */
export function bootlinkDirRel(bootversion: number, subbootversion: number, stateroot: string, bootcsum: string): string {
  return `${bootlinksRel(bootversion, subbootversion)}/${stateroot}/${bootcsum}`;
}
/** What a bootlink `ostree/boot.B.S/<os>/<bootcsum>/<serial>` points at (relative). */
export function bootlinkTarget(stateroot: string, name: string): string { return `../../../deploy/${stateroot}/deploy/${name}`; }

/** Kernel directory, relative to the /boot filesystem (`ostree/<os>-<bootcsum>`). */
export function kernelDirInBoot(stateroot: string, bootcsum: string): string { return `ostree/${stateroot}-${bootcsum}`; }
export const BOOT_OSTREE_REL = 'boot/ostree';
export const OVERLAY_INITRDS_REL = 'boot/ostree/initramfs-overlays';
export const FINALIZE_FAILURE_STAMP_REL = 'boot/ostree/finalize-failure.stamp';
/** The boot checks' record across boots (boot-counting/record.ts). */
export const BOOT_CHECK_RECORD_REL = 'boot/ostree/boot-check.json';

/**
 * The repository ref that keeps deployment `index` of bootversion B.S alive through prunes
 * (`ostree/<B>/<S>/<index>`), and the test for such a ref.
 */
export function deploymentRefName(bootversion: number, subbootversion: number, index: number): string {
  return `ostree/${bootversion}/${subbootversion}/${index}`;
}
export function isDeploymentRefName(ref: string): boolean { return /^ostree\/[01]\/[01]\/[0-9]+$/.test(ref); }

/** The bootcsum of a `boot/ostree/<os>-<bootcsum>` directory name, or null. */
export function parseKernelDirName(name: string): string | null {
  const dash = name.lastIndexOf('-');
  if (dash < 0) return null;
  const csum = name.slice(dash + 1);
  return SHA256_RE.test(csum) ? csum : null;
}

// ---------------------------------------------------------------------------------------------
// Run-time state and debug switches

export function runDir(): string { return process.env['OSTREE_TS_RUN_DIR'] ?? '/run'; }
export function rootDir(): string { return process.env['OSTREE_TS_ROOT_DIR'] ?? '/'; }
export function bootedFlagPath(): string { return path.join(runDir(), 'ostree-booted'); }
export function stagedRecordPath(): string { return path.join(runDir(), 'ostree/staged-deployment'); }
export function stagedLockedPath(): string { return path.join(runDir(), 'ostree/staged-deployment-locked'); }
export function deploymentStateDir(name: string): string { return path.join(runDir(), 'ostree/deployment-state', name); }

/** `OSTREE_SYSROOT_DEBUG` contains `flag` (mutable-deployments, no-dtb, no-xattrs, ...). */
export function sysrootDebug(flag: string): boolean {
  return (process.env['OSTREE_SYSROOT_DEBUG'] ?? '').split(',').map((s) => s.trim()).includes(flag);
}

/** `OSTREE_SYSROOT_OPTS` contains `opt` (skip-sync). */
export function sysrootOpt(opt: string): boolean {
  return (process.env['OSTREE_SYSROOT_OPTS'] ?? '').split(',').includes(opt);
}
