/**
 * Hostile input at the command line: deployment indexes that are not plain decimal numbers,
 * empty `--repo=` / `--sysroot=`, unknown verbs and options, missing arguments, a commit of a
 * missing directory, and repositories whose history loops or whose tree contains itself.
 * Each is refused with one `error:` line, a non-zero exit, no trace, and nothing changed: the
 * sysroot, the repository (tmp/ included) and the current directory stay byte-identical.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectRefusal, runCli, scratch } from './harness.js';
import { newSysroot, ok, ours, tmpfsScratch, type Scratch } from '../common/sysroot-helpers.js';
import { loopingHistory, selfContainingTree, smallRepo } from '../cli/fixtures.js';
import { Repo } from '../../src/repo/repo.js';

const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

let fsScratch: Scratch;
let sysroot: string;
let work: { dir: string; cleanup(): void };
let repo: string;
let cwdRepo: string;

before(async () => {
  fsScratch = tmpfsScratch('ostree-ts-hostile-cli-');
  ({ sysroot } = await newSysroot(fsScratch.dir));
  // Two deployments, the default one pinned: "deployment 0" is what a lax index parser hits.
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', '--retain', 'testos/stable'], MUT));
  ok(ours(['admin', 'pin', `--sysroot=${sysroot}`, '0'], MUT));

  work = scratch('ostree-ts-hostile-cli-');
  const small = await smallRepo(work.dir);
  repo = small.repo.path;
  await loopingHistory(small.repo, small.commit);
  await selfContainingTree(small.repo, small.commit);
  const links = path.join(work.dir, 'links');
  fs.mkdirSync(links);
  fs.symlinkSync('b', path.join(links, 'a'));
  fs.symlinkSync('a', path.join(links, 'b'));
  await small.repo.commitTree(links, { branch: 'links', subject: 'a link loop' });
  // A current directory that is itself a repository: an empty --repo= taken as "." would
  // commit into it, lock it or init over it.
  cwdRepo = path.join(work.dir, 'cwd-repo');
  await Repo.create(cwdRepo, 'archive');
});
after(() => { fsScratch.cleanup(); work.cleanup(); });

const INDEX_VERBS: Array<[string, (i: string) => string[]]> = [
  ['undeploy', (i) => ['admin', 'undeploy', `--sysroot=${sysroot}`, i]],
  ['pin', (i) => ['admin', 'pin', `--sysroot=${sysroot}`, i]],
  ['pin --unpin', (i) => ['admin', 'pin', '--unpin', `--sysroot=${sysroot}`, i]],
  ['set-origin --index', (i) => ['admin', 'set-origin', `--sysroot=${sysroot}`, `--index=${i}`, 'origin', 'file:///nowhere', 'testos/stable']],
];

// Index class: 7 forms x undeploy, plus the other verbs for a few forms each.
for (const bad of ['abc', '1.5', ' 1', '0x1', '+1', '-1', '']) {
  test(`admin undeploy ${JSON.stringify(bad)}: refused, the pinned deployment 0 stays`, () => {
    expectRefusal(INDEX_VERBS[0]![1](bad), { stderr: ['Invalid index: '], unchanged: [sysroot], env: MUT });
  });
}
for (const [verb, args] of INDEX_VERBS.slice(1)) {
  for (const bad of ['abc', '0x1', '-1']) {
    test(`admin ${verb} ${JSON.stringify(bad)}: refused`, () => {
      expectRefusal(args(bad), { stderr: [`Invalid index: ${bad}`], unchanged: [sysroot], env: MUT });
    });
  }
}

test('admin undeploy: an index past the end and one past a C int are refused', () => {
  expectRefusal(INDEX_VERBS[0]![1]('7'), { stderr: ['Out of range deployment index 7, expected < 2'], unchanged: [sysroot], env: MUT });
  expectRefusal(INDEX_VERBS[0]![1]('99999999999'), { stderr: ['Index too large: 99999999999'], unchanged: [sysroot], env: MUT });
});

// Empty paths: the current directory (a repository here) is never used, locked or written.
for (const args of [['refs'], ['commit', '-b', 'x', '--tree=dir=.'], ['init', '--mode=archive'], ['config', 'set', 'core.mode', 'bare']]) {
  test(`--repo= ${args.join(' ')}: refused; the current directory is untouched, no lock file`, () => {
    const r = expectRefusal(['--repo=', ...args], { stderr: ['--repo= was given an empty path'], unchanged: [cwdRepo], cwd: cwdRepo });
    assert.equal(r.stdout, '');
    assert.ok(!fs.existsSync(path.join(cwdRepo, '.lock')), 'a .lock was created in the current directory');
  });
}

for (const args of [['admin', 'status', '--sysroot='], ['admin', 'status', '-v', '--sysroot='], ['admin', 'undeploy', '--sysroot=', '0'], ['admin', '--sysroot=', 'cleanup']]) {
  test(`${args.join(' ')}: refused; neither the current directory nor the sysroot changes`, () => {
    expectRefusal(args, { stderr: ['--sysroot= was given an empty path'], unchanged: [sysroot, cwdRepo], cwd: cwdRepo, env: { ...MUT, OSTREE_SYSROOT: sysroot } });
  });
}

// Verbs, options and arguments: upstream's wording, usage before the error where upstream shows it.
const USAGE_CASES: Array<[string[], string]> = [
  [['admin', 'frobnicate'], 'error: Unknown "admin" subcommand \'frobnicate\''],
  [['admin'], 'error: No "admin" subcommand specified'],
  [['admin', 'kargs', 'frobnicate'], 'error: Unknown "admin kargs" subcommand \'frobnicate\''],
  [['remote'], 'error: No "remote" subcommand specified'],
  [['remote', 'frobnicate'], 'error: Unknown "remote" subcommand \'frobnicate\''],
  [['config', 'frobnicate'], 'error: Unknown "config" subcommand \'frobnicate\''],
  [['frobnicate'], "error: Unknown command 'frobnicate'"],
  [[], 'error: No command specified'],
  [['refs', '--frob'], 'error: Unknown option --frob'],
  [['admin', 'deploy', '--frob', 'x'], 'error: Unknown option --frob'],
  [['log'], 'error: REV must be specified'],
  [['admin', 'undeploy'], 'error: INDEX must be specified'],
  [['refs', '--repo'], 'error: Missing argument for --repo'],
];
for (const [args, message] of USAGE_CASES) {
  test(`ostree ${args.join(' ') || '(nothing)'}: ${message}`, () => {
    const full = args[0] === 'admin' ? [...args, `--sysroot=${sysroot}`] : args;
    const r = expectRefusal(full, { stderr: [message], unchanged: [sysroot, repo], env: { OSTREE_REPO: repo } });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.trimEnd().endsWith(message), `the error is the last line: ${r.stderr}`);
  });
}

test('GROUP help VERB prints the verb\'s help (exit 0): admin help deploy, admin kargs help edit-in-place, remote help add', () => {
  const r = runCli(['admin', 'help', 'deploy']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage:\n  ostree admin deploy \[OPTION…\] REFSPEC\n/);
  assert.match(r.stdout, /--sysroot=PATH +Use the sysroot at PATH/);
  const k = runCli(['admin', 'kargs', 'help', 'edit-in-place']);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /^Usage:\n  ostree admin kargs edit-in-place \[OPTION…\] ARGS\n/);
  const a = runCli(['remote', 'help', 'add']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^Usage:\n  ostree remote add \[OPTION…\] NAME \[metalink=\|mirrorlist=\]URL \[BRANCH\.\.\.\]\n/);
});

test('commit of a missing directory: one line naming the directory; the repository is untouched (tmp/ included)', () => {
  const missing = path.join(work.dir, 'no-such-dir');
  for (const args of [[missing], [`--tree=dir=${missing}`]]) {
    const r = expectRefusal([`--repo=${repo}`, 'commit', '-b', 'x', ...args], { stderr: [missing], unchanged: [repo] });
    assert.doesNotMatch(r.stderr, /ENOENT: no such file or directory, /, 'Node\'s raw errno message');
  }
});

// Corrupt repositories: reported as corrupt, never followed forever or into a stack overflow.
test('log over a parent chain that loops: ECORRUPT naming the commits, not an endless walk', () => {
  const r = expectRefusal([`--repo=${repo}`, 'log', 'loop'], { stderr: [/names (?:a1){32} as its parent, which already appears earlier in the same history \(the parent chain loops\)/, 'ostree fsck'], unchanged: [repo], timeoutMs: 20_000 });
  assert.equal(r.stdout.match(/^commit /gm)?.length, 2, 'each commit printed once before the error');
});

test('ls -R over a dirtree that contains itself: ECORRUPT, not a stack overflow', () => {
  expectRefusal([`--repo=${repo}`, 'ls', '-R', 'selfish'], { stderr: [/dirtree object (?:c3){32}\.dirtree: it contains itself \(again at \/again\)/], unchanged: [repo] });
});

test('cat through a symbolic link loop inside a commit: refused', () => {
  expectRefusal([`--repo=${repo}`, 'cat', 'links', '/a'], { stderr: ['Too many levels of symbolic links: /a'], unchanged: [repo] });
});
