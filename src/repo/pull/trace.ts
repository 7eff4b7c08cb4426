/**
 * Phase timestamps of a pull, for measuring it without the process start-up around it
 * (bench/pull.ts): with OSTREE_TS_PULL_TRACE=1 each phase boundary is one stderr line,
 * `[pull-trace MS] PHASE`, MS counted from the process start (performance.now()). Off, a call
 * costs one boolean test.
 */
const enabled = process.env['OSTREE_TS_PULL_TRACE'] === '1';

export function trace(phase: string): void {
  if (enabled) process.stderr.write(`[pull-trace ${performance.now().toFixed(1)}] ${phase}\n`);
}
