/**
 * `ostree admin ...` verbs (upstream 2022.7 names, options and messages).  This file only
 * parses arguments, takes the sysroot lock for the verbs upstream locks, and prints; the
 * behaviour is in src/sysroot (deploy.ts, sysroot.ts, status.ts).
 *
 * Every verb accepts `--sysroot=PATH` (else $OSTREE_SYSROOT, else `/`).
 */
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';

// The library is loaded by the verb that needs it (dynamic import), so a command only pays
// for the modules it runs: `admin status` must start about as fast as Node itself.
const sysrootLib = (): Promise<typeof import('../sysroot/sysroot.js')> => import('../sysroot/sysroot.js');
const deployLib = (): Promise<typeof import('../sysroot/deploy/deploy.js')> => import('../sysroot/deploy/deploy.js');

/**
 * Start fetching the module graph of a deployment (deploy, upgrade, switch) in parallel while
 * the sysroot is opened, locked and loaded: the ESM loader otherwise walks the import chain one
 * level (one thread-pool round trip) at a time.  Failures surface at the real import.
 */
function prefetchDeployGraph(): void {
  void Promise.all([
    import('../sysroot/deploy/deploy.js'), import('../sysroot/deploy/checkout.js'), import('../repo/repo.js'),
    import('../repo/content.js'), import('../repo/objects.js'), import('../glib/gvariant.js'), import('../repo/fsck.js'),
    import('../repo/prune.js'), import('../sysroot/etc-merge.js'), import('../sysroot/kernel-layout.js'),
    import('../sysroot/bootloader/index.js'),
  ]).catch(() => { /* reported by the import that needs it */ });
}

const print = (m: string): void => { process.stdout.write(m.endsWith('\n') ? m : m + '\n'); };

function collect(value: string, previous: string[]): string[] { return [...previous, value]; }

interface SysrootOpts { sysroot?: string }

function sysrootPath(opts: SysrootOpts, cmd?: Command): string {
  const fromParent = cmd?.parent?.opts<SysrootOpts>().sysroot;
  return opts.sysroot ?? fromParent ?? process.env['OSTREE_SYSROOT'] ?? '/';
}

/** Open + (lock) + load the sysroot, run fn, release the lock. */
async function withSysroot<T>(opts: SysrootOpts, cmd: Command, locked: boolean, fn: (s: Sysroot) => Promise<T>): Promise<T> {
  const { Sysroot } = await sysrootLib();
  const s = await Sysroot.open(sysrootPath(opts, cmd));
  if (locked) {
    if (!fs.existsSync(s.abs('ostree'))) {
      throw new OstreeError('ENOENT', `${s.abs('ostree')} not found: ${s.path} is not an OSTree sysroot (run 'ostree admin init-fs ${s.path}')`);
    }
    await s.lock({ onWait: () => print('Waiting for sysroot lock...') });
  }
  try {
    await s.load();
    return await fn(s);
  } finally {
    s.unlock();
  }
}

function verb(admin: Command, name: string, description: string): Command {
  return admin.command(name).description(description).option('--sysroot <path>', 'Create a new OSTree sysroot at PATH / use the sysroot at PATH');
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin')
    .description('Manage deployments on an OSTree sysroot')
    .option('--sysroot <path>', 'Use the system root at PATH (default: $OSTREE_SYSROOT or /)')
    .option('--print-current-dir', 'Print the current deployment directory')
    .action(async (opts: SysrootOpts & { printCurrentDir?: boolean }, cmd: Command) => {
      if (opts.printCurrentDir) {
        const { Sysroot } = await sysrootLib();
        const s = await Sysroot.open(sysrootPath(opts));
        await s.load();
        const d = s.deployments[0];
        if (!d) throw new OstreeError('ENOENT', 'Unable to find a deployment in sysroot');
        print(s.deploymentDirectory(d));
        return;
      }
      cmd.help({ error: true });
    });

  verb(admin, 'init-fs', 'Initialize a root filesystem')
    .argument('<path>')
    .option('--modern', 'Only create /boot and /ostree')
    .action(async (p: string, opts: { modern?: boolean }) => {
      await (await deployLib()).initFs(p, { modern: !!opts.modern });
    });

  for (const name of ['os-init', 'stateroot-init']) {
    verb(admin, name, 'Initialize empty state for given operating system')
      .argument('<osname>')
      .action(async (osname: string, opts: SysrootOpts, cmd: Command) => {
        await (await deployLib()).osInit(sysrootPath(opts, cmd), osname, print);
      });
  }

  verb(admin, 'deploy', 'Checkout revision REFSPEC as the new default deployment')
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
    .action(async (refspec: string, o: Record<string, unknown>, cmd: Command) => {
      prefetchDeployGraph();
      await withSysroot(o as SysrootOpts, cmd, true, async (s) => {
        await (await deployLib()).adminDeploy(s, refspec, {
          stateroot: (o['os'] ?? o['stateroot']) as string | undefined,
          originFile: o['originFile'] as string | undefined,
          noPrune: o['prune'] === false,
          noMerge: o['merge'] === false,
          retain: !!o['retain'], retainPending: !!o['retainPending'], retainRollback: !!o['retainRollback'],
          notAsDefault: !!o['notAsDefault'], stage: !!o['stage'], lockFinalization: !!o['lockFinalization'],
          karg: o['karg'] as string[], kargAppend: o['kargAppend'] as string[], kargDelete: o['kargDelete'] as string[],
          kargProcCmdline: !!o['kargProcCmdline'], kargNone: !!o['kargNone'],
          log: print,
        });
      });
    });

  verb(admin, 'status', 'List deployments')
    .option('--json', 'Output JSON (schema: docs/status-json.md)')
    .option('-v, --verify', 'Print the commit verification status (not supported: no GPG)')
    .action(async (o: SysrootOpts & { json?: boolean }, cmd: Command) => {
      const { adminStatus } = await import('./admin-status.js');
      await adminStatus({ sysroot: sysrootPath(o, cmd), json: !!o.json });
    });

  verb(admin, 'undeploy', 'Delete deployment INDEX')
    .argument('<index>')
    .action(async (index: string, o: SysrootOpts, cmd: Command) => {
      await withSysroot(o, cmd, true, async (s) => { await (await deployLib()).undeploy(s, atoi(index), print); });
    });

  verb(admin, 'cleanup', 'Delete untagged deployments and repository objects')
    .action(async (o: SysrootOpts, cmd: Command) => {
      await withSysroot(o, cmd, true, async (s) => { await s.cleanup({ prune: true, log: print }); });
    });

  verb(admin, 'pin', 'Change the "pinning" state of a deployment')
    .argument('<index...>')
    .option('-u, --unpin', 'Unset pin')
    .action(async (indexes: string[], o: SysrootOpts & { unpin?: boolean }, cmd: Command) => {
      await withSysroot(o, cmd, true, async (s) => {
        for (const i of indexes) await (await deployLib()).setPinned(s, (await deployLib()).parseIndex(i), !o.unpin, print);
      });
    });

  verb(admin, 'set-origin', 'Set Origin and create a new remote if needed')
    .argument('<remotename>').argument('<url>').argument('[branch]')
    .option('--set <key=value>', 'Set config option KEY=VALUE for remote', collect, [])
    .option('--index <index>', 'Operate on the deployment INDEX, starting from zero')
    .action(async (remote: string, url: string, branch: string | undefined, o: SysrootOpts & { set: string[]; index?: string }, cmd: Command) => {
      await withSysroot(o, cmd, true, async (s) => {
        await (await deployLib()).setOrigin(s, remote, url, branch, { set: o.set, ...(o.index !== undefined ? { index: (await deployLib()).parseIndex(o.index) } : {}) });
      });
    });

  verb(admin, 'upgrade', 'Construct new tree from current origin and deploy it, if it changed')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .option('--pull', 'Pull the origin ref first (file:// remotes)')
    .option('--pull-only', 'Only pull (not supported)')
    .option('--deploy-only', 'Do not pull, only deploy (the default here)')
    .option('--override-commit <checksum>', 'Deploy CHECKSUM instead of the latest tree')
    .option('--allow-downgrade', 'Permit deployment of chronologically older trees')
    .option('--stage', 'Complete deployment at OS shutdown')
    .option('-r, --reboot', 'Reboot after a successful upgrade (not supported)')
    .action(async (o: SysrootOpts & { os?: string; pull?: boolean; overrideCommit?: string; allowDowngrade?: boolean; stage?: boolean; deployOnly?: boolean; pullOnly?: boolean; reboot?: boolean }, cmd: Command) => {
      if (o.pullOnly || o.reboot) throw new OstreeError('EINVAL', '--pull-only and --reboot are not supported by this implementation');
      prefetchDeployGraph();
      await withSysroot(o, cmd, true, async (s) => {
        await (await deployLib()).upgrade(s, {
          ...(o.os ? { stateroot: o.os } : {}), pull: !!o.pull && !o.deployOnly,
          ...(o.overrideCommit ? { overrideCommit: o.overrideCommit } : {}),
          allowDowngrade: !!o.allowDowngrade, stage: !!o.stage, log: print,
        });
      });
    });

  verb(admin, 'switch', 'Construct new tree from REF and deploy it')
    .argument('<ref>')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .option('--pull', 'Pull the new ref first (file:// remotes)')
    .option('--stage', 'Complete deployment at OS shutdown')
    .option('-r, --reboot', 'Reboot after switching (not supported)')
    .action(async (ref: string, o: SysrootOpts & { os?: string; pull?: boolean; stage?: boolean; reboot?: boolean }, cmd: Command) => {
      if (o.reboot) throw new OstreeError('EINVAL', '--reboot is not supported by this implementation');
      prefetchDeployGraph();
      await withSysroot(o, cmd, true, async (s) => {
        await (await deployLib()).switchRef(s, ref, { ...(o.os ? { stateroot: o.os } : {}), pull: !!o.pull, stage: !!o.stage, log: print });
      });
    });

  verb(admin, 'rollback', 'Make the rollback deployment the default (like rpm-ostree rollback)')
    .action(async (o: SysrootOpts, cmd: Command) => {
      await withSysroot(o, cmd, true, async (s) => { await (await deployLib()).rollback(s, print); });
    });

  const kargs = admin.command('kargs').description('Change kernel arguments');
  kargs.command('edit-in-place').description('Set new kernel command line arguments in place (applies to all deployments)')
    .option('--sysroot <path>', 'Use the system root at PATH')
    .option('--append-if-missing <name=value>', 'Append kernel arguments if they do not exist', collect, [])
    .action(async (o: SysrootOpts & { appendIfMissing: string[] }, cmd: Command) => {
      const path = o.sysroot ?? cmd.parent?.parent?.opts<SysrootOpts>().sysroot;
      await withSysroot(path ? { sysroot: path } : {}, cmd, true, async (s) => { await (await deployLib()).kargsEditInPlace(s, o.appendIfMissing); });
    });

  verb(admin, 'config-diff', 'Diff current /etc configuration versus default')
    .option('--os <osname>', 'Use a different operating system root than the current one')
    .action(async (o: SysrootOpts & { os?: string }, cmd: Command) => {
      await withSysroot(o, cmd, false, async (s) => { process.stdout.write(await (await deployLib()).configDiff(s, o.os)); });
    });

  verb(admin, 'finalize-staged', 'Internal: finalize a staged deployment (run at shutdown)')
    .option('--hold', 'Hold /boot open until SIGTERM (for ostree-finalize-staged-hold.service)')
    .action(async (o: SysrootOpts & { hold?: boolean }, cmd: Command) => {
      if (o.hold) {
        // Keep an fd on /boot so an automounted /boot stays mounted until we are stopped
        // (after finalize-staged ran, by unit ordering).
        const { Sysroot } = await sysrootLib();
        const s = await Sysroot.open(sysrootPath(o, cmd));
        const fd = fs.openSync(s.abs('boot'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
        await new Promise<void>((resolve) => {
          const keepAlive = setInterval(() => {}, 1 << 30); // signal listeners alone don't keep Node running
          const done = (): void => { clearInterval(keepAlive); resolve(); };
          process.once('SIGTERM', done);
          process.once('SIGINT', done);
        });
        fs.closeSync(fd);
        return;
      }
      const { Sysroot } = await sysrootLib();
      const s = await Sysroot.open(sysrootPath(o, cmd));
      if (!fs.existsSync(`${s.runDir}/ostree-booted`)) return;
      await withSysroot(o, cmd, true, async (sr) => { await (await deployLib()).finalizeStaged(sr, print); });
    });

  verb(admin, 'boot-complete', 'Internal: report a failed finalization of the previous boot')
    .action(async (o: SysrootOpts, cmd: Command) => {
      await withSysroot(o, cmd, true, async (s) => { (await deployLib()).bootComplete(s); });
    });

  verb(admin, 'unlock', 'Make the current deployment mutable (as a hotfix or development)')
    .option('--hotfix', 'Retain changes across reboots')
    .option('--transient', 'Mount overlayfs read-only by default')
    .action(async (o: SysrootOpts & { hotfix?: boolean; transient?: boolean }, cmd: Command) => {
      if (o.hotfix && o.transient) throw new OstreeError('EINVAL', 'Cannot specify both --hotfix and --transient');
      await withSysroot(o, cmd, true, async (s) => { await (await deployLib()).unlock(s, o.hotfix ? 'hotfix' : o.transient ? 'transient' : 'development', print); });
    });
}

/** C atoi: leading digits, else 0 (what upstream's undeploy uses). */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}
