/**
 * `make bench-pull` (and part of `make bench`): our `ostree pull` against upstream's from the
 * same nginx on 127.0.0.1, in the same run, serving an archive repository upstream wrote:
 *   full         the bench tree's commit (about 30k files at scale 1) into an empty bare repo
 *   update       the next commit (1% of the files changed) into a repo holding the first,
 *                object by object (--disable-static-deltas)
 *   update-delta the same update through the static delta the summary lists
 * Each measurement runs BENCH_PULL_ROUNDS times (default 3), the tools alternating which goes
 * first, and the median is reported, with each tool's peak RSS. Repos live on tmpfs
 * (BENCH_PULL_DIR, default /dev/shm/ostree-ts-pullbench) so the disk is not what is measured.
 *
 * Environment: BENCH_SCALE (1 ≈ 30k files), BENCH_PULL_ROUNDS, BENCH_PULL_DIR, BENCH_UPSTREAM,
 * BENCH_PULL_OPS=full,update,update-delta.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startNginx, type Nginx } from '../test/common/nginx.js';
import { generateTree, prng } from './tree.js';
import { oursScript } from './lib/proc.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const oursMain = oursScript(path.resolve(here, '..', '..')); // as bin/ostree runs it (bench/lib/proc.ts)
const rssHook = pathToFileURL(path.join(here, 'rss-hook.js')).href;
const SCALE = Number(process.env['BENCH_SCALE'] ?? '1');
const ROUNDS = Math.max(1, Number(process.env['BENCH_PULL_ROUNDS'] ?? '3'));
const WORK = path.resolve(process.env['BENCH_PULL_DIR'] ?? '/dev/shm/ostree-ts-pullbench');
const UPSTREAM = process.env['BENCH_UPSTREAM'] ?? '/usr/bin/ostree';
const OPS = new Set((process.env['BENCH_PULL_OPS'] ?? 'full,update,update-delta').split(','));
const GNU_TIME = '/usr/bin/time';

type Tool = 'upstream' | 'ours';
/** `inProcess`: ours only, the pull without the process start-up and exit around it (from its
 *  OSTREE_TS_PULL_TRACE lines, src/repo/pull/trace.ts). */
interface Run { seconds: number; rssKB: number | null; stdout: string; inProcess?: number }

/** Seconds from `pull start` to `pull end` in ours' trace lines (undefined without them). */
function inProcessSeconds(stderr: string): number | undefined {
  const at = (phase: string): number | undefined => {
    const m = new RegExp(`^\\[pull-trace ([0-9.]+)\\] ${phase}$`, 'm').exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const start = at('pull start'); const end = at('pull end');
  return start === undefined || end === undefined ? undefined : (end - start) / 1000;
}

function log(msg: string): void { process.stderr.write(`[bench-pull] ${msg}\n`); }

function up(args: string[]): string {
  return execFileSync(UPSTREAM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** One timed pull by `tool`; throws when it fails (a failed pull has no time worth reporting). */
function timed(tool: Tool, args: string[]): Run {
  const rssFile = path.join(os.tmpdir(), `ostree-pullbench-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  const haveTime = fs.existsSync(GNU_TIME);
  const argv = tool === 'ours' ? [process.execPath, '--import', rssHook, oursMain, ...args]
    : haveTime ? [GNU_TIME, '-f', '%M', '-o', rssFile, '-q', UPSTREAM, ...args] : [UPSTREAM, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: { ...process.env, BENCH_RSS_FILE: rssFile, LC_ALL: 'C', ...(tool === 'ours' ? { OSTREE_TS_PULL_TRACE: '1' } : {}) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1800_000,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  let rssKB: number | null = null;
  try { rssKB = parseInt(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()!, 10); } catch { /* n/a */ }
  fs.rmSync(rssFile, { force: true });
  const inProcess = tool === 'ours' ? inProcessSeconds(r.stderr) : undefined;
  return { seconds, rssKB, stdout: r.stdout.trim(), ...(inProcess !== undefined ? { inProcess } : {}) };
}

/** 1% of the regular files rewritten (deterministically), a few added. */
function changeOnePercent(tree: string): number {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.isFile()) files.push(p);
    }
  };
  walk(tree);
  files.sort();
  const rnd = prng(0x1dea);
  const n = Math.max(1, Math.round(files.length / 100));
  for (let i = 0; i < n; i++) {
    const f = files[Math.floor(rnd() * files.length)]!;
    const data = fs.readFileSync(f);
    // an edit inside the file, as an update usually makes (a delta can then diff it)
    const at = Math.floor(rnd() * Math.max(1, data.length));
    fs.writeFileSync(f, Buffer.concat([data.subarray(0, at), Buffer.from(`changed ${i}\n`), data.subarray(at)]));
  }
  return n;
}

interface Fixture { server: string; c1: string; c2: string; seed: string; files: number; bytes: number; changed: number }

/** The served repository (two commits, a static delta between them, a summary) and a bare repo holding c1. */
function prepare(): Fixture {
  const stamp = path.join(WORK, 'fixture.json');
  if (fs.existsSync(stamp)) {
    const f = JSON.parse(fs.readFileSync(stamp, 'utf8')) as Fixture & { scale: number };
    if (f.scale === SCALE) return f;
  }
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const tree = path.join(WORK, 'tree');
  log(`generating the tree (scale ${SCALE})`);
  const info = generateTree(tree, SCALE);
  const server = path.join(WORK, 'served');
  up([`--repo=${server}`, 'init', '--mode=archive']);
  log('committing (upstream)');
  const c1 = up([`--repo=${server}`, 'commit', '-b', 'bench', '--no-xattrs', '--timestamp=2024-01-01', `--tree=dir=${tree}`]).trim();
  const changed = changeOnePercent(tree);
  const c2 = up([`--repo=${server}`, 'commit', '-b', 'bench', '--no-xattrs', '--timestamp=2024-01-02', `--tree=dir=${tree}`]).trim();
  log('static delta c1 -> c2 and summary (upstream)');
  up([`--repo=${server}`, 'static-delta', 'generate', `--from=${c1}`, `--to=${c2}`]);
  up([`--repo=${server}`, 'summary', '-u']);
  fs.rmSync(tree, { recursive: true, force: true });
  const seed = path.join(WORK, 'seed');
  up([`--repo=${seed}`, 'init', '--mode=bare']);
  up([`--repo=${seed}`, 'pull-local', server, c1]);
  const f: Fixture = { server, c1, c2, seed, files: info.files, bytes: info.bytes, changed };
  fs.writeFileSync(stamp, JSON.stringify({ ...f, scale: SCALE }));
  return f;
}

/** A destination repo for one run: empty, or a copy of the seed (holding c1). */
function destination(name: string, fx: Fixture, seeded: boolean, url: string): string {
  const dest = path.join(WORK, 'runs', name);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (seeded) execFileSync('cp', ['-a', fx.seed, dest]);
  else up([`--repo=${dest}`, 'init', '--mode=bare']);
  up([`--repo=${dest}`, 'remote', 'add', '--no-gpg-verify', 'origin', url]);
  if (seeded) up([`--repo=${dest}`, 'refs', '--create=origin:bench', fx.c1]);
  return dest;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]!; };

interface Measured { op: string; upstream: Run[]; ours: Run[] }

function measure(op: string, fx: Fixture, nginx: Nginx): Measured {
  const seeded = op !== 'full';
  const flags = op === 'update' ? ['--disable-static-deltas'] : op === 'update-delta' ? ['--require-static-deltas'] : [];
  const m: Measured = { op, upstream: [], ours: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Tool[] = round % 2 === 0 ? ['upstream', 'ours'] : ['ours', 'upstream'];
    for (const tool of order) {
      const dest = destination(`${op}-${tool}`, fx, seeded, nginx.url);
      spawnSync('sync');
      nginx.clearLog();
      const r = timed(tool, [`--repo=${dest}`, 'pull', ...flags, 'origin', `bench@${fx.c2}`]);
      const requests = nginx.access().length;
      const inside = r.inProcess === undefined ? '' : ` (${r.inProcess.toFixed(3)} s in the pull itself)`;
      log(`${op} ${tool} round ${round + 1}: ${r.seconds.toFixed(2)} s${inside}, ${requests} requests, peak RSS ${r.rssKB === null ? 'n/a' : `${Math.round(r.rssKB / 1024)} MB`}`);
      m[tool].push(r);
      const fsck = spawnSync(UPSTREAM, [`--repo=${dest}`, 'fsck', '-q'], { encoding: 'utf8' });
      if (round === 0 && fsck.status !== 0) throw new Error(`upstream fsck of ${tool}'s ${op} pull failed: ${fsck.stderr}`);
      fs.rmSync(dest, { recursive: true, force: true });
    }
  }
  return m;
}

function report(fx: Fixture, results: Measured[]): void {
  const mb = (kb: number | null): string => (kb === null ? 'n/a' : `${Math.round(kb / 1024)} MB`);
  const peak = (rs: Run[]): number | null => rs.reduce<number | null>((a, r) => (r.rssKB === null ? a : Math.max(a ?? 0, r.rssKB)), null);
  const lines = [
    `pull bench: ${fx.files} files, ${(fx.bytes / 1e6).toFixed(0)} MB, ${fx.changed} changed; nginx on 127.0.0.1; repos on ${WORK}; ${ROUNDS} rounds, median; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`,
    '| operation | upstream | ours | ratio | target | ours without start-up | peak RSS upstream | peak RSS ours (<= 200 MB) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const oursObject = results.find((r) => r.op === 'update');
  for (const m of results) {
    const u = median(m.upstream.map((r) => r.seconds));
    const o = median(m.ours.map((r) => r.seconds));
    let target = `<= 0.70x upstream: ${o / u <= 0.7 ? 'ok' : 'MISSED'}`;
    if (m.op === 'update-delta' && oursObject) {
      const obj = median(oursObject.ours.map((r) => r.seconds));
      target = `<= 0.50x our object pull (${(o / obj).toFixed(2)}x): ${o / obj <= 0.5 ? 'ok' : 'MISSED'}`;
    }
    const inside = m.ours.flatMap((r) => (r.inProcess === undefined ? [] : [r.inProcess]));
    const insideText = inside.length === 0 ? 'n/a' : `${median(inside).toFixed(3)} s`;
    lines.push(`| ${m.op} | ${u.toFixed(2)} s | ${o.toFixed(2)} s | ${(o / u).toFixed(2)}x | ${target} | ${insideText} | ${mb(peak(m.upstream))} | ${mb(peak(m.ours))} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  fs.writeFileSync(path.join(WORK, 'results.json'), JSON.stringify(results.map((m) => ({ op: m.op, upstream: m.upstream, ours: m.ours })), null, 1));
}

async function main(): Promise<void> {
  const fx = prepare();
  const nginx = await startNginx({ root: fx.server, dir: path.join(WORK, 'nginx') });
  try {
    const results: Measured[] = [];
    for (const op of ['full', 'update', 'update-delta']) if (OPS.has(op)) results.push(measure(op, fx, nginx));
    report(fx, results);
  } finally {
    await nginx.stop();
  }
}

await main();
