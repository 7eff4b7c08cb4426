/**
 * Shared by the hostile-input suites: run our CLI with a time limit (a hang is a failure, not
 * a stuck test run), snapshot a repository or sysroot byte for byte, and assert that a hostile
 * input was refused with a clear error, a non-zero exit, and nothing changed or left behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }

/** Run `ostree ARGS` (ours) with a deadline; `input` is written to stdin. */
export function runCli(args: string[], opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, cwd: opts.cwd, input: opts.input,
    env: { ...process.env, OSTREE_REPO: '', ...opts.env }, maxBuffer: 64 * 1024 * 1024,
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut };
}

/**
 * Every entry under `root` as `relpath -> kind mode size:sha256 | -> target`, FIFOs and devices
 * by type only (never opened). `ignore` names paths (relative) to leave out, such as `.lock`.
 */
export function snapshot(root: string, ignore: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (ignore.includes(r)) continue;
      const p = path.join(root, r);
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) { out.set(r, `d ${mode}`); stack.push(r); }
      else if (st.isSymbolicLink()) out.set(r, `l -> ${fs.readlinkSync(p)}`);
      else if (st.isFile()) out.set(r, `f ${mode} ${st.size}:${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
      else out.set(r, `special ${st.mode.toString(8)} rdev=${st.rdev}`);
    }
  }
  return out;
}

/** The differences between two snapshots, one line each (empty when identical). */
export function snapshotDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const diff: string[] = [];
  for (const [k, v] of before) if (after.get(k) !== v) diff.push(after.has(k) ? `changed ${k}: ${v} => ${after.get(k)}` : `removed ${k}`);
  for (const k of after.keys()) if (!before.has(k)) diff.push(`added ${k}`);
  return diff;
}

export interface RefusalExpectation {
  /** Patterns the error text must contain: name what is wrong. */
  stderr: Array<string | RegExp>;
  /** Directories that must be byte-identical before and after (temporary names included). */
  unchanged: string[];
  /** Paths (relative to each unchanged dir) allowed to appear or change, such as `.lock`. */
  ignore?: string[];
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Run the CLI on a hostile input and assert a clear refusal that changed nothing. */
export function expectRefusal(args: string[], exp: RefusalExpectation): CliResult {
  const ignore = ['.lock', ...(exp.ignore ?? [])];
  const before = exp.unchanged.map((d) => snapshot(d, ignore));
  const r = runCli(args, { timeoutMs: exp.timeoutMs, cwd: exp.cwd, env: exp.env });
  const what = `ostree ${args.join(' ')}`;
  assert.equal(r.timedOut, false, `${what} hung (killed after its deadline)`);
  assert.ok(r.code !== null && r.code !== 0, `${what} should fail, exited ${r.code} (signal ${r.signal}); stdout=${r.stdout.slice(0, 500)}`);
  assert.match(r.stderr, /^error: /m, `${what}: stderr should start with 'error: ': ${r.stderr.slice(0, 2000)}`);
  assert.doesNotMatch(r.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, `${what} printed a stack trace: ${r.stderr.slice(0, 2000)}`);
  for (const s of exp.stderr) {
    if (typeof s === 'string') assert.ok(r.stderr.includes(s), `${what}: stderr should contain ${JSON.stringify(s)}: ${r.stderr.slice(0, 2000)}`);
    else assert.match(r.stderr, s, `${what}: stderr`);
  }
  exp.unchanged.forEach((d, i) => assert.deepEqual(snapshotDiff(before[i]!, snapshot(d, ignore)), [], `${what} changed ${d}`));
  return r;
}

/** A fresh scratch directory under the system temp dir (removed by `cleanup`). */
export function scratch(prefix: string): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Run the CLI under GNU time (Debian package `time`) and report the child's peak resident set,
 * for the bounds on memory that hostile inputs must respect.
 */
export function runCliMeasured(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): CliResult & { maxRssMiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KIB=%M', process.execPath, CLI, ...args], {
    encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, OSTREE_REPO: '', ...opts.env }, maxBuffer: 64 * 1024 * 1024,
  });
  const m = /MAXRSS_KIB=(\d+)\s*$/.exec(r.stderr ?? '');
  assert.ok(m, `GNU time did not report a peak RSS: ${r.stderr}`);
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  // GNU time reports a signal-killed child as "Command terminated by signal N"; keep the code.
  return {
    code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').slice(0, m.index), timedOut,
    maxRssMiB: Number(m[1]) / 1024,
  };
}
