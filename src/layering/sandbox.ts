/**
 * Running the real dpkg on the new tree inside bubblewrap. The tree is an overlay: the base
 * tree (read-only lower) plus an upper directory that receives every change, so the cost is
 * what the packages change, never a copy of the base. The sandbox's root is that overlay:
 * no network (--unshare-net), its own pid/ipc/uts namespaces, a tmpfs /var with
 * /var/lib/dpkg -> the tree's database under /usr, /etc -> /usr/etc, and nothing of the
 * running system but /dev, /proc and the .debs (read-only). bwrap 0.8 (Debian 12) has no
 * --overlay, so the overlay is mounted first in a private mount namespace (unshare -m).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { run, tail } from './exec.js';
import { DPKG_DB_REL } from './names.js';

export interface SandboxDirs { lower: string; upper: string; work: string; merged: string }

/** Where the .debs and the seed files appear inside the sandbox. */
export const SANDBOX_DEBS = '/run/apt-ostree/debs';
export const SANDBOX_SEED = '/run/apt-ostree/seed';

/** Prepare upper/work/merged under `dir`; the upper's root takes the lower root's owner and mode. */
export function prepareOverlay(dir: string, lower: string): SandboxDirs {
  const d: SandboxDirs = { lower, upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), merged: path.join(dir, 'merged') };
  for (const p of [d.upper, d.work, d.merged]) fs.mkdirSync(p, { mode: 0o755 });
  const st = fs.statSync(lower);
  fs.chownSync(d.upper, st.uid, st.gid);
  fs.chmodSync(d.upper, st.mode & 0o7777);
  // The tree keeps /etc in /usr/etc: dpkg and the scripts write there through this link.
  fs.symlinkSync('usr/etc', path.join(d.upper, 'etc'));
  return d;
}

function bwrapArgs(d: SandboxDirs, debs: string, seed: string): string[] {
  return [
    '--bind', d.merged, '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run',
    '--tmpfs', '/var', '--dir', '/var/lib', '--dir', '/var/log', '--dir', '/var/cache', '--dir', '/var/tmp',
    '--symlink', `../../${DPKG_DB_REL}`, '/var/lib/dpkg',
    '--ro-bind', debs, SANDBOX_DEBS, '--ro-bind', seed, SANDBOX_SEED,
    '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent', '--new-session', '--clearenv',
    '--setenv', 'PATH', '/usr/sbin:/usr/bin:/sbin:/bin', '--setenv', 'DEBIAN_FRONTEND', 'noninteractive',
    '--setenv', 'HOME', '/root', '--setenv', 'LC_ALL', 'C', '--setenv', 'APT_OSTREE_SANDBOX', '1',
  ];
}

/**
 * Run the shell `script` (as /bin/sh -ec of the tree) in the sandbox. A non-zero exit is an
 * ESTATE error quoting dpkg's last lines (a failing maintainer script, a file conflict).
 */
export async function runInSandbox(d: SandboxDirs, debs: string, seed: string, script: string, onLine?: (l: string) => void): Promise<void> {
  const mountAndRun = 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" && shift 4 && exec bwrap "$@"';
  const args = ['--mount', '--propagation', 'private', '/bin/sh', '-ec', mountAndRun, 'sh', d.lower, d.upper, d.work, d.merged,
    ...bwrapArgs(d, debs, seed), '/bin/sh', '-ec', script];
  const r = await run('unshare', args, { timeoutMs: 1_800_000, ...(onLine ? { onLine } : {}) });
  if (r.code !== 0) {
    throw new OstreeError('ESTATE', `dpkg failed in the sandbox (exit ${r.code}); no deployment was written:\n  ${tail(r.stdout + '\n' + r.stderr, 10)}`);
  }
}
