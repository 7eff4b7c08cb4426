/**
 * Running the two tools for the benchmark: upstream /usr/bin/ostree and ours (started as
 * bin/ostree starts it: node dist/bundle/ostree.cjs, or dist/src/cli/main.js without a bundle), each with its wall time, CPU time and peak resident set size (through
 * GNU time, or for ours the preloaded rss-hook without it), plus the small helpers every
 * suite needs (median, settle, removal of trees that may hold immutable deployments).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));          // dist/bench/lib
export const projectRoot = path.resolve(here, '..', '..', '..');
export const oursMain = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
/**
 * The script `node` runs for ours: the one bin/ostree execs (tools/build-cli.mjs), so that the
 * benchmark measures the command users run, start-up included; only the shell's exec is left out.
 */
export const oursEntry = oursScript(projectRoot);

/** What bin/ostree of the checkout at `root` runs: the bundled command, else main.js. */
export function oursScript(root: string): string {
  const bundled = path.join(root, 'dist', 'bundle', 'ostree.cjs');
  return fs.existsSync(bundled) ? bundled : path.join(root, 'dist', 'src', 'cli', 'main.js');
}
const rssHook = pathToFileURL(path.join(here, '..', 'rss-hook.js')).href;

export const UPSTREAM = process.env['BENCH_UPSTREAM'] ?? '/usr/bin/ostree';
const TIMEOUT_S = Number(process.env['BENCH_TIMEOUT'] ?? '1200');
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

export type ToolName = 'upstream' | 'ours';
export const TOOLS: readonly ToolName[] = ['upstream', 'ours'];

export interface RunResult {
  ok: boolean;
  seconds: number;
  rssKB: number | null;
  /** User + system CPU seconds (the figure least disturbed by other load on the machine). */
  cpuSeconds: number | null;
  stdout: string;
  stderr: string;
  why?: string;
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function firstLine(s: string): string {
  const line = s.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return line.length > 160 ? line.slice(0, 157) + '...' : line;
}

/** The tools in the order of round `round` (1-based): odd rounds upstream first, even ours. */
export function toolOrder(round: number): ToolName[] {
  return round % 2 === 1 ? ['upstream', 'ours'] : ['ours', 'upstream'];
}

/** Run a command, timed, with its peak RSS. `tool` 'node' runs `node args` (for the baseline). */
export function runTool(tool: ToolName | 'node', args: string[], env: Record<string, string> = {}): RunResult {
  const rssFile = path.join(os.tmpdir(), `ostree-bench-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, LC_ALL: 'C' };
  let argv: string[];
  // GNU time counts the children too (our freeze watchdog); the hook is the fallback without it.
  if (tool === 'ours' && GNU_TIME === null) {
    argv = [process.execPath, '--import', rssHook, oursEntry, ...args];
    childEnv['BENCH_RSS_FILE'] = rssFile;
  } else if (tool === 'ours' && GNU_TIME !== null) {
    argv = [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, '-q', process.execPath, oursEntry, ...args];
  } else {
    const cmd = tool === 'node' ? [process.execPath, ...args] : [UPSTREAM, ...args];
    argv = GNU_TIME ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, '-q', ...cmd] : cmd;
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: childEnv, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: TIMEOUT_S * 1000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let rssKB: number | null = null;
  let cpuSeconds: number | null = null;
  try {
    // ours: "maxrss cpu"; GNU time: "maxrss user system"
    const f = (fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (Number.isFinite(f[0])) rssKB = f[0]!;
    const cpu = f.slice(1).reduce((a, b) => a + b, 0);
    if (f.length > 1 && Number.isFinite(cpu)) cpuSeconds = cpu;
  } catch { /* n/a */ }
  fs.rmSync(rssFile, { force: true });
  const res: RunResult = { ok: r.status === 0 && !r.error, seconds, rssKB, cpuSeconds, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (!res.ok) {
    res.why = r.error ? `${(r.error as NodeJS.ErrnoException).code ?? ''} ${r.error.message}`.trim()
      : r.signal ? `killed by ${r.signal}`
      : `exit ${r.status}: ${firstLine(r.stderr) || firstLine(r.stdout) || '(no output)'}`;
  }
  return res;
}

/** A setup step with upstream ostree; throws when it fails (setup must work). */
export function upstreamSetup(args: string[]): string {
  return execFileSync(UPSTREAM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Write back what the previous run left dirty, so that no tool pays for another's writeback. */
export function settle(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/** rm -rf, first clearing the immutable bit of any deployment below `p` (deploy sets it). */
export function rmrf(p: string): void {
  if (!fs.existsSync(p)) return;
  try {
    fs.rmSync(p, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    spawnSync('sh', ['-c', 'find "$1" -maxdepth 6 -path "*/ostree/deploy/*/deploy/*" -prune -type d -exec chattr -i {} + 2>/dev/null', 'sh', p], { stdio: 'ignore' });
    fs.rmSync(p, { recursive: true, force: true, maxRetries: 2 });
  }
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmtS(s: number | null): string {
  if (s === null) return '-';
  return s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
}

export function fmtMB(kb: number | null): string {
  return kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`;
}

export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}
