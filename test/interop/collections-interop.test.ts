/**
 * Refs, aliases, collection IDs and bindings against upstream ostree 2022.7 as the oracle:
 * commits with bindings are byte-identical, each side lists the other's collection–refs and
 * aliases alike, upstream's fsck --verify-bindings / --verify-back-refs accept our repositories,
 * and a create-usb volume we write is read by upstream.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

const UPSTREAM = UPSTREAM_CLI;
const OURS = OURS_CLI;
let work = '';
let tree = '';

interface Run { code: number | null; stdout: string; stderr: string }
function up(...args: string[]): Run {
  const r = spawnSync(UPSTREAM, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ours(...args: string[]): Run {
  const r = spawnSync(process.execPath, [OURS, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '').sort();

before(() => {
  work = tempDir('collections-interop-');
  tree = path.join(work, 'tree');
  fs.mkdirSync(path.join(tree, 'usr'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'usr/file'), 'content\n');
});

test('commits with --bind-ref and a collection ID are byte-identical to upstream\'s', () => {
  const sums: string[][] = [];
  for (const [name, cli] of [['up', up], ['ours', ours]] as const) {
    const repo = path.join(work, `bind-${name}`);
    ok(cli(`--repo=${repo}`, 'init', '--mode=archive', '--collection-id=org.example.Os'), `${name} init`);
    const commit = (...a: string[]): string => ok(cli(`--repo=${repo}`, 'commit', '-s', 's', '--timestamp=2021-01-01T00:00:00Z', ...a, tree), `${name} commit`).trim();
    sums.push([
      commit('-b', 'os/main', '--bind-ref=zz', '--bind-ref=aa'),
      commit('--orphan'),
      commit('-b', 'other', '--add-metadata-string=ostree.collection-binding=org.example.Else'),
      commit('-b', 'plain', '--no-bindings'),
    ]);
  }
  assert.deepEqual(sums[1], sums[0]);
  const repo = path.join(work, 'bind-ours');
  assert.equal(ok(up(`--repo=${repo}`, 'show', '--print-metadata-key=ostree.ref-binding', sums[1]![0]!), 'upstream show').trim(), "['aa', 'os/main', 'zz']");
  assert.equal(ok(up(`--repo=${repo}`, 'show', '--print-metadata-key=ostree.collection-binding', sums[1]![0]!), 'upstream show').trim(), "'org.example.Os'");
});

test('collection–refs and aliases we write are listed by upstream as by us, and the reverse', () => {
  for (const [writer, reader] of [[ours, up], [up, ours]] as const) {
    const repo = path.join(work, `refs-${writer === ours ? 'ours' : 'up'}`);
    ok(writer(`--repo=${repo}`, 'init', '--mode=archive', '--collection-id=org.example.Main'), 'init');
    const c = ok(writer(`--repo=${repo}`, 'commit', '-b', 'a/b', '-s', 's', tree), 'commit').trim();
    ok(writer(`--repo=${repo}`, 'refs', '--collections', `--create=org.example.Mirror:m/one`, c), 'mirror ref');
    ok(writer(`--repo=${repo}`, 'refs', 'a/b', '--create=x/y/z'), 'plain ref');
    ok(writer(`--repo=${repo}`, 'refs', '-A', 'a/b', '--create=x/alias'), 'alias');
    for (const args of [['--collections'], ['-A'], [], ['--list', 'x'], ['x']]) {
      assert.deepEqual(lines(ok(reader(`--repo=${repo}`, 'refs', ...args), 'reader refs')), lines(ok(writer(`--repo=${repo}`, 'refs', ...args), 'writer refs')), `refs ${args.join(' ')}`);
    }
    assert.equal(ok(reader(`--repo=${repo}`, 'rev-parse', 'x/alias'), 'rev-parse alias').trim(), c);
    assert.equal(fs.readlinkSync(path.join(repo, 'refs/heads/x/alias')), '../a/b');
    assert.equal(fs.readFileSync(path.join(repo, 'refs/mirrors/org.example.Mirror/m/one'), 'utf8'), `${c}\n`);
  }
});

test('upstream fsck --verify-bindings and --verify-back-refs judge our repositories as ours does', () => {
  const repo = path.join(work, 'fsck-ours');
  ok(ours(`--repo=${repo}`, 'init', '--mode=archive', '--collection-id=org.example.Main'), 'init');
  const c = ok(ours(`--repo=${repo}`, 'commit', '-b', 'main', '-s', 's', tree), 'commit').trim();
  for (const cli of [up, ours]) ok(cli(`--repo=${repo}`, 'fsck', '--verify-bindings'), 'fsck --verify-bindings');
  // a collection–ref of the repository's own collection is a local ref: unbound here
  ok(ours(`--repo=${repo}`, 'refs', '--collections', '--create=org.example.Main:unbound', c), 'unbound ref');
  assert.ok(fs.existsSync(path.join(repo, 'refs/heads/unbound')));
  for (const cli of [up, ours]) {
    const r = cli(`--repo=${repo}`, 'fsck', '--verify-bindings');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Commit has no requested ref ‘unbound’ in ref binding metadata \(‘main’\)/);
  }
  ok(ours(`--repo=${repo}`, 'refs', '--delete', 'main', 'unbound'), 'delete refs');
  for (const cli of [up, ours]) {
    const r = cli(`--repo=${repo}`, 'fsck', '--verify-back-refs');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Collection–ref \(org\.example\.Main, main\) in bindings for commit [0-9a-f]{64} does not exist/);
  }
});

test('a create-usb volume we write is an archive repository upstream reads, summary included', () => {
  const src = path.join(work, 'usb-src');
  ok(ours(`--repo=${src}`, 'init', '--mode=archive', '--collection-id=org.example.Usb'), 'init');
  for (const b of ['app1', 'app2']) ok(ours(`--repo=${src}`, 'commit', '-b', b, '-s', 's', tree), 'commit');
  const mount = path.join(work, 'mount');
  fs.mkdirSync(mount);
  ok(ours(`--repo=${src}`, 'create-usb', '--destination-repo=data/repo', mount, 'org.example.Usb', 'app1', 'org.example.Usb', 'app2'), 'create-usb');
  assert.equal(fs.readlinkSync(path.join(mount, '.ostree/repos.d/00-generated')), '../../data/repo');
  const dest = path.join(mount, '.ostree/repos.d/00-generated');
  assert.deepEqual(lines(ok(up(`--repo=${dest}`, 'refs', '--collections'), 'upstream refs')), ['(org.example.Usb, app1)', '(org.example.Usb, app2)']);
  assert.match(ok(up(`--repo=${dest}`, 'summary', '--view'), 'upstream summary'), /\(org\.example\.Usb, app1\)[^]*\(org\.example\.Usb, app2\)/);
  ok(up(`--repo=${dest}`, 'fsck'), 'upstream fsck');
  assert.equal(ok(up(`--repo=${dest}`, 'config', 'get', 'core.mode'), 'mode').trim(), 'archive-z2');
});
