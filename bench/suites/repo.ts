/**
 * commit, checkout -H and fsck. Each round: both tools commit the tree into fresh bare
 * repositories (init + commit timed), then both check out -H from that round's upstream-written
 * repository into fresh directories, then both fsck it. Everything goes at the round's end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentChecksum, treeSummary } from '../lib/checks.js';
import { rmrf, runTool, settle, toolOrder, type RunResult, type ToolName } from '../lib/proc.js';
import type { Suite, SuiteContext } from '../lib/suite.js';

function commitRound(ctx: SuiteContext, round: number, dir: string): Partial<Record<ToolName, string>> {
  const repos: Partial<Record<ToolName, string>> = {};
  const cell = ctx.results.cell(ctx.target.name, ctx.shape.name, 'commit', 0.3);
  for (const tool of toolOrder(round)) {
    if (!ctx.wants('commit') && tool === 'ours') continue;
    const repo = path.join(dir, `repo-${tool}`);
    settle();
    const init = runTool(tool, [`--repo=${repo}`, 'init', '--mode=bare']);
    let r: RunResult = init;
    if (init.ok) {
      const c = runTool(tool, [`--repo=${repo}`, 'commit', '-b', 'bench', '-s', 'bench', `--tree=dir=${ctx.tree}`]);
      r = { ...c, seconds: c.seconds + init.seconds, rssKB: Math.max(c.rssKB ?? 0, init.rssKB ?? 0) || null,
        cpuSeconds: c.cpuSeconds !== null && init.cpuSeconds !== null ? c.cpuSeconds + init.cpuSeconds : null };
    }
    if (ctx.wants('commit')) ctx.results.record(cell, tool, r, round);
    if (r.ok) repos[tool] = repo;
  }
  if (round === 1 && repos.upstream && repos.ours) {
    const u = contentChecksum(repos.upstream, 'bench');
    const o = contentChecksum(repos.ours, 'bench');
    ctx.results.note(cell, o === null ? 'upstream cannot read our commit' : o === u ? 'same content checksum' : 'content checksum DIFFERS');
  }
  return repos;
}

function checkoutRound(ctx: SuiteContext, round: number, dir: string, repo: string): void {
  const cell = ctx.results.cell(ctx.target.name, ctx.shape.name, 'checkout -H', 0.7);
  const sums: Partial<Record<ToolName, string>> = {};
  for (const tool of toolOrder(round)) {
    const dest = path.join(dir, `co-${tool}`);
    settle();
    const r = runTool(tool, [`--repo=${repo}`, 'checkout', '-H', 'bench', dest]);
    ctx.results.record(cell, tool, r, round);
    if (r.ok && round === 1) sums[tool] = treeSummary(dest);
  }
  if (sums.ours) ctx.results.note(cell, sums.ours === sums.upstream ? 'same tree as upstream' : 'tree DIFFERS from upstream');
}

function fsckRound(ctx: SuiteContext, round: number, repo: string): void {
  const cell = ctx.results.cell(ctx.target.name, ctx.shape.name, 'fsck', 0.2);
  for (const tool of toolOrder(round)) ctx.results.record(cell, tool, runTool(tool, [`--repo=${repo}`, 'fsck']), round);
  ctx.results.note(cell, 'both on the round\'s upstream-written repo');
}

export const suite: Suite = {
  name: 'repo',
  order: 10,
  ops: ['commit', 'checkout', 'fsck'],
  async run(ctx) {
    if (!ctx.wants('commit') && !ctx.wants('checkout') && !ctx.wants('fsck')) return;
    for (let round = 1; round <= ctx.rounds; round++) {
      const dir = path.join(ctx.scratch, `repo-round-${round}`);
      fs.mkdirSync(dir, { recursive: true });
      try {
        const repos = commitRound(ctx, round, dir);
        if (!repos.upstream) { ctx.results.notes.push(`${ctx.target.name}/${ctx.shape.name}: upstream commit failed in round ${round}`); continue; }
        if (ctx.wants('checkout')) checkoutRound(ctx, round, dir, repos.upstream);
        if (ctx.wants('fsck')) fsckRound(ctx, round, repos.upstream);
      } finally {
        rmrf(dir);
        settle();
      }
    }
  },
};
