/**
 * `make bench`: upstream /usr/bin/ostree against ours on every (filesystem, tree shape) pair, in
 * the same run, as medians over rounds that alternate which tool goes first.
 *
 * Environment:
 *   BENCH_SCALE=1          size of the generated shapes (1: small 40k files, mixed 20k files ~800 MB)
 *   BENCH_SHAPES=small,mixed,real   shapes (lib/shapes.ts)
 *   BENCH_FS=tmpfs,ext4    filesystems (lib/targets.ts): a tmpfs, an ext4 in a loop-mounted image
 *   BENCH_RUNS=3           rounds per measurement (median reported)
 *   BENCH_OPS=...          subset of the suites' operations (default all: commit, checkout, fsck,
 *                          deploy, status, and whatever other suites add)
 *   BENCH_DIR=/var/tmp/ostree-ts-bench   work directory (shapes cached there as tree-*)
 *   BENCH_TIMEOUT=1200     seconds before one command is killed (a failure)
 *   BENCH_UPSTREAM=/usr/bin/ostree, BENCH_REAL_TREE=/usr (instead of the guest image's tree)
 *
 * Suites are the modules of bench/suites/ (lib/suite.ts): adding one is adding a file.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { log, loadAverage, oursEntry, rmrf, settle, UPSTREAM } from './lib/proc.js';
import { printReport, Results } from './lib/report.js';
import { prepareShape, SHAPE_NAMES, type Shape } from './lib/shapes.js';
import { Fixtures, type Suite, type SuiteContext } from './lib/suite.js';
import { mountTarget, unmountAll, unmountTarget, type FsTarget } from './lib/targets.js';

const SCALE = Number(process.env['BENCH_SCALE'] ?? '1');
const RUNS = Math.max(1, Number(process.env['BENCH_RUNS'] ?? '3'));
const WORK = path.resolve(process.env['BENCH_DIR'] ?? '/var/tmp/ostree-ts-bench');
const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const SHAPES = list(process.env['BENCH_SHAPES'], SHAPE_NAMES.join(','));
const FILESYSTEMS = list(process.env['BENCH_FS'], 'tmpfs,ext4') as FsTarget['name'][];

async function loadSuites(): Promise<Suite[]> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'suites');
  const out: Suite[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) {
    const m = await import(pathToFileURL(path.join(dir, f)).href) as { suite?: Suite };
    if (m.suite) out.push(m.suite);
  }
  return out.sort((a, b) => a.order - b.order);
}

/** Room for the tree, the fixtures, two tools' repositories and sysroots of one round. */
function targetBytes(shapes: Shape[]): number {
  const largest = Math.max(...shapes.map((s) => s.info.bytes));
  return Math.ceil(largest * 8) + (1 << 30);
}

async function runOn(target: FsTarget, shapes: Shape[], suites: Suite[], results: Results, wants: (op: string) => boolean): Promise<void> {
  for (const shape of shapes) {
    const scratch = path.join(target.mnt, `work-${shape.name}`);
    const tree = path.join(target.mnt, `tree-${shape.name}`);
    log(`${target.name}/${shape.name}: copying the tree onto ${target.name} ...`);
    execFileSync('cp', ['-a', shape.root, tree]);
    fs.mkdirSync(scratch);
    const ctx: SuiteContext = { target, shape, tree, scratch, rounds: RUNS, results, wants, fixtures: new Fixtures(tree, scratch) };
    try {
      for (const s of suites) await s.run(ctx);
    } finally {
      rmrf(scratch);
      rmrf(tree);
      settle();
    }
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(UPSTREAM)) throw new Error(`upstream ostree not found at ${UPSTREAM} (make deps-apt)`);
  if (!fs.existsSync(oursEntry)) throw new Error(`${oursEntry} missing: run make build first`);
  fs.mkdirSync(WORK, { recursive: true });
  // (no signal handlers: the runs are synchronous, a handler would wait for the end; a mount
  // left by a killed run is unmounted by the next one, or by `make clean`)
  process.on('exit', unmountAll);
  const suites = await loadSuites();
  const known = new Set(suites.flatMap((s) => s.ops));
  const ops = new Set(list(process.env['BENCH_OPS'], [...known].join(',')));
  for (const o of ops) if (!known.has(o)) throw new Error(`BENCH_OPS: unknown operation '${o}' (known: ${[...known].join(', ')})`);
  const results = new Results();
  const loadBefore = loadAverage();
  const started = Date.now();
  const shapes = SHAPES.map((n) => prepareShape(WORK, n, SCALE));
  for (const fsName of FILESYSTEMS) {
    const target = mountTarget(WORK, fsName, targetBytes(shapes));
    try {
      await runOn(target, shapes, suites, results, (op) => ops.has(op));
    } finally {
      unmountTarget(target);
    }
  }
  const header = [
    `ostree-ts benchmark — ${new Date().toISOString()} (${((Date.now() - started) / 60000).toFixed(1)} min)`,
    `upstream ${UPSTREAM} vs ours node ${path.relative(process.cwd(), oursEntry) || oursEntry} (as bin/ostree runs it; Node ${process.version})`,
    `BENCH_SCALE=${SCALE}; ${RUNS} rounds alternating which tool goes first, median shown; fresh repos and sysroots every round`,
    ...shapes.map((s) => `shape ${s.name}: ${s.describe}: ${s.info.files} files, ${s.info.dirs} dirs, ${s.info.symlinks} symlinks, ${(s.info.bytes / 1048576).toFixed(0)} MB`),
    `load average (1/5/15 min): ${loadBefore} before, ${loadAverage()} after; ${(await import('node:os')).availableParallelism()} CPUs`,
  ];
  printReport(results, header, WORK);
}

main().catch((e) => {
  unmountAll();
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
