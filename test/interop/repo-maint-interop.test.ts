/**
 * fsck / prune / pull-local / diff against upstream ostree 2022.7 as the oracle.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

const UPSTREAM = UPSTREAM_CLI;
const OURS = OURS_CLI;
const MODES = ['bare', 'bare-user', 'bare-user-only', 'archive'];
let work = '';

function up(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(UPSTREAM, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ours(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OURS, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}
function copy(src: string, name: string): string {
  const dst = path.join(work, name);
  execFileSync('cp', ['-a', src, dst]);
  return dst;
}
function sameObjects(a: string, b: string): void {
  const oa = objects(a);
  const ob = objects(b);
  const onlyA = oa.filter((x) => !ob.includes(x));
  const onlyB = ob.filter((x) => !oa.includes(x));
  assert.deepEqual({ onlyA, onlyB }, { onlyA: [], onlyB: [] }, `${a} vs ${b}`);
}
function objects(repo: string): string[] {
  const out: string[] = [];
  for (const sub of fs.readdirSync(path.join(repo, 'objects'))) for (const f of fs.readdirSync(path.join(repo, 'objects', sub))) out.push(`${sub}/${f}`);
  return out.sort();
}

before(() => {
  work = tempDir('maint-interop-');
  const t = path.join(work, 'tree');
  fs.mkdirSync(path.join(t, 'usr/lib/mods'), { recursive: true });
  fs.mkdirSync(path.join(t, 'etc'), { recursive: true });
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(t, 'usr/lib/mods', `m${i}`), `module ${i}\n`.repeat(i * 50 + 1));
  fs.writeFileSync(path.join(t, 'etc/conf'), 'x=1\n');
  fs.writeFileSync(path.join(t, 'usr/bin-tool'), '#!/bin/sh\n', { mode: 0o755 });
  fs.symlinkSync('usr/bin-tool', path.join(t, 'tool'));
  for (const mode of MODES) {
    const repo = path.join(work, `up-${mode}`);
    ok(up('init', `--repo=${repo}`, `--mode=${mode}`), 'upstream init');
    ok(up('commit', `--repo=${repo}`, '-b', 'os/main', `--tree=dir=${t}`, '-s', 'one', '--timestamp=2020-01-01T00:00:00Z'), 'upstream commit');
    fs.writeFileSync(path.join(t, 'etc/second'), 'second\n');
    ok(up('commit', `--repo=${repo}`, '-b', 'os/main', `--tree=dir=${t}`, '-s', 'two', '--timestamp=2020-01-02T00:00:00Z'), 'upstream commit 2');
    fs.rmSync(path.join(t, 'etc/second'));
  }
});

after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

for (const mode of MODES) {
  test(`our fsck passes on an upstream-written ${mode} repository, with upstream's stdout`, () => {
    const repo = path.join(work, `up-${mode}`);
    assert.equal(ok(ours('fsck', `--repo=${repo}`), 'our fsck'), ok(up('fsck', `--repo=${repo}`), 'upstream fsck'));
  });
}

test('pull-local: ours from upstream archive into bare (and every mode); upstream fsck passes on the result', () => {
  for (const mode of MODES) {
    const dest = path.join(work, `ours-pulled-${mode}`);
    ok(ours('init', `--repo=${dest}`, `--mode=${mode}`), 'our init');
    const out = ok(ours('pull-local', `--repo=${dest}`, '--depth=-1', path.join(work, 'up-archive'), 'os/main'), 'our pull-local');
    assert.match(out, /^\d+ metadata, \d+ content objects imported; .* content written\n$/);
    ok(up('fsck', `--repo=${dest}`), `upstream fsck of our ${mode} pull`);
    assert.equal(ok(up('rev-parse', `--repo=${dest}`, 'os/main'), 'rev-parse'), ok(up('rev-parse', `--repo=${path.join(work, 'up-archive')}`, 'os/main'), 'rev-parse'));
    assert.equal(ok(up('log', `--repo=${dest}`, 'os/main'), 'log').match(/^commit /gm)?.length, 2, 'both commits with --depth=-1');
  }
});

test('pull-local: same status line as upstream for the same pull', () => {
  const a = path.join(work, 'status-ours');
  const b = path.join(work, 'status-up');
  ok(up('init', `--repo=${a}`, '--mode=bare'), 'init');
  ok(up('init', `--repo=${b}`, '--mode=bare'), 'init');
  const src = path.join(work, 'up-archive');
  assert.equal(ok(ours('pull-local', `--repo=${a}`, src, 'os/main'), 'ours'), ok(up('pull-local', `--repo=${b}`, src, 'os/main'), 'upstream'));
  sameObjects(a, b);
});

test('pull-local: upstream pulls from our repositories (archive and bare-user) and fsck passes both ways', () => {
  const t = path.join(work, 'tree');
  const oursArchive = path.join(work, 'ours-archive');
  ok(ours('init', `--repo=${oursArchive}`, '--mode=archive'), 'our init');
  ok(ours('commit', `--repo=${oursArchive}`, '-b', 'ours/main', `--tree=dir=${t}`, '-s', 'from ours'), 'our commit');
  const oursBareUser = path.join(work, 'ours-bare-user');
  ok(ours('init', `--repo=${oursBareUser}`, '--mode=bare-user'), 'our init');
  ok(ours('pull-local', `--repo=${oursBareUser}`, oursArchive), 'our pull archive->bare-user');
  for (const [src, destMode] of [[oursArchive, 'bare'], [oursBareUser, 'archive'], [oursBareUser, 'bare']] as const) {
    const dest = path.join(work, `up-from-${path.basename(src)}-${destMode}`);
    ok(up('init', `--repo=${dest}`, `--mode=${destMode}`), 'upstream init');
    ok(up('pull-local', `--repo=${dest}`, '--remote=ours', src, 'ours/main'), 'upstream pull-local from ours');
    ok(up('fsck', `--repo=${dest}`), 'upstream fsck');
    ok(ours('fsck', `--repo=${dest}`), 'our fsck');
    assert.equal(ok(up('refs', `--repo=${dest}`), 'refs'), 'ours:ours/main\n');
  }
});

test('prune: ours matches upstream (same objects left, same output) and upstream fsck stays green', () => {
  for (const mode of ['bare', 'archive']) {
    for (const args of [['--refs-only', '--depth=0'], ['--refs-only'], ['--depth=0']]) {
      const a = copy(path.join(work, `up-${mode}`), `prune-ours-${mode}-${args.join('')}`);
      const b = copy(path.join(work, `up-${mode}`), `prune-up-${mode}-${args.join('')}`);
      assert.equal(ok(ours('prune', `--repo=${a}`, ...args), 'our prune'), ok(up('prune', `--repo=${b}`, ...args), 'upstream prune'));
      sameObjects(a, b);
      ok(up('fsck', `--repo=${a}`), 'upstream fsck after our prune');
    }
    // Deleting the ref makes everything unreachable with --refs-only.
    const a = copy(path.join(work, `up-${mode}`), `prune-noref-ours-${mode}`);
    const b = copy(path.join(work, `up-${mode}`), `prune-noref-up-${mode}`);
    ok(up('refs', `--repo=${a}`, '--delete', 'os/main'), 'refs --delete');
    ok(up('refs', `--repo=${b}`, '--delete', 'os/main'), 'refs --delete');
    assert.equal(ok(ours('prune', `--repo=${a}`, '--refs-only'), 'ours'), ok(up('prune', `--repo=${b}`, '--refs-only'), 'upstream'));
    sameObjects(a, b);
  }
});

test('fsck: corruption upstream detects is detected by ours, naming the same object and commits', () => {
  for (const mode of MODES) {
    const repo = copy(path.join(work, `up-${mode}`), `corrupt-${mode}`);
    const ls = ok(up('ls', `--repo=${repo}`, '-C', 'os/main', '/usr/lib/mods/m7'), 'ls');
    const csum = /([0-9a-f]{64})/.exec(ls)![1]!;
    const file = path.join(repo, 'objects', csum.slice(0, 2), `${csum.slice(2)}.${mode === 'archive' ? 'filez' : 'file'}`);
    fs.chmodSync(file, 0o644);
    const b = fs.readFileSync(file);
    b[mode === 'archive' ? 19 : 3] ^= 0x04;
    fs.writeFileSync(file, b);
    const u = up('fsck', `--repo=${repo}`);
    const o = ours('fsck', `--repo=${repo}`);
    assert.notEqual(u.code, 0, `${mode}: upstream detects it`);
    assert.notEqual(o.code, 0, `${mode}: ours detects it`);
    const firstErr = (s: string): string => s.split('\n').find((l) => l.startsWith('error: ')) ?? '';
    assert.ok(firstErr(o.stderr).includes(`fsck content object ${csum}`), o.stderr);
    // Same message, up to the order of the commits (upstream's is GHashTable order).
    const norm = (l: string): string => l.replace(/In commits ([0-9a-f, ]+):/, (_m, cs: string) => `In commits ${cs.split(', ').sort().join(', ')}:`);
    if (mode !== 'archive') assert.equal(norm(firstErr(o.stderr)), norm(firstErr(u.stderr)), `${mode}: same message`);
  }
});

test('diff: same output as upstream for commit pairs, REV alone, and a directory target', () => {
  const repo = path.join(work, 'up-bare-user');
  for (const args of [['os/main^', 'os/main'], ['os/main', 'os/main^'], ['os/main'], ['os/main', path.join(work, 'tree')]]) {
    assert.equal(ok(ours('diff', `--repo=${repo}`, ...args), 'our diff'), ok(up('diff', `--repo=${repo}`, ...args), 'upstream diff'), args.join(' '));
  }
});
