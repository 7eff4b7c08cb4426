/**
 * `ostree admin undeploy|pin|set-origin`: the verbs that name a deployment by its index in
 * `ostree admin status`. The index is parsed strictly here (see parseDeploymentIndex: upstream's
 * undeploy takes `abc` as 0); the work is src/sysroot/deploy/deploy.ts.
 */
import type { Command } from 'commander';
import { setOrigin, setPinned, undeploy } from '../../../sysroot/deploy/edit.js';
import { collect, parseDeploymentIndex } from '../../args.js';
import { print } from '../../output.js';
import { adminVerb, withSysroot } from './common.js';

export function register(admin: Command): void {
  adminVerb(admin, 'undeploy', 'Delete deployment INDEX')
    .argument('<index>')
    .action(async (index: string, _o: unknown, cmd: Command) => {
      const i = parseDeploymentIndex(index);
      await withSysroot(cmd, true, async (s) => { await undeploy(s, i, print); });
    });

  adminVerb(admin, 'pin', 'Change the "pinning" state of a deployment')
    .argument('<index...>')
    .option('-u, --unpin', 'Unset pin')
    .action(async (indexes: string[], o: { unpin?: boolean }, cmd: Command) => {
      const parsed = indexes.map(parseDeploymentIndex); // all checked before any is changed
      await withSysroot(cmd, true, async (s) => {
        for (const i of parsed) await setPinned(s, i, !o.unpin, print);
      });
    });

  adminVerb(admin, 'set-origin', 'Set Origin and create a new origin file')
    .argument('<remotename>').argument('<url>').argument('[branch]')
    .option('--set <key=value>', 'Set config option KEY=VALUE for remote', collect, [])
    .option('--index <index>', 'Operate on the deployment INDEX, starting from zero')
    .action(async (remote: string, url: string, branch: string | undefined, o: { set: string[]; index?: string }, cmd: Command) => {
      const index = o.index !== undefined ? parseDeploymentIndex(o.index) : undefined;
      await withSysroot(cmd, true, async (s) => {
        await setOrigin(s, remote, url, branch, { set: o.set, ...(index !== undefined ? { index } : {}) });
      });
    });
}
