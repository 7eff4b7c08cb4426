/**
 * `admin deploy` (full, and of an update changing 1% of the files) and `admin status`.
 *
 * Each round, for each tool, a fresh sysroot set up by upstream (init-fs, os-init, pull-local of
 * the update repository: a0, a = a0 + 1%, b = a + 1%). Then, both tools phase by phase:
 *   full deploy       deploy a0 into the empty sysroot (timed)
 *   (untimed)         deploy a: the sysroot now holds a (default) and a0 (rollback)
 *   (untimed)         deploy a0 again: a0's first deployment drops out (ours parks it as the
 *                     spare, src/sysroot/deploy/recycle.ts); the sysroot holds a0 and a
 *   deploy 1%         deploy b (timed): the steady state of an update, where a drops out and
 *                     ours makes b from the spare (a0's tree: b is 2% away from it)
 * Round 1 also checks that both tools' deployments of b are the same tree, and tells whether
 * ours made it by recycling a0's directory; then times `admin status` (and `node -e 0`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { treeSummary } from '../lib/checks.js';
import { oursEntry, rmrf, runTool, settle, toolOrder, upstreamSetup, type ToolName } from '../lib/proc.js';
import { UPDATE_REFS, type Suite, type SuiteContext } from '../lib/suite.js';


const OS = 'benchos';
const STATUS_RUNS = Number(process.env['BENCH_STATUS_RUNS'] ?? '9');

function deployDir(sys: string): string {
  return path.join(sys, 'ostree', 'deploy', OS, 'deploy');
}

function deploymentOf(sys: string, csum: string): string | null {
  const n = fs.readdirSync(deployDir(sys)).find((x) => x.startsWith(`${csum}.`) && !x.endsWith('.origin'));
  return n ? path.join(deployDir(sys), n) : null;
}

function setupSysroot(sys: string, repo: string): void {
  fs.mkdirSync(sys, { recursive: true });
  upstreamSetup(['admin', 'init-fs', sys]);
  upstreamSetup(['admin', 'os-init', `--sysroot=${sys}`, OS]);
  upstreamSetup([`--repo=${path.join(sys, 'ostree', 'repo')}`, 'pull-local', repo, UPDATE_REFS.a0, UPDATE_REFS.a, UPDATE_REFS.b]);
}

function deployPhase(ctx: SuiteContext, round: number, syss: Record<ToolName, string>, ref: string, op: string | null, target: number): void {
  const cell = op ? ctx.results.cell(ctx.target.name, ctx.shape.name, op, target) : null;
  for (const tool of toolOrder(round)) {
    settle();
    const r = runTool(tool, ['admin', 'deploy', `--sysroot=${syss[tool]}`, `--os=${OS}`, ref]);
    if (cell) ctx.results.record(cell, tool, r, round);
    else if (!r.ok) throw new Error(`${tool} admin deploy ${ref} (setup) failed: ${r.why}`);
  }
}

/**
 * Our `admin status` as bin/ostree starts it (bench/lib/proc.ts oursEntry: the bundled command,
 * else main.js), run as tool `node` (the same binary, under GNU time) and recorded as ours;
 * only the shell wrapper's exec is left out.
 */
function oursLauncher(): { how: string; argv: string[] } {
  return { how: oursEntry.endsWith('.cjs') ? 'bundle' : 'main.js', argv: [oursEntry] };
}

function statusRuns(ctx: SuiteContext, sys: string): void {
  const cell = ctx.results.cell(ctx.target.name, ctx.shape.name, 'admin status', null);
  const launcher = oursLauncher();
  ctx.results.note(cell, `ours started from the ${launcher.how}`);
  for (let i = 1; i <= STATUS_RUNS; i++) {
    for (const tool of toolOrder(i)) {
      const args = ['admin', 'status', `--sysroot=${sys}`];
      ctx.results.record(cell, tool, tool === 'ours' ? runTool('node', [...launcher.argv, ...args]) : runTool(tool, args), i);
    }
    ctx.results.record(cell, 'node', runTool('node', ['-e', '0']), i);
  }
}

async function round(ctx: SuiteContext, n: number, repo: string, csumB: string, csumA0: string): Promise<void> {
  const dir = path.join(ctx.scratch, `deploy-round-${n}`);
  const syss = { upstream: path.join(dir, 'sys-upstream'), ours: path.join(dir, 'sys-ours') };
  try {
    for (const tool of toolOrder(n)) setupSysroot(syss[tool], repo);
    deployPhase(ctx, n, syss, UPDATE_REFS.a0, ctx.wants('deploy') ? 'full deploy' : null, 0.5);
    deployPhase(ctx, n, syss, UPDATE_REFS.a, null, 0);
    deployPhase(ctx, n, syss, UPDATE_REFS.a0, null, 0);
    const spare = path.join(syss.ours, 'ostree', 'deploy', OS, 'recycle', csumA0, 'usr');
    const a0Usr = fs.existsSync(spare) ? fs.statSync(spare).ino : -1;
    deployPhase(ctx, n, syss, UPDATE_REFS.b, 'deploy 1%', 0.1);
    if (n === 1) {
      const cell = ctx.results.cell(ctx.target.name, ctx.shape.name, 'deploy 1%', 0.1);
      const b = { upstream: deploymentOf(syss.upstream, csumB), ours: deploymentOf(syss.ours, csumB) };
      if (b.ours && b.upstream) {
        ctx.results.note(cell, treeSummary(b.ours) === treeSummary(b.upstream) ? 'same tree as upstream\'s' : 'tree DIFFERS from upstream\'s');
        ctx.results.note(cell, fs.statSync(path.join(b.ours, 'usr')).ino === a0Usr ? 'ours recycled a0' : 'ours did a full checkout');
      }
      if (ctx.wants('status')) statusRuns(ctx, syss.upstream);
    }
  } finally {
    rmrf(dir);
    settle();
  }
}

export const suite: Suite = {
  name: 'deploy',
  order: 20,
  ops: ['deploy', 'status'],
  async run(ctx) {
    if (!ctx.wants('deploy') && !ctx.wants('status')) return;
    const repo = ctx.fixtures.updateRepo();
    const csum = (ref: string): string => upstreamSetup([`--repo=${repo}`, 'rev-parse', ref]).trim();
    ctx.results.notes.push(`${ctx.target.name}/${ctx.shape.name}: each update changes ${ctx.fixtures.changed} files`);
    for (let n = 1; n <= ctx.rounds; n++) await round(ctx, n, repo, csum(UPDATE_REFS.b), csum(UPDATE_REFS.a0));
  },
};
