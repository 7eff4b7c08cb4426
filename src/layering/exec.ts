/**
 * Running the real Debian tools (dpkg-deb, apt-get, dpkg inside bwrap): a child process with
 * its output captured, bounded in time, and a failure turned into a typed error that names the
 * command and quotes the tool's own last lines.
 */
import { spawn } from 'node:child_process';
import { OstreeError, type ErrorCode } from '../errors.js';

export interface RunResult { code: number; stdout: string; stderr: string }

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the tool after this many milliseconds (default 10 minutes): hostile input never hangs us. */
  timeoutMs?: number;
  /** Each line of stderr/stdout as it arrives (progress on a terminal). */
  onLine?: (line: string) => void;
}

/** Run `cmd args`; resolves with the exit code and output whatever the code is. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    let partial = '';
    const feed = (b: Buffer): void => {
      if (!o.onLine) return;
      const lines = (partial + b.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) o.onLine(l);
    };
    child.stdout.on('data', (b: Buffer) => { out.push(b); feed(b); });
    child.stderr.on('data', (b: Buffer) => { err.push(b); feed(b); });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new OstreeError('EIO', `Cannot run ${cmd}: ${e.message} (is it installed?)`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** The last few meaningful lines of a tool's output, for an error message. */
export function tail(text: string, n = 6): string {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-n).join('\n  ');
}

/** Run and require exit 0; otherwise `code` with `what` and the tool's last lines. */
export async function runChecked(cmd: string, args: string[], what: string, code: ErrorCode = 'EIO', o: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, o);
  if (r.code !== 0) throw new OstreeError(code, `${what} failed (${cmd} exited with ${r.code}):\n  ${tail(r.stderr + '\n' + r.stdout)}`);
  return r;
}
