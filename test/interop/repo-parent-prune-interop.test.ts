/**
 * Interop for `core.parent` and the branch options of `prune`, with upstream /usr/bin/ostree as
 * the oracle: a pull-local into a repository with a parent copies only what the parent lacks
 * (metadata and content), reads (checkout, prune's walk) go through the parent, and
 * `prune --only-branch/--retain-branch-depth/--keep-younger-than` keep the same commits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

type Cli = (...args: string[]) => string;
const up: Cli = (...args) => execFileSync(UPSTREAM_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ours: Cli = (...args) => execFileSync(process.execPath, [OURS_CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Loose object files of the repository by extension (`filez`, `dirtree`, `commit`, …). */
function countObjects(repo: string): Record<string, number> {
  const out: Record<string, number> = {};
  const objs = path.join(repo, 'objects');
  for (const sub of fs.readdirSync(objs)) {
    for (const f of fs.readdirSync(path.join(objs, sub))) {
      const ext = f.slice(f.indexOf('.') + 1);
      out[ext] = (out[ext] ?? 0) + 1;
    }
  }
  return out;
}

/** The parent-repository scenario of upstream's test-prune.sh, run with one CLI; the counts after each step. */
function parentScenario(cli: Cli, dir: string): Array<Record<string, number>> {
  const [parent, child, tmp] = ['repo', 'child-repo', 'tmp-repo'].map((n) => path.join(dir, n)) as [string, string, string];
  for (const r of [parent, child, tmp]) cli('init', `--repo=${r}`, '--mode=archive');
  fs.appendFileSync(path.join(child, 'config'), `parent=${parent}\n`);
  const files = path.join(dir, 'files');
  fs.mkdirSync(files);
  for (let i = 1; i <= 3; i++) fs.writeFileSync(path.join(files, `afile${i}`), `afile${i}\n`);
  cli(`--repo=${parent}`, 'commit', '-b', 'test', '--timestamp=@1000', files);
  for (let i = 4; i <= 6; i++) fs.writeFileSync(path.join(files, `afile${i}`), `afile${i}\n`);
  cli(`--repo=${tmp}`, 'commit', '-b', 'childtest', '--timestamp=@1000', files);
  cli(`--repo=${child}`, 'pull-local', tmp, 'childtest');
  const counts = [countObjects(child)];
  cli(`--repo=${child}`, 'prune');
  cli(`--repo=${parent}`, 'refs', '--delete', 'test');
  cli(`--repo=${child}`, 'prune', '--refs-only', '--depth=0');
  counts.push(countObjects(child));
  // a checkout of the child's commit reads the files the parent holds
  cli(`--repo=${child}`, 'checkout', 'childtest', path.join(dir, 'co'));
  assert.equal(fs.readFileSync(path.join(dir, 'co', 'afile2'), 'utf8'), 'afile2\n');
  return counts;
}

test('pull-local into a repository with core.parent skips what the parent holds, as upstream', () => {
  const theirs = parentScenario(up, tempDir('parent-up-'));
  const mine = parentScenario(ours, tempDir('parent-ours-'));
  assert.deepEqual(mine, theirs);
  assert.equal(mine[0]!['filez'], 3);
});

/** Two branches with five old and three new commits each (test-prune.sh's date snapshot). */
function branchRepo(cli: Cli, dir: string): string {
  const repo = path.join(dir, 'src');
  cli('init', `--repo=${repo}`, '--mode=archive');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(tree, { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  for (let day = 1; day <= 5; day++) {
    fs.writeFileSync(path.join(tree, 'f'), `old ${day}\n`);
    for (const b of ['stable', 'dev']) cli(`--repo=${repo}`, 'commit', `--branch=${b}`, '-s', `old ${day}`, `--timestamp=@${490000000 + day * 86400}`, tree);
  }
  for (let x = 1; x <= 3; x++) {
    fs.writeFileSync(path.join(tree, 'f'), `new ${x}\n`);
    for (const b of ['stable', 'dev']) cli(`--repo=${repo}`, 'commit', `--branch=${b}`, '-s', `new ${x}`, `--timestamp=@${now - 3600 + x}`, tree);
  }
  return repo;
}

/** Commits left after `prune ARGS` on a fresh copy of `src`. */
function commitsAfter(cli: Cli, dir: string, src: string, args: string[]): number {
  const repo = path.join(dir, `r${Math.random().toString(36).slice(2)}`);
  cli('init', `--repo=${repo}`, '--mode=archive');
  cli(`--repo=${repo}`, 'pull-local', '--depth=-1', src);
  cli(`--repo=${repo}`, 'prune', ...args);
  cli(`--repo=${repo}`, 'fsck', '-q');
  return countObjects(repo)['commit'] ?? 0;
}

test('prune --only-branch, --retain-branch-depth and --keep-younger-than keep upstream\'s commits', () => {
  const dirUp = tempDir('prune-up-');
  const dirOurs = tempDir('prune-ours-');
  const srcUp = branchRepo(up, dirUp);
  const srcOurs = branchRepo(ours, dirOurs);
  const cases = [
    ['--keep-younger-than=1 week ago', '--retain-branch-depth=stable=-1'],
    ['--keep-younger-than=1 week ago', '--retain-branch-depth=stable=5'],
    ['--depth=0', '--retain-branch-depth=stable=-1'],
    ['--only-branch=dev', '--depth=0'],
    ['--only-branch=dev', '--depth=1'],
    ['--only-branch=dev', '--only-branch=stable', '--depth=0', '--retain-branch-depth=stable=2'],
    ['--only-branch=stable', '--keep-younger-than=1 week ago'],
    ['--only-branch=dev', '--depth=0', '--retain-branch-depth=stable=0'],
    ['--commit-only', '--only-branch=dev', '--depth=0'],
  ];
  for (const args of cases) {
    assert.equal(commitsAfter(ours, dirOurs, srcOurs, args), commitsAfter(up, dirUp, srcUp, args), args.join(' '));
  }
  assert.throws(() => ours(`--repo=${srcOurs}`, 'prune', '--only-branch=BACON'), /Refspec 'BACON' not found/);
  assert.throws(() => ours(`--repo=${srcOurs}`, 'prune', '--retain-branch-depth=stable=BACON'), /Invalid depth BACON/);
});
