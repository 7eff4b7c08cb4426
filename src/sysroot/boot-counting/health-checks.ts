/**
 * Health checks in greenboot's layout (greenboot-compatible: the same directories and rules, so
 * checks written for greenboot run unchanged):
 *
 *   /etc/greenboot/check/required.d/*.sh   every one must exit 0, or the boot is red
 *   /etc/greenboot/check/wanted.d/*.sh     a failure is logged, the boot stays green
 *   /etc/greenboot/green.d/*.sh            run after a green verdict
 *   /etc/greenboot/red.d/*.sh              run after a red verdict, before any rollback
 *
 * `/usr/lib/greenboot/...` holds the OS's own checks; a script of the same name in /etc
 * replaces it (as systemd's /etc over /usr/lib).  Scripts run in name order with bash, one at a
 * time, each with a time limit; their output goes to our log (the journal, under the unit) line
 * by line, prefixed with the script's name.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CheckResult } from './record.js';

export interface HealthCheckOptions {
  /** the root whose etc/ and usr/lib/ hold the checks ('/' on a booted system) */
  root: string;
  log: (line: string) => void;
  /** per script, ms (default 5 minutes) */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;

/** The `*.sh` of one greenboot directory (e.g. `check/required.d`), /etc over /usr/lib, by name. */
export function listScripts(root: string, sub: string): string[] {
  const byName = new Map<string, string>();
  for (const base of ['usr/lib/greenboot', 'etc/greenboot']) {
    const dir = path.join(root, base, sub);
    let names: string[];
    try { names = fs.readdirSync(dir); } catch { continue; }
    for (const n of names) {
      if (!n.endsWith('.sh')) continue;
      const p = path.join(dir, n);
      if (fs.statSync(p, { throwIfNoEntry: false })?.isFile()) byName.set(n, p);
    }
  }
  return [...byName.keys()].sort().map((n) => byName.get(n)!);
}

/** Run one script; its output lines go to `log`. */
function runScript(file: string, kind: CheckResult['kind'], o: HealthCheckOptions): Promise<CheckResult> {
  const name = path.basename(file);
  const t0 = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so a hung check is killed with whatever it started.
    const child = spawn('bash', [file], { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/', detached: true });
    const timer = setTimeout(() => {
      o.log(`${name}: still running after ${(o.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s: killed`);
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const forward = (s: NodeJS.ReadableStream) => {
      let rest = '';
      s.on('data', (b: Buffer) => {
        const lines = (rest + b.toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const l of lines) o.log(`${name}: ${l}`);
      });
      s.on('end', () => { if (rest) o.log(`${name}: ${rest}`); });
    };
    forward(child.stdout!);
    forward(child.stderr!);
    let finished = false;
    const finish = (status: number | null, signal: string | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ name, kind, ok: status === 0, status, signal, ms: Date.now() - t0 });
    };
    child.on('error', (e) => { o.log(`${name}: cannot run: ${e.message}`); finish(null, null); });
    // 'exit', not 'close': a daemon the check left running may hold its output open for ever.
    child.on('exit', (status, signal) => {
      setTimeout(() => { child.stdout!.destroy(); child.stderr!.destroy(); finish(status, signal); }, 50);
    });
  });
}

/** Run the required and wanted checks; a wanted failure is logged, never fatal. */
export async function runHealthChecks(o: HealthCheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const kind of ['required', 'wanted'] as const) {
    for (const f of listScripts(o.root, `check/${kind}.d`)) {
      const r = await runScript(f, kind, o);
      o.log(`${kind} check ${r.name}: ${r.ok ? 'passed' : describeFailure(r)}`);
      results.push(r);
    }
  }
  return results;
}

/** Run the green.d or red.d hooks; a failing hook is logged and does not change the verdict. */
export async function runHooks(which: 'green' | 'red', o: HealthCheckOptions): Promise<void> {
  for (const f of listScripts(o.root, `${which}.d`)) {
    const r = await runScript(f, 'wanted', o);
    if (!r.ok) o.log(`${which}.d hook ${r.name}: ${describeFailure(r)}`);
  }
}

export function describeFailure(r: CheckResult): string {
  if (r.signal) return `failed (killed by ${r.signal})`;
  if (r.status === null) return 'failed (could not be run)';
  return `failed (exit status ${r.status})`;
}

/** The failures that make a verdict red or are worth reporting, in words. */
export function failureLines(results: CheckResult[]): string[] {
  return results.filter((r) => !r.ok).map((r) => `${r.kind} check ${r.name} ${describeFailure(r)}`);
}
