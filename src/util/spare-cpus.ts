/**
 * Whether a helper thread would run beside this one or only take turns with it. A worker
 * thread costs tens of milliseconds of CPU to start (a Node environment, its modules); it pays
 * only when a CPU is idle to run it. On a machine whose CPUs are all busy (other processes),
 * a second thread takes turns with the first and the operation ends no sooner, having cost more.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * CPUs not running anything right now besides this thread: the CPUs this process may use less
 * the tasks the kernel counts as runnable at this instant (/proc/loadavg's fourth field, which
 * includes this thread). The instant, not the load average: a benchmark or script running
 * commands one after the other keeps the 1-minute average near one without any CPU being
 * contended. Without /proc, every CPU but this thread's counts as spare.
 */
export function spareCpus(): number {
  const cpus = os.availableParallelism();
  let runnable = 1;
  try {
    const f = fs.readFileSync('/proc/loadavg', 'latin1').split(' ')[3];
    const n = f === undefined ? NaN : parseInt(f, 10);
    if (Number.isFinite(n) && n >= 1) runnable = n;
  } catch { /* not Linux, or /proc not mounted */ }
  return Math.max(0, cpus - runnable);
}
