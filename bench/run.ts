/**
 * `make bench`: times upstream /usr/bin/ostree against ours (`node dist/src/cli/main.js`) on the
 * same deterministic tree, in the same run, and prints ratios next to the project's targets.
 *
 * Environment:
 *   BENCH_SCALE=1        size of the generated tree (1 ≈ 30k files / ~1 GB; 0.1 for a quick run)
 *   BENCH_TREE=/usr      benchmark a real tree instead of the generated one
 *   BENCH_DIR=...        work directory (default /var/tmp/ostree-ts-bench; the tree is cached there)
 *   BENCH_RUNS=2         runs per measurement; the best (lowest) is reported
 *   BENCH_OPS=commit,checkout,fsck,admin   subset to run
 *   BENCH_ADMIN=force    run the admin section even when ours' `admin init-fs` fails
 *   BENCH_TIMEOUT=1200   seconds before one command is killed (reported as a failure)
 *   BENCH_UPSTREAM=/usr/bin/ostree
 *
 * The page cache is never dropped (other work shares the machine), so every measurement runs
 * BENCH_RUNS times and the best is kept (warm-cache numbers for both tools). Trees and repos made
 * by timed runs are removed only after the last run (see settle()).
 * The admin section runs on a loop-mounted ext4 image of its own: upstream `admin deploy`
 * FIFREEZEs the filesystem holding /boot, which must never be the host's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateTree, prng, textContent, writeRandomFile, type TreeInfo } from './tree.js';

const here = path.dirname(fileURLToPath(import.meta.url));          // dist/bench
const projectRoot = path.resolve(here, '..', '..');
const oursMain = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const rssHook = pathToFileURL(path.join(here, 'rss-hook.js')).href;

const SCALE = Number(process.env['BENCH_SCALE'] ?? '1');
const RUNS = Math.max(1, Number(process.env['BENCH_RUNS'] ?? '2'));
const WORK = path.resolve(process.env['BENCH_DIR'] ?? '/var/tmp/ostree-ts-bench');
const UPSTREAM = process.env['BENCH_UPSTREAM'] ?? '/usr/bin/ostree';
const TIMEOUT_S = Number(process.env['BENCH_TIMEOUT'] ?? '1200');
const OPS = new Set((process.env['BENCH_OPS'] ?? 'commit,checkout,fsck,admin').split(',').map((s) => s.trim()));
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const TREE_VERSION = 1;

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Running commands

type ToolName = 'upstream' | 'ours';

interface RunResult {
  ok: boolean;
  seconds: number;
  rssKB: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
  why?: string; // short failure reason
}

function firstLine(s: string): string {
  const line = s.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return line.length > 160 ? line.slice(0, 157) + '...' : line;
}

function runTool(tool: ToolName, args: string[], env: Record<string, string> = {}): RunResult {
  const rssFile = path.join(os.tmpdir(), `ostree-bench-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  let argv: string[];
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, LC_ALL: 'C' };
  if (tool === 'ours') {
    argv = [process.execPath, '--import', rssHook, oursMain, ...args];
    childEnv['BENCH_RSS_FILE'] = rssFile;
  } else if (GNU_TIME) {
    argv = [GNU_TIME, '-f', '%M', '-o', rssFile, '-q', UPSTREAM, ...args];
  } else {
    argv = [UPSTREAM, ...args];
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: childEnv,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: TIMEOUT_S * 1000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let rssKB: number | null = null;
  try {
    const txt = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
    const n = parseInt(txt, 10);
    if (Number.isFinite(n)) rssKB = n;
  } catch { /* n/a */ }
  fs.rmSync(rssFile, { force: true });
  const res: RunResult = {
    ok: r.status === 0 && !r.error,
    seconds,
    rssKB,
    code: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
  };
  if (!res.ok) {
    res.why = r.error ? `${(r.error as NodeJS.ErrnoException).code ?? ''} ${r.error.message}`.trim()
      : r.signal ? `killed by ${r.signal}`
      : `exit ${r.status}: ${firstLine(r.stderr) || firstLine(r.stdout) || '(no output)'}`;
  }
  return res;
}

/** Runs a setup command with upstream ostree; throws on failure (setup must work). */
function upstreamSetup(args: string[]): string {
  return execFileSync(UPSTREAM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Before each timed run: write back what the previous run left dirty, so that neither tool pays
 * for the other's writeback. The timed loops never delete anything until all their runs are done:
 * measured here, a checkout started right after removing the previous one took up to 2x as long
 * (the filesystem, or the virtual disk under it, is still digesting the freed inodes and blocks),
 * and successive runs got slower and slower.
 */
function settle(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

// ---------------------------------------------------------------------------------------------
// Deterministic tree

/** A few user.* xattrs (committed by both tools in bare mode as root). */
async function addXattrs(root: string, scale: number): Promise<number> {
  try {
    const L = await import('../src/native/libc.js');
    const rnd = prng(0x7a77);
    const all: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) all.push(p);
      }
    };
    walk(root);
    all.sort();
    let n = 0;
    const want = Math.max(2, Math.round(150 * scale));
    for (let i = 0; i < want && all.length > 0; i++) {
      const p = all[Math.floor(rnd() * all.length)]!;
      L.lsetxattr(p, 'user.bench', Buffer.from(`value-${i}`));
      n++;
    }
    return n;
  } catch (e) {
    log(`note: could not set user.* xattrs on the tree (${(e as Error).message}); continuing without`);
    return 0;
  }
}

async function prepareTree(): Promise<TreeInfo> {
  const explicit = process.env['BENCH_TREE'];
  if (explicit) {
    const root = path.resolve(explicit);
    let files = 0, dirs = 0, symlinks = 0, bytes = 0;
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) { dirs++; walk(p); }
        else if (e.isSymbolicLink()) symlinks++;
        else if (e.isFile()) { files++; bytes += fs.lstatSync(p).size; }
      }
    };
    walk(root);
    return { path: root, files, dirs, symlinks, bytes, generated: false };
  }
  const root = path.join(WORK, `tree-s${SCALE}`);
  const stampFile = path.join(WORK, `tree-s${SCALE}.stamp.json`);
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8')) as TreeInfo & { version: number };
    if (stamp.version === TREE_VERSION && fs.existsSync(root)) {
      log(`reusing generated tree ${root}`);
      return { ...stamp, generated: true };
    }
  } catch { /* regenerate */ }
  log(`generating tree (scale ${SCALE}) in ${root} ...`);
  const t0 = Date.now();
  fs.rmSync(stampFile, { force: true });
  const info = generateTree(root, SCALE);
  await addXattrs(root, SCALE);
  log(`generated ${info.files} files, ${info.dirs} dirs, ${info.symlinks} symlinks, ${mb(info.bytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  fs.writeFileSync(stampFile, JSON.stringify({ ...info, version: TREE_VERSION }));
  return info;
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Hash of a tree's shape (paths, types, modes, owners, sizes, link targets, file contents by inode). */
function treeSummary(root: string): { hash: string; entries: number } {
  const h = createHash('sha256');
  let entries = 0;
  const walk = (d: string, rel: string): void => {
    const names = fs.readdirSync(d).sort();
    for (const name of names) {
      const p = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(p);
      entries++;
      if (st.isSymbolicLink()) h.update(`l ${r} ${fs.readlinkSync(p)}\n`);
      else if (st.isDirectory()) { h.update(`d ${r} ${(st.mode & 0o7777).toString(8)} ${st.uid} ${st.gid}\n`); walk(p, r); }
      else h.update(`f ${r} ${(st.mode & 0o7777).toString(8)} ${st.uid} ${st.gid} ${st.size}\n`);
    }
  };
  walk(root, '');
  return { hash: h.digest('hex'), entries };
}

function contentChecksum(repo: string, ref: string): string | null {
  try {
    const out = upstreamSetup([`--repo=${repo}`, 'show', ref]);
    const m = /ContentChecksum:\s+([0-9a-f]{64})/.exec(out);
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Results

interface Measure {
  op: string;
  target: string;            // human readable
  limit: (up: number, ours: number, extra: Record<string, number>) => boolean;
  runs: Record<ToolName, RunResult[]>;
  note?: string;
}

const results: Measure[] = [];
const extras: Record<string, number> = {};
const notes: string[] = [];

function best(rs: RunResult[]): RunResult | null {
  const ok = rs.filter((r) => r.ok);
  if (ok.length === 0) return null;
  return ok.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function peakRss(rs: RunResult[]): number | null {
  const v = rs.filter((r) => r.ok).map((r) => r.rssKB).filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}

function fmtS(s: number): string {
  return s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
}
function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
function fmtRss(kb: number | null): string {
  return kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`;
}

function newMeasure(op: string, target: string, limit: Measure['limit']): Measure {
  const m: Measure = { op, target, limit, runs: { upstream: [], ours: [] } };
  results.push(m);
  return m;
}

function record(m: Measure, tool: ToolName, r: RunResult, run: number): void {
  m.runs[tool].push(r);
  log(`${m.op.padEnd(14)} ${tool.padEnd(8)} run ${run}: ${r.ok ? fmtS(r.seconds) : 'FAILED ' + r.why}` +
    `${r.rssKB !== null ? `  (peak RSS ${fmtRss(r.rssKB)})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// Section 1: repository verbs

async function repoSection(tree: TreeInfo): Promise<string | null> {
  if (!OPS.has('commit') && !OPS.has('checkout') && !OPS.has('fsck')) return null;
  const repos = path.join(WORK, 'repos');
  rmrf(repos);
  fs.mkdirSync(repos, { recursive: true });
  const mCommit: Measure = OPS.has('commit') ? newMeasure('commit', '≤ 0.5x', (u, o) => o <= 0.5 * u)
    : { op: 'commit', target: '', limit: () => false, runs: { upstream: [], ours: [] } };
  const tools: ToolName[] = ['upstream', 'ours'];
  let upstreamRepo: string | null = null;
  let oursRepo: string | null = null;
  const spare: string[] = []; // removed once the timed loops are over (see settle())

  {
    for (let run = 1; run <= RUNS; run++) {
      for (const tool of tools) {
        if (!OPS.has('commit') && (tool === 'ours' || run > 1)) continue;
        const repo = path.join(repos, `${tool}-${run}`);
        settle();
        const init = runTool(tool, [`--repo=${repo}`, 'init', '--mode=bare']);
        let r: RunResult;
        if (!init.ok) {
          r = { ...init, why: `init: ${init.why}` };
        } else {
          const c = runTool(tool, [`--repo=${repo}`, 'commit', '-b', 'bench', '-s', 'bench', `--tree=dir=${tree.path}`]);
          r = { ...c, seconds: c.seconds + init.seconds, rssKB: Math.max(c.rssKB ?? 0, init.rssKB ?? 0) || null };
        }
        if (OPS.has('commit')) record(mCommit, tool, r, run);
        if (run === 1 && r.ok) {
          if (tool === 'upstream') upstreamRepo = repo; else oursRepo = repo;
        } else {
          spare.push(repo);
        }
      }
    }
  }
  if (!upstreamRepo) {
    notes.push('upstream commit failed: checkout and fsck not measured');
    return null;
  }
  if (oursRepo) {
    const u = contentChecksum(upstreamRepo, 'bench');
    const o = contentChecksum(oursRepo, 'bench');
    const same = u !== null && u === o;
    mCommit.note = o === null ? 'upstream cannot read our commit' : same ? 'same content checksum' : `content checksum DIFFERS (${o.slice(0, 12)} vs ${u?.slice(0, 12)})`;
    spare.push(oursRepo);
  }

  // checkout -H (both from upstream's repo, into fresh dirs on the repo's filesystem)
  if (OPS.has('checkout')) {
    const m = newMeasure('checkout -H', '≤ 1.0x', (u, o) => o <= 1.0 * u);
    let upSummary: string | null = null;
    let oursSummary: string | null = null;
    // One untimed checkout first: it takes whatever cost earlier deletions left behind.
    settle();
    runTool('upstream', [`--repo=${upstreamRepo}`, 'checkout', '-H', 'bench', path.join(repos, 'co-warmup')]);
    spare.push(path.join(repos, 'co-warmup'));
    for (let run = 1; run <= RUNS; run++) {
      for (const tool of tools) {
        const dest = path.join(repos, `co-${tool}-${run}`);
        settle();
        const r = runTool(tool, [`--repo=${upstreamRepo}`, 'checkout', '-H', 'bench', dest]);
        record(m, tool, r, run);
        if (r.ok && run === 1) {
          const s = treeSummary(dest).hash;
          if (tool === 'upstream') upSummary = s; else oursSummary = s;
        }
        spare.push(dest);
      }
    }
    if (oursSummary) m.note = oursSummary === upSummary ? 'same tree as upstream checkout' : 'tree DIFFERS from upstream checkout';
  }

  if (OPS.has('fsck')) {
    const m = newMeasure('fsck', '≤ 0.3x', (u, o) => o <= 0.3 * u);
    for (let run = 1; run <= RUNS; run++) {
      for (const tool of tools) record(m, tool, runTool(tool, [`--repo=${upstreamRepo}`, 'fsck']), run);
    }
    m.note = 'both on the upstream-written repo';
  }
  for (const p of spare) rmrf(p);
  settle();
  return upstreamRepo;
}

// ---------------------------------------------------------------------------------------------
// Section 2: admin deploy / status (on a loop-mounted ext4 image)

const OS_NAME = 'benchos';
const OS_REF = 'benchos/x86_64/standard';
const KVER = '6.1.0-bench';

function buildOsTree(tree: TreeInfo): string {
  const root = path.join(WORK, `ostree-os-s${SCALE}${tree.generated ? '' : '-custom'}`);
  rmrf(root);
  fs.mkdirSync(path.join(root, 'usr', 'share'), { recursive: true });
  try {
    execFileSync('cp', ['-al', tree.path, path.join(root, 'usr', 'share', 'bench')], { stdio: 'ignore' });
  } catch {
    execFileSync('cp', ['-a', tree.path, path.join(root, 'usr', 'share', 'bench')], { stdio: 'ignore' });
  }
  const mod = path.join(root, 'usr', 'lib', 'modules', KVER);
  fs.mkdirSync(mod, { recursive: true });
  writeRandomFile(path.join(mod, 'vmlinuz'), 0x40000001, 4 * 1024 * 1024, 0o644);
  writeRandomFile(path.join(mod, 'initramfs.img'), 0x40000002, 2 * 1024 * 1024, 0o644);
  const etc = path.join(root, 'usr', 'etc');
  fs.mkdirSync(path.join(etc, 'bench.d'), { recursive: true });
  const osRelease = 'NAME="Bench OS"\nID=benchos\nVERSION_ID=1\nPRETTY_NAME="Bench OS 1"\n';
  fs.writeFileSync(path.join(root, 'usr', 'lib', 'os-release'), osRelease);
  fs.symlinkSync('../usr/lib/os-release', path.join(etc, 'os-release'));
  fs.writeFileSync(path.join(etc, 'hostname'), 'benchos\n');
  fs.writeFileSync(path.join(etc, 'fstab'), '# empty\n');
  fs.writeFileSync(path.join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(etc, 'group'), 'root:x:0:\n');
  const rnd = prng(0xe7c);
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(etc, 'bench.d', `conf${i}.conf`), textContent(rnd, 200 + Math.floor(rnd() * 2000)));
  for (const d of ['bin', 'lib', 'sbin']) {
    fs.mkdirSync(path.join(root, 'usr', d), { recursive: true });
    fs.symlinkSync(`usr/${d}`, path.join(root, d));
  }
  return root;
}

let adminMount: string | null = null;

function cleanupAdminMount(): void {
  if (!adminMount) return;
  const m = adminMount;
  adminMount = null;
  try {
    // Never leave it frozen (deploy freezes /boot, which lives on this image).
    spawnSync('fsfreeze', ['-u', m], { stdio: 'ignore' });
  } catch { /* not frozen */ }
  const r = spawnSync('umount', [m], { stdio: 'ignore' });
  if (r.status !== 0) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

function isMountPoint(p: string): boolean {
  let real: string;
  try { real = fs.realpathSync(p); } catch { return false; }
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === real);
}

async function unlockDeployments(sysroot: string): Promise<void> {
  const L = await import('../src/native/libc.js');
  const deployDir = path.join(sysroot, 'ostree', 'deploy', OS_NAME, 'deploy');
  let names: string[] = [];
  try { names = fs.readdirSync(deployDir); } catch { return; }
  for (const n of names) {
    const p = path.join(deployDir, n);
    try { if (fs.lstatSync(p).isDirectory()) L.setImmutable(p, false); } catch { /* not ext4 / gone */ }
  }
}

function oursAdminWorks(): { ok: boolean; why: string } {
  const probe = path.join(WORK, 'admin-probe');
  rmrf(probe);
  fs.mkdirSync(probe, { recursive: true });
  const r = runTool('ours', ['admin', 'init-fs', probe]);
  const ok = r.ok && fs.existsSync(path.join(probe, 'ostree', 'repo', 'config'));
  rmrf(probe);
  return { ok, why: r.ok ? 'no ostree/repo/config created' : r.why ?? '' };
}

async function adminSection(tree: TreeInfo): Promise<void> {
  const gate = oursAdminWorks();
  if (!gate.ok && process.env['BENCH_ADMIN'] !== 'force') {
    notes.push(`admin section skipped: ours \`admin init-fs\` does not work yet (${gate.why}); BENCH_ADMIN=force runs it anyway`);
    return;
  }
  log('admin: building OS tree ...');
  const osTree = buildOsTree(tree);
  const img = path.join(WORK, 'admin.img');
  const mnt = path.join(WORK, 'admin-mnt');
  if (isMountPoint(mnt)) { adminMount = mnt; cleanupAdminMount(); }
  rmrf(img);
  fs.mkdirSync(mnt, { recursive: true });
  const imgBytes = Math.ceil(tree.bytes * 2.5) + 2 * 1024 * 1024 * 1024;
  execFileSync('truncate', ['-s', String(imgBytes), img]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-N', String(Math.max(65536, tree.files * 12)), img]);
  execFileSync('mount', ['-o', 'loop', img, mnt]);
  adminMount = mnt;
  try {
    log('admin: committing the OS tree into a base repo (upstream, setup only) ...');
    const base = path.join(mnt, 'base-repo');
    upstreamSetup([`--repo=${base}`, 'init', '--mode=bare']);
    upstreamSetup([`--repo=${base}`, 'commit', '-b', OS_REF, '-s', 'bench os', `--tree=dir=${osTree}`]);
    const mDeploy = newMeasure('admin deploy', '≤ 1.0x', (u, o) => o <= 1.0 * u);
    const deployed: Partial<Record<ToolName, string>> = {};
    for (let run = 1; run <= RUNS; run++) {
      for (const tool of ['upstream', 'ours'] as ToolName[]) {
        const sys = path.join(mnt, `sys-${tool}-${run}`);
        fs.mkdirSync(sys);
        // Same setup for both (upstream), so only `deploy` itself is compared.
        upstreamSetup(['admin', 'init-fs', sys]);
        upstreamSetup(['admin', 'os-init', `--sysroot=${sys}`, OS_NAME]);
        upstreamSetup([`--repo=${path.join(sys, 'ostree', 'repo')}`, 'pull-local', base, OS_REF]);
        const r = runTool(tool, ['admin', 'deploy', `--sysroot=${sys}`, `--os=${OS_NAME}`, OS_REF]);
        record(mDeploy, tool, r, run);
        if (r.ok && run === 1) {
          deployed[tool] = sys;
        } else {
          await unlockDeployments(sys);
          rmrf(sys);
        }
      }
    }
    if (deployed.ours) {
      try {
        const st = upstreamSetup(['admin', 'status', `--sysroot=${deployed.ours}`]);
        mDeploy.note = st.includes(OS_NAME) ? 'upstream `admin status` sees our deployment' : 'upstream `admin status` does NOT list our deployment';
      } catch (e) {
        mDeploy.note = `upstream \`admin status\` fails on our sysroot: ${firstLine(String((e as { stderr?: string }).stderr ?? e))}`;
      }
    }

    // status: several runs, best; compared with Node's own start-up.
    const nodeRuns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      nodeRuns.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    extras['nodeStartup'] = Math.min(...nodeRuns);
    const mStatus = newMeasure('admin status', `≤ node start-up + 50 ms`, (_u, o, x) => o <= (x['nodeStartup'] ?? 0) + 0.05);
    mStatus.note = `node -e 0 takes ${fmtS(extras['nodeStartup']!)}`;
    const statusRuns = Math.max(5, RUNS);
    for (const tool of ['upstream', 'ours'] as ToolName[]) {
      const sys = deployed[tool] ?? deployed.upstream;
      if (!sys) continue;
      for (let i = 1; i <= statusRuns; i++) record(mStatus, tool, runTool(tool, ['admin', 'status', `--sysroot=${sys}`]), i);
    }
    for (const sys of Object.values(deployed)) if (sys) await unlockDeployments(sys);
  } finally {
    cleanupAdminMount();
    rmrf(img);
    rmrf(mnt);
    rmrf(osTree);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function printReport(tree: TreeInfo): void {
  const out: string[] = [];
  out.push('');
  out.push(`ostree-ts benchmark — ${new Date().toISOString()}`);
  out.push(`tree: ${tree.path} (${tree.files} files, ${tree.dirs} dirs, ${tree.symlinks} symlinks, ${mb(tree.bytes)})` +
    `${tree.generated ? `, generated, BENCH_SCALE=${SCALE}` : ''}`);
  out.push(`upstream: ${UPSTREAM}; ours: node ${path.relative(process.cwd(), oursMain) || oursMain} (Node ${process.version})`);
  out.push(`each measurement ran ${RUNS}x; best run shown (warm page cache; nothing removed between timed runs)`);
  out.push('');
  const header = ['operation', 'upstream', 'ours', 'ours/upstream', 'target', 'result', 'ours peak RSS', 'notes'];
  const rows: string[][] = [header];
  let maxRss = 0;
  for (const m of results) {
    const u = best(m.runs.upstream);
    const o = best(m.runs.ours);
    const rss = peakRss(m.runs.ours);
    if (rss !== null) maxRss = Math.max(maxRss, rss);
    const oFail = m.runs.ours.length > 0 && !o;
    const uFail = m.runs.upstream.length > 0 && !u;
    const ratio = u && o ? `${(o.seconds / u.seconds).toFixed(2)}x` : '-';
    const verdict = !o ? (oFail ? 'FAIL (ours)' : '-') : u || m.op === 'admin status'
      ? (m.limit(u?.seconds ?? 0, o.seconds, extras) ? 'met' : 'MISSED') : '-';
    const fail = oFail ? `ours failed: ${m.runs.ours.find((r) => !r.ok)?.why ?? ''}` : '';
    const ufail = uFail ? `upstream failed: ${m.runs.upstream.find((r) => !r.ok)?.why ?? ''}` : '';
    rows.push([m.op, u ? fmtS(u.seconds) : uFail ? 'FAIL' : '-', o ? fmtS(o.seconds) : oFail ? 'FAIL' : '-', ratio, m.target,
      verdict, fmtRss(rss), [m.note, fail, ufail].filter(Boolean).join('; ')]);
  }
  rows.push(['peak memory (ours)', '', maxRss ? fmtRss(maxRss) : '-', '', '≤ 300 MB', maxRss ? (maxRss <= 300 * 1024 ? 'met' : 'MISSED') : '-', '', '']);
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (i === header.length - 1 ? 0 : r[i]!.length))));
  for (const [i, r] of rows.entries()) {
    out.push(r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join('  ').trimEnd());
    if (i === 0) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  if (notes.length) {
    out.push('');
    for (const n of notes) out.push(`note: ${n}`);
  }
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
  const json = path.join(WORK, 'results.json');
  fs.writeFileSync(json, JSON.stringify({
    date: new Date().toISOString(), scale: SCALE, runs: RUNS, tree, extras, notes,
    results: results.map((m) => ({ op: m.op, target: m.target, note: m.note,
      runs: Object.fromEntries(Object.entries(m.runs).map(([k, v]) => [k, v.map((r) => ({ ok: r.ok, seconds: r.seconds, rssKB: r.rssKB, why: r.why }))])) })),
  }, null, 2));
  process.stdout.write(`(raw numbers: ${json})\n`);
}

async function main(): Promise<void> {
  if (!fs.existsSync(UPSTREAM)) throw new Error(`upstream ostree not found at ${UPSTREAM} (make deps-apt)`);
  if (!fs.existsSync(oursMain)) throw new Error(`${oursMain} missing: run make build first`);
  fs.mkdirSync(WORK, { recursive: true });
  const onSignal = (sig: NodeJS.Signals): void => { cleanupAdminMount(); process.kill(process.pid, sig); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', cleanupAdminMount);
  const tree = await prepareTree();
  try {
    await repoSection(tree);
    if (OPS.has('admin')) await adminSection(tree);
  } finally {
    rmrf(path.join(WORK, 'repos'));
  }
  printReport(tree);
}

main().catch((e) => {
  cleanupAdminMount();
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
