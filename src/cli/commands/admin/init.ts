/**
 * `ostree admin init-fs PATH` and `ostree admin os-init|stateroot-init NAME`: creating a
 * sysroot's skeleton and a stateroot. The work is src/sysroot/deploy/deploy.ts.
 */
import type { Command } from 'commander';
import { initFs, osInit } from '../../../sysroot/deploy/init.js';
import { sysrootPath } from '../../context.js';
import { print } from '../../output.js';
import { adminVerb } from './common.js';

export function register(admin: Command): void {
  admin.command('init-fs').description('Initialize a root filesystem')
    .argument('<path>')
    // Accepted as upstream does; init-fs works on its PATH argument, never on a --sysroot.
    .option('--sysroot <path>', 'Ignored: init-fs creates the new sysroot at its PATH argument')
    .option('--modern', 'Only create /boot and /ostree')
    .action(async (p: string, opts: { modern?: boolean }) => {
      await initFs(p, { modern: !!opts.modern });
    });

  for (const name of ['os-init', 'stateroot-init']) {
    adminVerb(admin, name, 'Initialize empty state for given operating system')
      .argument('<osname>')
      .action(async (osname: string, _opts: unknown, cmd: Command) => {
        await osInit(sysrootPath(cmd), osname, print);
      });
  }
}
