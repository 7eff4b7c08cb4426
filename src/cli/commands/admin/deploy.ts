/**
 * `ostree admin deploy|upgrade|switch|rollback` (upstream 2022.7 options and messages): the
 * verbs that make a new default deployment. Parsing and printing only; the work is
 * src/sysroot/deploy/deploy.ts.
 */
import { Option, type Command } from 'commander';
import { OstreeError } from '../../../errors.js';
import { adminDeploy } from '../../../sysroot/deploy/admin-deploy.js';
import { rebootIfBooted, rollback, switchRef, upgrade } from '../../../sysroot/deploy/upgrade.js';
import { collect } from '../../args.js';
import { print } from '../../output.js';
import { adminVerb, withSysroot } from './common.js';

interface DeployFlags {
  os?: string; stateroot?: string; originFile?: string; prune: boolean; merge: boolean; retain?: boolean; stage?: boolean;
  lockFinalization?: boolean; retainPending?: boolean; retainRollback?: boolean; notAsDefault?: boolean;
  kargProcCmdline?: boolean; karg: string[]; kargAppend: string[]; kargNone?: boolean; kargDelete: string[];
}

function registerDeploy(admin: Command): void {
  adminVerb(admin, 'deploy', 'Checkout revision REFSPEC as the new default deployment')
    .argument('<refspec>')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .addOption(new Option('--stateroot <osname>').hideHelp())
    .option('--origin-file <file>', 'Specify origin file')
    .option('--no-prune', 'Don\'t prune the repo when done')
    .option('--no-merge', 'Do not apply configuration (/etc and kernel arguments) from booted deployment')
    .option('--retain', 'Do not delete previous deployments')
    .option('--stage', 'Complete deployment at OS shutdown')
    .option('--lock-finalization', 'Prevent automatic deployment finalization on shutdown')
    .option('--retain-pending', 'Do not delete pending deployments')
    .option('--retain-rollback', 'Do not delete rollback deployments')
    .option('--not-as-default', 'Append rather than prepend new deployment')
    .option('--karg-proc-cmdline', 'Import current /proc/cmdline')
    .option('--karg <name=value>', 'Set kernel argument, like root=/dev/sda1; this overrides any earlier argument with the same name', collect, [])
    .option('--karg-append <name=value>', 'Append kernel argument; useful with e.g. console= that can be used multiple times', collect, [])
    .option('--karg-none', 'Do not import kernel arguments')
    .option('--karg-delete <name=value>', 'Delete kernel argument if exists', collect, [])
    .action(async (refspec: string, o: DeployFlags, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => {
        await adminDeploy(s, refspec, {
          stateroot: o.os ?? o.stateroot,
          originFile: o.originFile,
          noPrune: o.prune === false,
          noMerge: o.merge === false,
          retain: !!o.retain, retainPending: !!o.retainPending, retainRollback: !!o.retainRollback,
          notAsDefault: !!o.notAsDefault, stage: !!o.stage, lockFinalization: !!o.lockFinalization,
          karg: o.karg, kargAppend: o.kargAppend, kargDelete: o.kargDelete,
          kargProcCmdline: !!o.kargProcCmdline, kargNone: !!o.kargNone,
          log: print,
        });
      });
    });
}

interface UpgradeFlags {
  os?: string; overrideCommit?: string; allowDowngrade?: boolean; stage?: boolean;
  deployOnly?: boolean; pullOnly?: boolean; reboot?: boolean;
}

function registerUpgrade(admin: Command): void {
  adminVerb(admin, 'upgrade', 'Construct new tree from current origin and deploy it, if it changed')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .option('-r, --reboot', 'Reboot after a successful upgrade')
    .option('--allow-downgrade', 'Permit deployment of chronologically older trees')
    .option('--override-commit <checksum>', 'Deploy CHECKSUM instead of the latest tree')
    .option('--pull-only', 'Do not create a deployment, just download')
    .option('--deploy-only', 'Do not pull, only deploy')
    .option('--stage', 'Enable staging (finalization at reboot time)')
    // Older versions of this CLI needed --pull; pulling is now the default, as upstream.
    .addOption(new Option('--pull').hideHelp())
    .action(async (o: UpgradeFlags, cmd: Command) => {
      if (o.pullOnly && o.deployOnly) throw new OstreeError('EINVAL', 'Cannot simultaneously specify --pull-only and --deploy-only');
      if (o.pullOnly && o.reboot) throw new OstreeError('EINVAL', 'Cannot simultaneously specify --pull-only and --reboot');
      await withSysroot(cmd, true, async (s) => {
        const r = await upgrade(s, {
          ...(o.os !== undefined ? { stateroot: o.os } : {}), pullOnly: !!o.pullOnly, deployOnly: !!o.deployOnly,
          ...(o.overrideCommit !== undefined ? { overrideCommit: o.overrideCommit } : {}),
          allowDowngrade: !!o.allowDowngrade, stage: !!o.stage, log: print,
        });
        if (r.changed && o.reboot) rebootIfBooted(s);
      });
    });
}

function registerSwitchRollback(admin: Command): void {
  adminVerb(admin, 'switch', 'Construct new tree from REFSPEC and deploy it')
    .argument('<ref>')
    .option('-r, --reboot', 'Reboot after switching trees')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .addOption(new Option('--pull').hideHelp())
    .addOption(new Option('--stage').hideHelp())
    .action(async (ref: string, o: { os?: string; stage?: boolean; reboot?: boolean }, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => {
        await switchRef(s, ref, { ...(o.os !== undefined ? { stateroot: o.os } : {}), stage: !!o.stage, log: print });
        if (o.reboot) rebootIfBooted(s);
      });
    });

  adminVerb(admin, 'rollback', 'Make the rollback deployment the default (like rpm-ostree rollback)')
    .action(async (_o: unknown, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => { await rollback(s, print); });
    });
}

export function register(admin: Command): void {
  registerDeploy(admin);
  registerUpgrade(admin);
  registerSwitchRollback(admin);
}
