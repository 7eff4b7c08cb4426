/**
 * The /boot freeze/thaw cycle of a full sync with upstream's safety net: before FIFREEZE a
 * watchdog process (freeze-watchdog-child.ts) is started that thaws /boot if we do not report
 * the thaw within 30 s (or die first), so a killed `ostree` never leaves /boot frozen.
 * `OSTREE_SYSROOT_DEBUG=test-fifreeze` runs the watchdog alone with a 1 s timeout, then aborts
 * the sync with upstream's error (its test of the watchdog).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { OstreeError } from '../errors.js';
import * as libc from '../native/libc.js';
import { sysrootDebug } from './layout.js';

const CHILD = fileURLToPath(new URL('./freeze-watchdog-child.js', import.meta.url));

/** Start the watchdog; resolves once it is ready (it has masked its signals). */
async function startWatchdog(boot: string, timeoutMs: number, debug: boolean) {
  const child = spawn(process.execPath, [CHILD, boot, String(timeoutMs), debug ? '1' : '0'], {
    stdio: ['pipe', 'pipe', 'inherit'], detached: !debug,
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = once(child.stdout!, 'data');
  await Promise.race([ready, exited.then(() => { throw new OstreeError('EIO', 'During fsfreeze-thaw: read(watchdog init): the watchdog exited'); })]);
  return { child, exited };
}

type Watchdog = ReturnType<typeof startWatchdog>;

/**
 * Start the watchdog for a later freezeThawWithWatchdog(boot, true, watchdog): a Node process
 * takes tens of milliseconds to start, which can overlap the syncfs before the freeze.
 */
export function startFreezeWatchdog(boot: string): Watchdog {
  const w = startWatchdog(boot, 30000, false);
  w.catch(() => { /* reported where it is awaited */ });
  return w;
}

/**
 * FIFREEZE/FITHAW `boot` under the watchdog (`started`: one startFreezeWatchdog started). `canFreeze` false (the filesystem refuses or
 * must not be frozen) skips the watchdog and lets `cycle` report why.
 */
export async function freezeThawWithWatchdog(boot: string, canFreeze: boolean, started: Watchdog | null = null): Promise<void> {
  const debug = sysrootDebug('test-fifreeze');
  if (!debug && !canFreeze) { libc.fsFreezeThawCycle(boot); return; }
  const { child, exited } = await (started !== null && !debug ? started : startWatchdog(boot, debug ? 1000 : 30000, debug));
  child.stdin!.write('!');
  if (debug) {
    const [code, signal] = await exited;
    if (code !== 0) throw new OstreeError('EIO', `During fsfreeze-thaw: test-fifreeze: Child process ${signal ? `killed by signal ${signal}` : `exited with code ${code}`}`);
    throw new OstreeError('EIO', 'During fsfreeze-thaw: aborting due to test-fifreeze');
  }
  try {
    libc.fsFreezeThawCycle(boot);
  } finally {
    child.stdin!.end('!');
    child.stdout!.destroy();
    child.unref();
  }
}
