/**
 * Verb groups (`admin`, `admin kargs`, `remote`, `config`): `GROUP help VERB` prints the verb's
 * help, and a missing or unknown verb gets upstream's error after the group's usage, instead of
 * commander's bare help or "too many arguments".
 */
import type { Command } from 'commander';
import { OstreeError } from '../errors.js';

/** Print the group's usage and throw upstream's error for its operands (none, or an unknown verb). */
export function refuseGroupOperands(cmd: Command, label: string): never {
  cmd.outputHelp({ error: true });
  const verb = cmd.args[0];
  if (verb === undefined) throw new OstreeError('EINVAL', `No "${label}" subcommand specified`);
  throw new OstreeError('EINVAL', `Unknown "${label}" subcommand '${verb}'`);
}

/**
 * Make `cmd` a verb group. `action` runs first when given (the group's own options, such as
 * `admin --print-current-dir`) and returns true when it handled the call.
 */
export function verbGroup(cmd: Command, label: string, action?: (opts: Record<string, unknown>, cmd: Command) => Promise<boolean>): Command {
  return cmd
    // An action of its own turns off commander's implicit `help` verb: turn it back on.
    .helpCommand(true)
    // Operands that name no verb reach the action, which reports them as upstream does.
    .allowExcessArguments(true)
    .action(async (opts: Record<string, unknown>, c: Command) => {
      if (action && await action(opts, c)) return;
      refuseGroupOperands(c, label);
    });
}
