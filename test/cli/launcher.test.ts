/**
 * The bundled launcher (src/cli/launcher.ts, built by tools/build-cli.mjs into dist/bundle/) and
 * bin/ostree: each way of starting the CLI (the V8 snapshot, the bundle, the compiled main.js)
 * prints the same as main.js for a plain `admin status` (text, JSON, errors) and for commands the
 * launcher hands on to main.js (a repository verb, usage errors, --version, `admin status -v`).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpfsScratch, newSysroot, ours, ok, type Scratch, type RunResult } from '../common/sysroot-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE = path.join(ROOT, 'dist/bundle/ostree.cjs');
const BLOB = path.join(ROOT, 'dist/bundle/ostree.blob');
const BIN = path.join(ROOT, 'bin/ostree');

function run(argv0: string, pre: string[], args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(argv0, [...pre, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The ways to start the CLI besides `node dist/src/cli/main.js` (which `ours` runs). */
const starts: Array<{ name: string; run: (args: string[], env?: Record<string, string>) => RunResult }> = [
  { name: 'bundle', run: (a, e) => run(process.execPath, [BUNDLE], a, e) },
  { name: 'snapshot', run: (a, e) => run(process.execPath, ['--snapshot-blob', BLOB, BUNDLE], a, e) },
  { name: 'bin/ostree', run: (a, e) => run(BIN, [], a, e) },
];

let scratch: Scratch;
let sysroot = '';
before(async () => {
  scratch = tmpfsScratch('ostree-ts-launcher-');
  ({ sysroot } = await newSysroot(scratch.dir));
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', 'testos/stable']));
});
after(() => { scratch.cleanup(); });

test('make build made the bundle and the snapshot', () => {
  for (const f of [BUNDLE, BLOB, path.join(ROOT, 'dist/bundle/import.cjs'), path.join(ROOT, 'dist/bundle/ostree.blob.id')]) {
    assert.ok(fs.existsSync(f), `${f} is missing`);
  }
});

for (const s of starts) {
  test(`${s.name}: same output and exit status as main.js`, () => {
    const missing = path.join(scratch.dir, 'nope');
    const repo = path.join(sysroot, 'ostree/repo');
    const cases: Array<{ args: string[]; env?: Record<string, string> }> = [
      { args: ['admin', 'status', `--sysroot=${sysroot}`] },
      { args: ['admin', 'status', '--json', `--sysroot=${sysroot}`] },
      { args: ['admin', 'status'], env: { OSTREE_SYSROOT: sysroot } },
      { args: ['admin', 'status', `--sysroot=${missing}`] },
      { args: ['admin', 'status', '-v', `--sysroot=${sysroot}`] },
      { args: [`--repo=${repo}`, 'refs'] },
      { args: [`--repo=${repo}`, 'log', 'testos/stable'] },
      { args: ['admin', 'no-such-verb'] },
      { args: ['--version'] },
      { args: [] },
    ];
    for (const c of cases) {
      const want = ours(c.args, c.env);
      const got = s.run(c.args, c.env);
      const what = `${s.name} ${c.args.join(' ')}`;
      assert.equal(got.stderr, want.stderr, what);
      assert.equal(got.stdout, want.stdout, what);
      assert.equal(got.status, want.status, what);
    }
    // The status really was listed (not two identical failures).
    assert.match(s.run(['admin', 'status', `--sysroot=${sysroot}`]).stdout, /^ {2}testos [0-9a-f]{64}\.0\n/);
  });
}

test('bin/ostree falls back to the bundle when the snapshot would be refused', () => {
  // V8 flags in NODE_OPTIONS make Node refuse a snapshot (exit 14); the launcher must not use it.
  const r = run(BIN, [], ['admin', 'status', `--sysroot=${sysroot}`], { NODE_OPTIONS: '--max-old-space-size=200' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ {2}testos [0-9a-f]{64}\.0\n/);
});

test('bin/ostree uses the snapshot only with the Node binary that built it, once Node accepted it', () => {
  // A checkout whose blob was built by another Node binary (recorded in ostree.blob.id): loading
  // it would fail with exit 14, so bin/ostree must take the bundle; a junk blob proves which.
  const co = path.join(scratch.dir, 'checkout');
  fs.mkdirSync(path.join(co, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(co, 'dist/bundle'), { recursive: true });
  fs.copyFileSync(BIN, path.join(co, 'bin/ostree'));
  fs.symlinkSync(path.join(ROOT, 'dist/src'), path.join(co, 'dist/src'));
  for (const f of ['ostree.cjs', 'import.cjs']) fs.copyFileSync(path.join(ROOT, 'dist/bundle', f), path.join(co, 'dist/bundle', f));
  fs.writeFileSync(path.join(co, 'dist/bundle/ostree.blob'), 'not a snapshot\n');
  const args = ['admin', 'status', `--sysroot=${sysroot}`];
  const want = ours(args).stdout;
  for (const id of [`${process.execPath} 1 1`, '/nonexistent/node 1 1', '']) {
    fs.writeFileSync(path.join(co, 'dist/bundle/ostree.blob.id'), `${id}\n`);
    const r = run(path.join(co, 'bin/ostree'), [], args);
    assert.deepEqual({ status: r.status, stderr: r.stderr, stdout: r.stdout }, { status: 0, stderr: '', stdout: want }, id);
  }
  // With the right identity, the probe finds that Node refuses the junk blob: still the bundle.
  const st = fs.statSync(process.execPath);
  const id = `${st.size} ${Math.floor(st.mtimeMs / 1000)}`;
  fs.writeFileSync(path.join(co, 'dist/bundle/ostree.blob.id'), `${process.execPath} ${id}\n`);
  const r = run(path.join(co, 'bin/ostree'), [], args);
  assert.deepEqual({ status: r.status, stderr: r.stderr, stdout: r.stdout }, { status: 0, stderr: '', stdout: want }, 'probe');
  assert.ok(!fs.existsSync(path.join(co, 'dist/bundle/ostree.blob.ok')), 'a refused blob is not marked accepted');
  // A blob marked accepted in this boot is used without asking again (here: the junk one fails).
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  fs.writeFileSync(path.join(co, 'dist/bundle/ostree.blob.ok'), `${boot} ${id}\n`);
  assert.notEqual(run(path.join(co, 'bin/ostree'), [], args).status, 0);
  // The real blob passes the probe and is marked.
  fs.copyFileSync(BLOB, path.join(co, 'dist/bundle/ostree.blob'));
  fs.rmSync(path.join(co, 'dist/bundle/ostree.blob.ok'));
  assert.equal(run(path.join(co, 'bin/ostree'), [], args).stdout, want);
  assert.equal(fs.readFileSync(path.join(co, 'dist/bundle/ostree.blob.ok'), 'utf8'), `${boot} ${id}\n`);
});
