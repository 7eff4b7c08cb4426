/**
 * Fault injection for crash-safety tests.
 *
 * `OSTREE_TS_FAULT=<op>:<k>` (op = deploy | finalize | cleanup | write | stage | undeploy, k ≥ 1)
 * makes the process stop dead — `process.exit(99)`, no finally blocks, no cleanup, no lock
 * release other than the kernel dropping the flock — when operation <op> reaches its k-th step.
 * Steps are counted in the order they are reached, so `k` walks the actual flow; the named
 * steps are listed below and printed to stderr as they pass when `OSTREE_TS_FAULT_TRACE=1`.
 *
 * An operation is whatever library entry point called `faultBegin(op)` last; the steps of
 * `writeDeployments` count inside the enclosing operation (a `deploy` runs initialize steps,
 * then the write steps, then cleanup steps, all numbered in one sequence).
 *
 * Steps (in order of appearance in a plain `deploy`):
 *   deploy:  checkout-done, etc-prepared, origin-written (initialize); kargs-set, etc-merged,
 *            var-prepared, finalized (finalize phase)
 *   write:   staged-handled, bootlinks-written / entries-dir-created, kernel-installed (per
 *            deployment), entries-written, bootlinks-swapped, bootloader-config-written,
 *            loader-tmp-link, synced, loader-swapped, boot-dir-synced, mtime-bumped
 *   cleanup: old-bootversions-removed, deployment-deleted (per deployment),
 *            boot-dirs-removed, refs-written, pruned
 * The test (test/sysroot/fault.test.ts) runs each operation for k = 1, 2, ... until the
 * operation completes without reaching k, and checks the sysroot after every crash.
 */

let currentOp: string | null = null;
let counter = 0;

export function faultBegin(op: string): void {
  if (currentOp === null) { currentOp = op; counter = 0; }
}

export function faultEnd(op: string): void {
  if (currentOp === op) { currentOp = null; counter = 0; }
}

/** Run `fn` as operation `op` (nested operations count inside the outer one). */
export async function withFaultOp<T>(op: string, fn: () => Promise<T>): Promise<T> {
  const outer = currentOp === null;
  if (outer) faultBegin(op);
  try {
    return await fn();
  } finally {
    if (outer) faultEnd(op);
  }
}

export function faultStep(name: string): void {
  const spec = process.env['OSTREE_TS_FAULT'];
  if (!spec && !process.env['OSTREE_TS_FAULT_TRACE']) return;
  counter++;
  const op = currentOp ?? 'none';
  if (process.env['OSTREE_TS_FAULT_TRACE']) process.stderr.write(`fault-step ${op}:${counter} ${name}\n`);
  if (spec === `${op}:${counter}`) {
    process.stderr.write(`fault injected at ${op}:${counter} (${name})\n`);
    process.exit(99);
  }
}
