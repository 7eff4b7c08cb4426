/**
 * `ostree admin status` through commander (help, -v, unusual argument orders). The plain forms
 * skip commander altogether (src/cli/admin-status.ts); both print through adminStatus.
 */
import type { Command } from 'commander';
import { adminStatus } from '../../admin-status.js';
import { sysrootPath } from '../../context.js';
import { adminVerb } from './common.js';

export function register(admin: Command): void {
  adminVerb(admin, 'status', 'List deployments')
    .option('--json', 'Output JSON (schema: docs/status-json.md)')
    .option('-V, --verify', 'Print the commit verification status')
    .option('-v, --verbose', 'Print debug information during command processing')
    .action(async (o: { json?: boolean; verify?: boolean }, cmd: Command) => {
      await adminStatus({ sysroot: sysrootPath(cmd), json: !!o.json, verify: !!o.verify });
    });
}
