/** The verbs that do not compose: status, rollback, cancel, cleanup, db, kargs, usroverlay. */
import { layerStatus } from '../layering/status.js';
import { rollback } from '../layering/rollback.js';
import { layerCleanup, type CleanupRequest } from '../layering/cleanup.js';
import { dbDiff, dbList } from '../layering/db.js';
import { currentKargs, editKargs, type KargsEdit } from '../layering/kargs.js';
import { activeTransaction } from '../layering/txn-record.js';
import { unlock } from '../sysroot/deploy/unlock.js';
import { finish, line, openSysroot, out, printDiff, progress, type GlobalOpts } from './context.js';
import { formatStatus } from './status-text.js';

export async function status(o: GlobalOpts & { verbose?: boolean; json?: boolean; booted?: boolean }): Promise<void> {
  const m = await layerStatus(await openSysroot(o), { bootedOnly: !!o.booted });
  if (o.json) {
    const plain = { ...m, deployments: m.deployments.map(({ diff: _d, ...rest }) => rest) };
    out(JSON.stringify(plain, null, 2) + '\n');
  } else {
    out(formatStatus(m, !!o.verbose));
  }
}

export async function rollbackVerb(o: GlobalOpts & { reboot?: boolean }): Promise<void> {
  const r = await rollback(await openSysroot(o), progress);
  printDiff(r.diff);
  finish(o.reboot);
}

export async function cancel(o: GlobalOpts): Promise<void> {
  const sysroot = await openSysroot(o);
  const pid = activeTransaction(sysroot);
  if (pid === null) { line('No active transaction.'); return; }
  process.kill(pid, 'SIGTERM');
  line(`Cancelled transaction (pid ${pid})`);
}

export async function cleanup(o: GlobalOpts & CleanupRequest): Promise<void> {
  await layerCleanup(await openSysroot(o), { ...o, ...(o.os !== undefined ? { stateroot: o.os } : {}) }, progress);
}

export async function dbListVerb(o: GlobalOpts, revs: string[]): Promise<void> {
  for (const l of await dbList(await openSysroot(o), revs)) {
    line(`ostree commit: ${l.rev} (${l.checksum})`);
    for (const p of l.packages) line(` ${p.name}-${p.version}.${p.arch}`);
  }
}

export async function dbDiffVerb(o: GlobalOpts, from?: string, to?: string): Promise<void> {
  const d = await dbDiff(await openSysroot(o), from, to);
  line(`ostree diff commit from: ${d.from.label} (${d.from.checksum})`);
  line(`ostree diff commit to:   ${d.to.label} (${d.to.checksum})`);
  printDiff(d.diff);
}

export async function kargs(o: GlobalOpts & KargsEdit & { reboot?: boolean }): Promise<void> {
  const sysroot = await openSysroot(o);
  if (!o.append?.length && !o.delete?.length && !o.replace?.length) { line(await currentKargs(sysroot, o.os)); return; }
  const d = await editKargs(sysroot, o, o.os, progress);
  if (!d) { line('Kernel arguments are unchanged.'); return; }
  line('Kernel arguments updated.');
  finish(o.reboot);
}

export async function usroverlay(o: GlobalOpts): Promise<void> {
  await unlock(await openSysroot(o), 'development', progress);
}
