/**
 * The bundled command (tools/build-cli.mjs: dist/bundle/ostree.cjs running cli.cjs with its V8
 * code cache, worker threads from their own bundles) and bin/ostree: each way of starting the
 * CLI prints the same as `node dist/src/cli/main.js` for every kind of verb (status, repository
 * verbs, ones with worker threads and pool jobs, a pull, usage errors), from its own tree or a
 * moved copy of dist/bundle alone; a code cache that does not fit is left unused, harmlessly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpfsScratch, newSysroot, ours, ok, type Scratch, type RunResult } from '../common/sysroot-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE_DIR = path.join(ROOT, 'dist/bundle');
const LAUNCHER = path.join(BUNDLE_DIR, 'ostree.cjs');
const BIN = path.join(ROOT, 'bin/ostree');
const WORKER_BUNDLES = ['pool-worker.cjs', 'commit-worker.cjs', 'checkout-worker.cjs', 'store-worker.cjs'];

function run(argv0: string, pre: string[], args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(argv0, [...pre, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What V8 did with the code cache, as ostree.cjs reports it: used, rejected or none. */
function cacheUse(launcher: string): string {
  const r = run(process.execPath, [launcher], ['--version'], { OSTREE_TS_CODE_CACHE_DEBUG: '1' });
  assert.equal(r.status, 0, r.stderr);
  return /^code cache: (\w+)$/m.exec(r.stderr)?.[1] ?? `no report in ${JSON.stringify(r.stderr)}`;
}

let scratch: Scratch;
let sysroot = '';
let tree = '';
let moved = '';
before(async () => {
  scratch = tmpfsScratch('ostree-ts-launcher-');
  ({ sysroot, tree } = await newSysroot(scratch.dir));
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', 'testos/stable']));
  // A tree big enough for worker threads and pool jobs (commit, fsck, pull: 200 files and more).
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(tree, 'usr', `many-${i}`), `file ${i}\n`);
  // dist/bundle alone, moved elsewhere, next to node_modules (native bindings): no dist/src to
  // fall back on, so every module any thread runs must come from the bundles.
  moved = path.join(scratch.dir, 'moved');
  fs.mkdirSync(path.join(moved, 'dist'), { recursive: true });
  fs.cpSync(BUNDLE_DIR, path.join(moved, 'dist/bundle'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(moved, 'node_modules'));
});
after(() => { scratch.cleanup(); });

/** The ways to start the CLI besides `node dist/src/cli/main.js` (which `ours` runs). */
const starts: Array<{ name: string; all: boolean; run: (args: string[], env?: Record<string, string>) => RunResult }> = [
  { name: 'ostree.cjs', all: true, run: (a, e) => run(process.execPath, [LAUNCHER], a, e) },
  // bin/ostree execs ostree.cjs: a few cases show it does
  { name: 'bin/ostree', all: false, run: (a, e) => run(BIN, [], a, e) },
  { name: 'moved ostree.cjs', all: true, run: (a, e) => run(process.execPath, [path.join(moved, 'dist/bundle/ostree.cjs')], a, e) },
];

test('make build made the bundles and the code cache, and V8 uses the cache', () => {
  for (const f of ['ostree.cjs', 'cli.cjs', 'cli.cjs.cache', 'import.cjs', ...WORKER_BUNDLES]) {
    assert.ok(fs.existsSync(path.join(BUNDLE_DIR, f)), `${f} is missing`);
  }
  assert.equal(cacheUse(LAUNCHER), 'used');
});

/** Each case runs in a scratch directory of its own per start, set up alike (`prepare`). */
interface Case { args: (dir: string) => string[]; env?: Record<string, string>; prepare?: (dir: string) => void; check?: (dir: string) => unknown }

function cases(): Case[] {
  const repo = path.join(sysroot, 'ostree/repo');
  const missing = path.join(scratch.dir, 'nope');
  const newRepo = (dir: string): void => { ok(ours([`--repo=${dir}/repo`, 'init', '--mode=bare'])); };
  const listing = (d: string): string[] => fs.readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
  return [
    { args: () => ['admin', 'status', `--sysroot=${sysroot}`] },
    { args: () => ['admin', 'status', '--json', `--sysroot=${sysroot}`] },
    { args: () => ['admin', 'status'], env: { OSTREE_SYSROOT: sysroot } },
    { args: () => ['admin', 'status', `--sysroot=${missing}`] },
    { args: () => ['admin', 'status', '-v', `--sysroot=${sysroot}`] },
    { args: () => [`--repo=${repo}`, 'refs'] },
    { args: () => [`--repo=${repo}`, 'log', 'testos/stable'] },
    { args: () => [`--repo=${repo}`, 'ls', '-R', 'testos/stable', '/usr/lib'] },
    { args: () => [`--repo=${repo}`, 'fsck'] },
    { args: () => ['--repo=' + missing, 'refs'] },
    // commit: worker threads (300 files); the same timestamp, so the same checksum
    { prepare: newRepo, args: (d) => [`--repo=${d}/repo`, 'commit', '-b', 'x', `--tree=dir=${tree}`, '--timestamp=2020-01-01T00:00:00Z', '-s', 'x'] },
    // checkout -H and fsck's pool jobs, over the commit made the same way in each directory
    {
      prepare: (d) => { newRepo(d); ok(ours([`--repo=${d}/repo`, 'commit', '-b', 'x', `--tree=dir=${tree}`])); },
      args: (d) => [`--repo=${d}/repo`, 'checkout', '-H', 'x', `${d}/co`],
      check: (d) => listing(`${d}/co`),
    },
    {
      prepare: (d) => { newRepo(d); ok(ours([`--repo=${d}/repo`, 'commit', '-b', 'x', `--tree=dir=${tree}`])); },
      args: (d) => [`--repo=${d}/repo`, 'fsck'],
    },
    // pull from a file:// remote: all of it, then (same command again) nothing new
    {
      prepare: (d) => { newRepo(d); ok(ours([`--repo=${d}/repo`, 'remote', 'add', '--no-gpg-verify', 'origin', `file://${repo}`])); },
      args: (d) => [`--repo=${d}/repo`, 'pull', 'origin', 'testos/stable'],
      check: (d) => ours([`--repo=${d}/repo`, 'fsck']).stdout,
    },
    {
      prepare: (d) => {
        newRepo(d);
        ok(ours([`--repo=${d}/repo`, 'remote', 'add', '--no-gpg-verify', 'origin', `file://${repo}`]));
        ok(ours([`--repo=${d}/repo`, 'pull', 'origin', 'testos/stable']));
      },
      args: (d) => [`--repo=${d}/repo`, 'pull', 'origin', 'testos/stable'],
    },
    { prepare: (d) => { newRepo(d); ok(ours([`--repo=${d}/repo`, 'remote', 'add', '--no-gpg-verify', 'o', 'file:///nowhere'])); }, args: (d) => [`--repo=${d}/repo`, 'remote', 'list', '-u'] },
    { args: () => ['admin', 'no-such-verb'] },
    { args: () => ['no-such-verb'] },
    { args: () => ['--version'] },
    { args: () => [] },
  ];
}

let caseDirs = 0;
function caseDir(): string {
  const d = path.join(scratch.dir, `case-${++caseDirs}`);
  fs.mkdirSync(d);
  return d;
}

for (const s of starts) {
  test(`${s.name}: same output, exit status and effect as main.js`, () => {
    for (const c of s.all ? cases() : cases().slice(0, 7)) {
      const dWant = caseDir();
      const dGot = caseDir();
      c.prepare?.(dWant);
      c.prepare?.(dGot);
      const want = ours(c.args(dWant), c.env);
      const got = s.run(c.args(dGot), c.env);
      const norm = (t: string, d: string): string => t.replaceAll(d, 'DIR');
      const what = `${s.name} ${c.args(dGot).join(' ')}`;
      assert.equal(norm(got.stderr, dGot), norm(want.stderr, dWant), what);
      assert.equal(norm(got.stdout, dGot), norm(want.stdout, dWant), what);
      assert.equal(got.status, want.status, what);
      if (c.check) assert.deepEqual(c.check(dGot), c.check(dWant), `${what}: effect`);
    }
    // The status really was listed (not two identical failures).
    assert.match(s.run(['admin', 'status', `--sysroot=${sysroot}`]).stdout, /^ {2}testos [0-9a-f]{64}\.0\n/);
  });
}

test('a code cache that does not fit is not used, and the command runs the same', () => {
  const dir = path.join(scratch.dir, 'cache-cases');
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  fs.cpSync(BUNDLE_DIR, path.join(dir, 'dist/bundle'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const launcher = path.join(dir, 'dist/bundle/ostree.cjs');
  const cacheFile = path.join(dir, 'dist/bundle/cli.cjs.cache');
  const good = fs.readFileSync(cacheFile);
  const nl = good.indexOf(10);
  const args = [`--repo=${path.join(sysroot, 'ostree/repo')}`, 'log', 'testos/stable'];
  const want = ours(args);
  const same = (what: string): void => {
    const r = run(process.execPath, [launcher], args);
    assert.deepEqual({ status: r.status, stderr: r.stderr, stdout: r.stdout }, { status: want.status, stderr: want.stderr, stdout: want.stdout }, what);
  };
  assert.equal(cacheUse(launcher), 'used', 'the copy');
  // made from another cli.cjs (its first line names another build): not offered to V8
  fs.writeFileSync(cacheFile, Buffer.concat([Buffer.from(`// ostree-ts-build ${'0'.repeat(64)}\n`), good.subarray(nl + 1)]));
  assert.equal(cacheUse(launcher), 'none', 'another build');
  same('another build');
  // the right build, but V8's data damaged (or of another Node): V8 rejects it
  const junk = Buffer.from(good);
  junk.fill(0x5a, nl + 1, nl + 1 + 64);
  fs.writeFileSync(cacheFile, junk);
  assert.equal(cacheUse(launcher), 'rejected', 'damaged');
  same('damaged');
  // a truncated file, an empty one, none at all
  fs.writeFileSync(cacheFile, good.subarray(0, nl + 100));
  assert.match(cacheUse(launcher), /^(rejected|none)$/, 'truncated');
  same('truncated');
  fs.writeFileSync(cacheFile, '');
  assert.equal(cacheUse(launcher), 'none', 'empty');
  same('empty');
  fs.rmSync(cacheFile);
  assert.equal(cacheUse(launcher), 'none', 'missing');
  same('missing');
});

test('bin/ostree runs main.js when the build made no bundle', () => {
  const co = path.join(scratch.dir, 'no-bundle');
  fs.mkdirSync(path.join(co, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(co, 'dist'), { recursive: true });
  fs.copyFileSync(BIN, path.join(co, 'bin/ostree'));
  fs.chmodSync(path.join(co, 'bin/ostree'), 0o755);
  fs.symlinkSync(path.join(ROOT, 'dist/src'), path.join(co, 'dist/src'));
  const args = ['admin', 'status', `--sysroot=${sysroot}`];
  const r = run(path.join(co, 'bin/ostree'), [], args);
  assert.deepEqual({ status: r.status, stderr: r.stderr, stdout: r.stdout }, { status: 0, stderr: '', stdout: ours(args).stdout });
});
