/**
 * Runs a dracut module's module-setup.sh outside dracut: its variables set, dracut's install
 * helpers (inst_script, inst_multiple, inst_simple, ln_r, instmods) stubbed to print their
 * arguments, then `body` (calls of check/depends/install/installkernel and checks of what they
 * made under `$initdir`). Returns bash's exit status and everything printed.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../common/tmp.js';

export interface ModuleSetupRun { status: number | null; out: string; err: string }

export function runModuleSetup(moddir: string, vars: Record<string, string>, body: string): ModuleSetupRun {
  const dir = tempDir('dracut-module-');
  const assignments = Object.entries({ systemdsystemunitdir: '/usr/lib/systemd/system', ...vars })
    .map(([k, v]) => `${k}='${v}'`).join('\n');
  const script = `
set -e
initdir='${dir}/initrd'
moddir='${moddir}'
${assignments}
inst_script() { echo "inst_script $*"; }
inst_multiple() { echo "inst_multiple $*"; }
inst_simple() { echo "inst_simple $*"; }
ln_r() { echo "ln_r $*"; }
instmods() { echo "instmods $*"; }
. "$moddir/module-setup.sh"
${body}
`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, out: r.stdout, err: r.stderr };
}
