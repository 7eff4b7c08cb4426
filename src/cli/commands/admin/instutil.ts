/**
 * `ostree admin instutil` (hidden, as upstream): installer helpers. `set-kargs` replaces the
 * first deployment's kernel arguments; the work is src/sysroot/deploy/instutil.ts.
 */
import type { Command } from 'commander';
import { setKargs } from '../../../sysroot/deploy/instutil.js';
import { collect } from '../../args.js';
import { verbGroup } from '../../groups.js';
import { print } from '../../output.js';
import { SYSROOT_HELP, withSysroot } from './common.js';

interface SetKargsFlags { importProcCmdline?: boolean; merge?: boolean; replace: string[]; append: string[] }

export function register(admin: Command): void {
  const instutil = verbGroup(admin.command('instutil', { hidden: true }).description('Deprecated commands intended for installer programs'), 'admin instutil');
  instutil.command('set-kargs').description('Set new kernel command line arguments(Not stable)')
    .argument('[args...]')
    .option('--sysroot <path>', SYSROOT_HELP)
    .option('--import-proc-cmdline', 'Import current /proc/cmdline')
    .option('--merge', 'Merge with previous command line')
    .option('--replace <name=value>', 'Set kernel argument, like root=/dev/sda1; this overrides any earlier argument with the same name', collect, [])
    .option('--append <name=value>', 'Append kernel argument; useful with e.g. console= that can be used multiple times', collect, [])
    .action(async (args: string[], o: SetKargsFlags, cmd: Command) => {
      await withSysroot(cmd, true, async (s) => {
        await setKargs(s, { importProcCmdline: !!o.importProcCmdline, merge: !!o.merge, replace: o.replace, append: o.append, args, log: print });
      });
    });
}
