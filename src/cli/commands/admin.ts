/**
 * The `ostree admin` group itself: its options (`--sysroot`, `--print-current-dir`), `admin help
 * VERB`, and upstream's errors for a missing or unknown admin verb. The verbs are registered
 * from the table in src/cli/verbs.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { verbGroup } from '../groups.js';
import { print } from '../output.js';
import { SYSROOT_HELP, openSysroot } from './admin/common.js';

async function printCurrentDir(cmd: Command): Promise<void> {
  const s = await openSysroot(cmd);
  await s.load();
  const d = s.deployments[0];
  if (!d) throw new OstreeError('ENOENT', 'Unable to find a deployment in sysroot');
  print(s.deploymentDirectory(d));
}

/** Register `admin` on the program and return it (the caller adds the verbs). */
export function register(program: Command): Command {
  const admin = program.command('admin')
    .description('Commands for managing a host system booted with ostree')
    .option('--sysroot <path>', SYSROOT_HELP)
    .option('--print-current-dir', 'Print the current deployment directory');
  return verbGroup(admin, 'admin', async (opts, cmd) => {
    if (!opts['printCurrentDir']) return false;
    await printCurrentDir(cmd);
    return true;
  });
}
