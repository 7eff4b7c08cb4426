/**
 * The daemon (`ostree-agent agent`): a small supervisor that runs each cycle in a short-lived
 * child process (`ostree-agent ... daemon-cycle`) and sleeps in between.
 *
 * Why a process per cycle: idle, the agent must stay within 60 MB resident (issue 17). A cycle
 * in this process leaves Node's code pages for the sysroot, HTTP and TOML code and a grown heap
 * resident for good (measured 65-67 MB after idle cycles, with nothing unneeded loaded: no pull
 * code, no etcd client), while a process that only waits holds Node's own ~40 MB. A cycle every
 * steady interval (default 300 s) costs one Node start (about 0.1 s of CPU), and the memory a
 * staging cycle needs (pull, deploy) goes back to the system when it ends.
 *
 * This module imports only node:child_process: it is all the idle daemon loads besides the CLI.
 *
 * The child prints one JSON line on stdout, `{"interval": SECS}` (the configuration's steady
 * interval, read afresh each cycle), and logs to the inherited stderr (the journal). Signals:
 * SIGUSR1 runs a cycle at once (after the running one, if any); SIGTERM/SIGINT stop the daemon
 * once the running cycle has ended (the child ignores them, so a cycle is never cut in half; a
 * cycle that does not end is systemd's to kill at its stop timeout). The first cycle failing
 * (a broken configuration) ends the daemon with its exit status, as a daemon that cannot start;
 * a later failure is logged and retried at the last known interval.
 */
import { spawn } from 'node:child_process';

export interface DaemonOptions {
  /** argv of one cycle (node, script, global options, `daemon-cycle`); `--first` is appended for the first */
  cycleArgv: string[];
  log: (line: string) => void;
}

interface CycleResult { code: number; interval: number | null }

function runCycle(argv: string[], log: (line: string) => void): Promise<CycleResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => { if (out.length < 4096) out += d; });
    child.on('error', (e) => { log(`cannot start a cycle: ${e.message}`); resolve({ code: 127, interval: null }); });
    child.on('close', (code, signal) => {
      let interval: number | null = null;
      try {
        const v = JSON.parse(out.trim().split('\n').pop() ?? '') as { interval?: unknown };
        if (typeof v.interval === 'number' && Number.isInteger(v.interval) && v.interval > 0) interval = v.interval;
      } catch { /* no report: the cycle failed before its end */ }
      resolve({ code: code ?? (signal ? 128 : 1), interval });
    });
  });
}

/** Resolves when stopped; the exit status to use (0, or the failed first cycle's). */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  let wake: (() => void) | null = null;
  let again = false;
  let stop = false;
  const kick = (): void => { again = true; wake?.(); };
  const quit = (): void => { stop = true; wake?.(); };
  process.on('SIGUSR1', kick);
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
  let interval: number | null = null;
  try {
    for (let first = true; !stop; first = false) {
      again = false;
      const r = await runCycle(first ? [...o.cycleArgv, '--first'] : o.cycleArgv, o.log);
      if (r.interval !== null) interval = r.interval;
      if (r.code !== 0 && interval === null) {
        o.log(`the first cycle failed (exit status ${r.code}): stopping`);
        return r.code;
      }
      if (r.code !== 0) o.log(`cycle failed (exit status ${r.code}); next in ${interval} s`);
      if (stop) break;
      if (again) continue;
      await new Promise<void>((res) => { const t = setTimeout(res, interval! * 1000); wake = () => { clearTimeout(t); res(); }; });
      wake = null;
    }
    return 0;
  } finally {
    process.off('SIGUSR1', kick);
    process.off('SIGTERM', quit);
    process.off('SIGINT', quit);
  }
}
