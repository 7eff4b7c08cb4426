/** What every verb needs: the sysroot (--sysroot, else $OSTREE_SYSROOT, else /) and printing. */
import { spawnSync } from 'node:child_process';
import { Sysroot } from '../sysroot/sysroot.js';
import { formatPackageDiff, type PackageDiff } from '../layering/packages.js';
import { OstreeError } from '../errors.js';

export interface GlobalOpts { sysroot?: string; os?: string }

export async function openSysroot(o: GlobalOpts): Promise<Sysroot> {
  const s = await Sysroot.open(o.sysroot);
  await s.load();
  return s;
}

export function out(text: string): void { process.stdout.write(text); }
export function line(text: string): void { process.stdout.write(`${text}\n`); }

/** The progress lines of a transaction, as they come. */
export const progress = (l: string): void => { process.stdout.write(`${l}\n`); };

export function printDiff(d: PackageDiff | null): void {
  const text = d ? formatPackageDiff(d) : '';
  if (text !== '') out(text);
}

/** After a new deployment: reboot with -r, else say how. */
export function finish(reboot: boolean | undefined): void {
  if (!reboot) { line('Run "systemctl reboot" to start a reboot'); return; }
  const r = spawnSync('systemctl', ['reboot'], { stdio: 'inherit' });
  if (r.status !== 0) throw new OstreeError('EIO', `systemctl reboot failed (exit ${r.status ?? 'signal'})`);
}
