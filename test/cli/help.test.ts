/**
 * src/cli/help.ts: `--help` in upstream's GOptionContext layout, checked against upstream's own
 * output (/usr/bin/ostree, installed by make deps): the verb lists of every group, the usage
 * lines, where the help goes (stdout for --help, stderr before an error) and the exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';
import { tempDir } from '../common/tmp.js';
import { ADMIN_VERBS, REPO_VERBS } from '../../src/cli/verbs.js';
import { UNLISTED } from '../../src/cli/help-text.js';

interface Run { code: number | null; stdout: string; stderr: string }
const run = (cli: string[], args: string[]): Run => {
  const r = spawnSync(cli[0]!, [...cli.slice(1), ...args], { encoding: 'utf8', cwd: '/' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const ours = (...args: string[]): Run => run([process.execPath, OURS_CLI], args);
const upstream = (...args: string[]): Run => run([UPSTREAM_CLI], args);

/** The lines of a "Builtin ... Commands:" section, heading included. */
function verbSection(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => /^Builtin ("[^"]*" )?Commands:$/.test(l));
  assert.ok(start >= 0, `no verb list in:\n${help}`);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}

test('ostree --help: usage, every verb in upstream\'s order with its description, then the options; stdout, exit 0', () => {
  const r = ours('--help');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^Usage:\n {2}ostree \[OPTION…\] COMMAND\n\nBuiltin Commands:\n/);
  const names = verbSection(r.stdout).slice(1).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(names, ['admin', ...REPO_VERBS.keys()]);
  assert.match(r.stdout, /\n\nHelp Options:\n {2}-h, --help +Show help options\n\nApplication Options:\n(?: {2}-.*\n)+\n$/);
  assert.deepEqual(verbSection(r.stdout), verbSection(upstream('--help').stdout));
});

test('every group lists the verbs upstream lists, in its layout (admin adds stateroot-init and rollback)', () => {
  for (const group of ['remote', 'static-delta', 'admin kargs']) {
    const args = [...group.split(' '), '--help'];
    assert.deepEqual(verbSection(ours(...args).stdout), verbSection(upstream(...args).stdout), group);
  }
  const admin = verbSection(ours('admin', '--help').stdout);
  const listed = [...ADMIN_VERBS.keys()].filter((v) => !UNLISTED.has(`admin ${v}`));
  assert.deepEqual(admin.slice(1).map((l) => l.trim().split(/\s+/)[0]), listed);
  const extras = /^ {2}(stateroot-init|rollback) /;
  assert.deepEqual(admin.filter((l) => !extras.test(l)), verbSection(upstream('admin', '--help').stdout));
});

test('a verb\'s --help: upstream\'s usage line and description; options aligned in one column past the longest', () => {
  for (const args of [['log'], ['cat'], ['admin', 'deploy'], ['remote', 'add'], ['static-delta', 'show'], ['config']]) {
    const mine = ours(...args, '--help');
    assert.equal(mine.code, 0, mine.stderr);
    const head = (s: string): string => s.split('\n').slice(0, 4).join('\n').replace(/\/usr\/bin\/ostree/, 'ostree');
    assert.equal(head(mine.stdout), head(upstream(...args, '--help').stdout), args.join(' '));
    const options = mine.stdout.split('\n').filter((l) => /^ {2}-/.test(l));
    const column = (l: string): number => /^ {2}(?:-\S, )?\S+ +/.exec(l)![0].length;
    const longest = Math.max(...options.map((l) => /^ {2}(?:-\S, )?\S+/.exec(l)![0].length));
    for (const l of options) assert.equal(column(l), Math.max(longest, 14) + 5, l);
  }
});

test('no verb, or an unknown one: the usage on stderr, then upstream\'s error; exit 1', () => {
  const cases: Array<[string[], string[], string]> = [
    [[], [], 'error: No command specified'],
    [['frobnicate'], [], "error: Unknown command 'frobnicate'"],
    [['admin'], ['admin'], 'error: No "admin" subcommand specified'],
    [['admin', 'frobnicate'], ['admin'], 'error: Unknown "admin" subcommand \'frobnicate\''],
    [['remote', 'frobnicate'], ['remote'], 'error: Unknown "remote" subcommand \'frobnicate\''],
    [['static-delta'], ['static-delta'], 'error: No command specified'],
  ];
  for (const [args, group, error] of cases) {
    const r = ours(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${ours(...group, '--help').stdout}${error}\n`, args.join(' '));
    assert.equal(upstream(...args).stderr.replace(/\/usr\/bin\/ostree/, 'ostree').split('\n').at(-2), error);
  }
});

test('a verb\'s usage error: its help, one more blank line, then the error, as upstream prints it', () => {
  const repo = path.join(tempDir('ostree-ts-help-'), 'repo');
  assert.equal(upstream(`--repo=${repo}`, 'init', '--mode=archive').code, 0);
  for (const args of [['cat'], ['log'], ['checkout'], ['export']]) {
    const mine = ours(`--repo=${repo}`, ...args);
    assert.equal(mine.code, 1, args.join(' '));
    assert.match(mine.stderr, /\n\n\nerror: [^\n]+\n$/, args.join(' '));
    assert.equal(mine.stderr.slice(0, mine.stderr.lastIndexOf('\nerror: ')), ours(...args, '--help').stdout, args.join(' '));
    assert.match(upstream(`--repo=${repo}`, ...args).stderr, /\n\n\nerror: [^\n]+\n$/, `upstream ${args.join(' ')}`);
  }
});
