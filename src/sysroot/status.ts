/**
 * `ostree admin status`.
 *
 * Text: exactly upstream 2022.7's format (§6.1):
 *   `<marker> <stateroot> <checksum>.<serial><suffix>` with marker `*` for the booted deployment,
 *   suffix ` (staged)`, ` (pending)` or ` (rollback)`; then `    Version: V`,
 *   `    Unlocked: STATE`, `    Pinned: yes`, and one origin line (`    origin: none`,
 *   `    origin: <unknown origin type>` or `    origin refspec: R`), then `    `- SOURCE-TITLE`.
 *   `No deployments.` when there are none.
 *
 * JSON (`--json`), a stable schema of this implementation (documented in docs/status-json.md),
 * which also carries the keys of upstream's JSON (2025.3 and later: `refspec`,
 * `finalization-locked`, `soft-reboot-target`, `source-title`, same spelling and meaning):
 *   {
 *     "deployments": [
 *       { "index": 0, "stateroot": "os", "checksum": "<64 hex>", "serial": 0,
 *         "booted": false, "staged": false, "pending": false, "rollback": false,
 *         "pinned": false, "origin": "remote:ref" | null, "version": "1.0" | null,
 *         "kargs": ["root=...", "ostree=/ostree/boot.1/os/<bootcsum>/0"],
 *         "unlocked": "none" | "development" | "transient" | "hotfix",
 *         "refspec": "remote:ref" | null, "finalization-locked": false,
 *         "soft-reboot-target": false, "source-title": "..." (only when the commit has one) }
 *     ]
 *   }
 * Boot counting (boot-counting/status-info.ts) adds, only where it applies, the lines
 * `    Boot counting: N of T tries left`, `    Boot check: failed: WHY` and
 * `    Last boot check: passed|FAILED (TIME)...` in text, and the keys `boot-counting`,
 * `boot-check-failure` and `last-boot-check` in JSON.
 * `kargs` is the BLS `options` split into arguments (for a staged deployment: the kargs given
 * at staging, else the merge deployment's, as they will be at finalization).
 */
import type { Deployment } from './deployment.js';
import type { SysrootState as Sysroot } from './state.js';
import { KernelArgs } from './formats/kargs.js';
import { OstreeError } from '../errors.js';
import { softRebootTarget } from './soft-reboot.js';
import { BootInfoReader, bootInfoLines, type BootCountingJson } from './boot-counting/status-info.js';
import type { BootVerdict } from './boot-counting/record.js';

export interface StatusDeploymentJson {
  index: number;
  stateroot: string;
  checksum: string;
  serial: number;
  booted: boolean;
  staged: boolean;
  pending: boolean;
  rollback: boolean;
  pinned: boolean;
  origin: string | null;
  version: string | null;
  kargs: string[];
  unlocked: 'none' | 'development' | 'transient' | 'hotfix';
  /** upstream's keys */
  refspec: string | null;
  'finalization-locked': boolean;
  'soft-reboot-target': boolean;
  'source-title'?: string;
  /** boot counting: only for deployments whose entry has or had a counter */
  'boot-counting'?: BootCountingJson;
  /** why its boot check (or its boot counter) failed, when it did */
  'boot-check-failure'?: string;
  /** the last boot check's verdict, under the deployment it judged */
  'last-boot-check'?: BootVerdict;
}

export interface StatusJson { deployments: StatusDeploymentJson[] }

function roles(sysroot: Sysroot): { pending: Deployment | null; rollback: Deployment | null } {
  if (!sysroot.booted || !sysroot.bootedDeployment) return { pending: null, rollback: null };
  return sysroot.queryDeploymentsFor(sysroot.bootedDeployment.stateroot);
}

export async function statusJson(sysroot: Sysroot): Promise<StatusJson> {
  if (!sysroot.loaded) await sysroot.load();
  const { pending, rollback } = roles(sysroot);
  const softTarget = softRebootTarget(sysroot);
  const boot = new BootInfoReader(sysroot);
  const out: StatusDeploymentJson[] = [];
  for (const d of sysroot.deployments) {
    let kargs: string[];
    if (d.staged) {
      kargs = d.stagedKargs ?? KernelArgs.parse(sysroot.mergeDeployment(d.stateroot)?.bootconfig.options ?? '').toArray();
    } else {
      kargs = d.bootconfig.kernelArgs().toArray();
    }
    out.push({
      index: d.index,
      stateroot: d.stateroot,
      checksum: d.csum,
      serial: d.deployserial,
      booted: d.sameAs(sysroot.bootedDeployment),
      staged: d.staged,
      pending: !d.staged && d.sameAs(pending),
      rollback: d.sameAs(rollback),
      pinned: d.pinned,
      origin: d.refspec,
      version: await sysroot.commitVersion(d.csum),
      kargs,
      unlocked: d.unlocked,
      refspec: d.refspec,
      'finalization-locked': d.staged && sysroot.stagedLocked,
      'soft-reboot-target': d.sameAs(softTarget),
    });
    const j = out[out.length - 1]!;
    const title = await sysroot.commitSourceTitle(d.csum);
    if (title !== null) j['source-title'] = title;
    const info = boot.info(d);
    if (info.counting.state !== 'off') j['boot-counting'] = info.counting;
    if (info.failure) j['boot-check-failure'] = info.failure;
    if (info.lastCheck) j['last-boot-check'] = info.lastCheck;
  }
  return { deployments: out };
}

/**
 * The signature lines under a deployment: with `verify`, `--verify`'s report; else, when the
 * origin's remote has gpg-verify, each GPG signature (checked, as upstream, against the keys of
 * the remote named like the stateroot). The signature code is loaded only for such deployments.
 */
async function signatureText(sysroot: Sysroot, d: Deployment, verify: boolean): Promise<string> {
  const colon = d.refspec?.indexOf(':') ?? -1;
  const remote = colon > 0 ? d.refspec!.slice(0, colon) : null;
  if (verify) {
    if (!d.origin) throw new OstreeError('EINVAL', 'Cannot verify deployment with no origin');
    if (!d.refspec) throw new OstreeError('EINVAL', 'No origin/refspec, cannot verify');
    if (remote === null) throw new OstreeError('EINVAL', 'Cannot verify deployment without remote');
  } else if (remote === null) return '';
  const [repo, sign] = await Promise.all([sysroot.repo(), import('../repo/sign/verify-text.js')]);
  if (verify) return `${await sign.verifyCommitForRemote(repo, remote!, d.csum)}\n`;
  if (!sign.remoteGpgVerify(repo, remote!)) return '';
  return sign.gpgSignatureLines(repo, d.csum, d.stateroot, '    GPG: ');
}

export async function statusText(sysroot: Sysroot, opts: { verify?: boolean } = {}): Promise<string> {
  if (!sysroot.loaded) await sysroot.load();
  if (sysroot.deployments.length === 0) return 'No deployments.\n';
  const { pending, rollback } = roles(sysroot);
  const boot = new BootInfoReader(sysroot);
  let s = '';
  for (const d of sysroot.deployments) {
    const marker = d.sameAs(sysroot.bootedDeployment) ? '*' : ' ';
    let suffix = '';
    if (d.staged) suffix = ' (staged)';
    else if (d.sameAs(pending)) suffix = ' (pending)';
    else if (d.sameAs(rollback)) suffix = ' (rollback)';
    s += `${marker} ${d.stateroot} ${d.csum}.${d.deployserial}${suffix}\n`;
    const version = await sysroot.commitVersion(d.csum);
    if (version) s += `    Version: ${version}\n`;
    if (d.unlocked !== 'none') s += `    Unlocked: ${d.unlocked}\n`;
    if (d.pinned) s += '    Pinned: yes\n';
    if (!d.origin) s += '    origin: none\n';
    else if (!d.refspec) s += '    origin: <unknown origin type>\n';
    else s += `    origin refspec: ${d.refspec}\n`;
    const title = await sysroot.commitSourceTitle(d.csum);
    if (title) s += `    \`- ${title}\n`;
    s += bootInfoLines(boot.info(d));
    s += await signatureText(sysroot, d, opts.verify === true);
  }
  return s;
}
