/**
 * The `ostree admin` group itself: its options (`--sysroot`, `--print-current-dir`), `admin help
 * VERB`, and upstream's errors for a missing or unknown admin verb. The verbs are registered
 * from the table in src/cli/verbs.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
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
    .description('Manage deployments on an OSTree sysroot')
    .option('--sysroot <path>', SYSROOT_HELP)
    .option('--print-current-dir', 'Print the current deployment directory')
    // An action of its own turns off commander's implicit `help` verb: turn it back on, so
    // `ostree admin help deploy` prints deploy's help.
    .helpCommand(true)
    // Operands that name no verb reach the action below, which reports them as upstream does
    // (instead of commander's "too many arguments").
    .allowExcessArguments(true)
    .action(async (opts: { printCurrentDir?: boolean }, cmd: Command) => {
      if (opts.printCurrentDir) return printCurrentDir(cmd);
      cmd.outputHelp({ error: true });
      const verb = cmd.args[0];
      if (verb === undefined) throw new OstreeError('EINVAL', 'No "admin" subcommand specified');
      throw new OstreeError('EINVAL', `Unknown "admin" subcommand '${verb}'`);
    });
  return admin;
}
