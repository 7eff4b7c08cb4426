/**
 * `ostree admin cleanup|kargs edit-in-place|config-diff|unlock|finalize-staged|boot-complete|boot-check`:
 * the verbs that tend a sysroot rather than make a deployment. Parsing and printing only; the
 * work is src/sysroot (sysroot.ts, deploy/deploy.ts).
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { OstreeError } from '../../../errors.js';
import { bootComplete, finalizeStaged } from '../../../sysroot/deploy/stage.js';
import { configDiff, kargsEditInPlace } from '../../../sysroot/deploy/edit.js';
import { unlock } from '../../../sysroot/deploy/unlock.js';
import { collect } from '../../args.js';
import { verbGroup } from '../../groups.js';
import { out, print } from '../../output.js';
import { SYSROOT_HELP, adminVerb, openSysroot, withSysroot } from './common.js';

/** Keep an fd on /boot until SIGTERM/SIGINT, so an automounted /boot stays mounted until finalize-staged ran. */
async function holdBoot(cmd: Command): Promise<void> {
  const s = await openSysroot(cmd);
  const fd = fs.openSync(s.abs('boot'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30); // signal listeners alone don't keep Node running
    const done = (): void => { clearInterval(keepAlive); resolve(); };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  fs.closeSync(fd);
}

function registerBootVerbs(admin: Command): void {
  adminVerb(admin, 'finalize-staged', 'Internal: finalize a staged deployment (run at shutdown)')
    .option('--hold', 'Hold /boot open until SIGTERM (for ostree-finalize-staged-hold.service)')
    .action(async (o: { hold?: boolean }, cmd: Command) => {
      if (o.hold) return holdBoot(cmd);
      const s = await openSysroot(cmd);
      if (!fs.existsSync(`${s.runDir}/ostree-booted`)) return;
      await withSysroot(cmd, true, async (sr) => { await finalizeStaged(sr, print); });
    });

  adminVerb(admin, 'boot-complete', 'Internal: report a failed finalization of the previous boot')
    .action(async (_o: unknown, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => { bootComplete(s); });
    });

  adminVerb(admin, 'boot-check', 'Run the health checks of this boot (greenboot layout); bless it, or roll back and reboot (run by ostree-boot-check.service)')
    .option('--no-reboot', 'After a rollback, do not reboot')
    .option('--checks-root <dir>', 'The root whose etc/greenboot and usr/lib/greenboot hold the checks', '/')
    .action(async (o: { reboot: boolean; checksRoot: string }, cmd: Command) => {
      const { runBootCheck, verdictError } = await import('../../../sysroot/boot-counting/boot-check.js');
      const outcome = await withSysroot(cmd, true, (s) => runBootCheck(s, {
        root: o.checksRoot, log: print, ...(o.reboot ? { reboot: systemctlReboot } : {}),
      }));
      const err = verdictError(outcome);
      if (err) throw err;
    });
}

/** Ask systemd to reboot, without waiting for it (the boot check's own unit is stopped by it). */
async function systemctlReboot(): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('systemctl', ['reboot', '--no-block'], { stdio: 'inherit' });
  if (r.status !== 0) throw new OstreeError('EIO', `systemctl reboot failed (exit status ${r.status ?? r.signal})`);
}

export function register(admin: Command): void {
  adminVerb(admin, 'cleanup', 'Delete untagged deployments and repository objects')
    .action(async (_o: unknown, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => { await s.cleanup({ prune: true, log: print }); });
    });

  const kargs = verbGroup(admin.command('kargs').description('Change kernel arguments'), 'admin kargs');
  kargs.command('edit-in-place').description('Set new kernel command line arguments in place (applies to all deployments by default)')
    .option('--sysroot <path>', SYSROOT_HELP)
    .option('--append-if-missing <name=value>', 'Append kernel arguments if they do not exist', collect, [])
    .action(async (o: { appendIfMissing: string[] }, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => { await kargsEditInPlace(s, o.appendIfMissing); });
    });

  adminVerb(admin, 'config-diff', 'Diff current /etc configuration versus default')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .action(async (o: { os?: string }, cmd: Command) => {
      await withSysroot(cmd, false, async (s) => { out(await configDiff(s, o.os)); });
    });

  adminVerb(admin, 'unlock', 'Make the current deployment mutable (as a hotfix or development)')
    .option('--hotfix', 'Retain changes across reboots')
    .option('--transient', 'Mount overlayfs read-only by default')
    .action(async (o: { hotfix?: boolean; transient?: boolean }, cmd: Command) => {
      if (o.hotfix && o.transient) throw new OstreeError('EINVAL', 'Cannot specify both --hotfix and --transient');
      await withSysroot(cmd, true, async (s) => { await unlock(s, o.hotfix ? 'hotfix' : o.transient ? 'transient' : 'development', print); });
    });

  registerBootVerbs(admin);
}
