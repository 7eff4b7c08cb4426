/**
 * HTTP pulls against upstream ostree 2022.7 as the oracle, over a static file server on
 * 127.0.0.1: upstream `ostree pull` from an archive repo WE wrote, our `ostree pull` from an
 * archive repo UPSTREAM wrote (with and without a summary), both checked with upstream's fsck,
 * same objects and same object counts as upstream's own pull, same `remote refs`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

const UPSTREAM = UPSTREAM_CLI;
const OURS = OURS_CLI;
const MODES = ['bare', 'bare-user', 'bare-user-only', 'archive'];
let work = '';
let server: http.Server | null = null;
let base = '';
const log: string[] = [];

interface Res { code: number | null; stdout: string; stderr: string }

/** Async runner: the HTTP server lives in this process, so spawnSync would deadlock it. */
function run(cmd: string, args: string[]): Promise<Res> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    const timer = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
const up = (...args: string[]): Promise<Res> => run(UPSTREAM, args);
const ours = (...args: string[]): Promise<Res> => run(process.execPath, [OURS, ...args]);
function ok(r: Res, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function objects(repo: string): string[] {
  const out: string[] = [];
  for (const sub of fs.readdirSync(path.join(repo, 'objects'))) {
    for (const f of fs.readdirSync(path.join(repo, 'objects', sub))) out.push(`${sub}/${f}`);
  }
  return out.sort();
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(root, p)} ${(st.mode & 0o177777).toString(8)}${e.isSymbolicLink() ? ` -> ${fs.readlinkSync(p)}` : e.isFile() ? ` ${fs.readFileSync(p).toString('base64').slice(0, 40)}` : ''}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** The counts of upstream's final pull line ("N metadata, M content objects fetched"). */
function counts(line: string): string {
  const m = /^(\d+ metadata, \d+ content objects fetched)(; \d+ (?:B|KiB) transferred in \d+ seconds)?; (.*) content written\n$/.exec(line);
  assert.ok(m, `unexpected pull output ${JSON.stringify(line)}`);
  return `${m[1]}; ${m[3]}`;
}

before(async () => {
  work = tempDir('pullhttp-interop-');
  server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    log.push(p);
    const file = path.join(work, 'www', p);
    if (!file.startsWith(path.join(work, 'www') + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const data = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Length': data.length }).end(data);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fs.mkdirSync(path.join(work, 'www'));

  // A tree with some variety: nested dirs, modes, a symlink, an empty file, a bigger file.
  const t = path.join(work, 'tree');
  fs.mkdirSync(path.join(t, 'usr/lib/mods'), { recursive: true });
  fs.mkdirSync(path.join(t, 'usr/etc'), { recursive: true });
  for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(t, 'usr/lib/mods', `m${i}`), `module ${i}\n`.repeat(i * 40 + 1));
  fs.writeFileSync(path.join(t, 'usr/etc/conf'), 'x=1\n', { mode: 0o600 });
  fs.writeFileSync(path.join(t, 'usr/empty'), '');
  fs.writeFileSync(path.join(t, 'usr/big'), Buffer.alloc(2 * 1024 * 1024, 'ab'));
  fs.writeFileSync(path.join(t, 'usr/tool'), '#!/bin/sh\n', { mode: 0o755 });
  fs.symlinkSync('usr/tool', path.join(t, 'tool'));
  for (const who of ['ours', 'up']) {
    const repo = path.join(work, 'www', who);
    const cli = who === 'ours' ? ours : up;
    ok(await cli(`--repo=${repo}`, 'init', '--mode=archive'), `${who} init`);
    ok(await cli(`--repo=${repo}`, 'commit', '-b', 'os/main', '-s', 'one', '--timestamp=2020-01-01T00:00:00Z', t), `${who} commit`);
    fs.writeFileSync(path.join(t, 'usr/second'), 'second\n');
    ok(await cli(`--repo=${repo}`, 'commit', '-b', 'os/main', '-s', 'two', '--timestamp=2020-01-02T00:00:00Z', t), `${who} commit 2`);
    ok(await cli(`--repo=${repo}`, 'commit', '-b', 'os/other', '-s', 'other', '--timestamp=2020-01-03T00:00:00Z', t), `${who} commit 3`);
    fs.rmSync(path.join(t, 'usr/second'));
  }
});

after(async () => {
  if (server) { server.closeAllConnections(); await new Promise((r) => server!.close(r)); }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function initDest(cli: (...a: string[]) => Promise<Res>, name: string, mode: string, served: string): Promise<string> {
  const dest = path.join(work, name);
  ok(await cli(`--repo=${dest}`, 'init', `--mode=${mode}`), 'init');
  ok(await cli(`--repo=${dest}`, 'remote', 'add', '--no-gpg-verify', 'origin', `${base}/${served}`), 'remote add');
  return dest;
}

test('upstream ostree pull from an archive repo we wrote: every mode, upstream fsck clean, same checkout', async () => {
  const expected = listTree(path.join(work, 'tree'));
  for (const mode of MODES) {
    const dest = await initDest(up, `up-from-ours-${mode}`, mode, 'ours');
    const out = ok(await up(`--repo=${dest}`, 'pull', '--depth=-1', 'origin', 'os/main', 'os/other'), `upstream pull into ${mode}`);
    counts(out);
    ok(await up(`--repo=${dest}`, 'fsck'), `upstream fsck of ${mode}`);
    assert.equal(ok(await up(`--repo=${dest}`, 'rev-parse', 'origin:os/main'), 'rev-parse'), ok(await ours(`--repo=${path.join(work, 'www/ours')}`, 'rev-parse', 'os/main'), 'our rev-parse'));
    const co = path.join(work, `co-up-from-ours-${mode}`);
    ok(await up(`--repo=${dest}`, 'checkout', ...(mode === 'bare' ? [] : ['-U']), 'origin:os/main^', co), 'upstream checkout');
    if (mode === 'bare') assert.deepEqual(listTree(co), expected);
    else assert.equal(listTree(co).length, expected.length);
  }
});

for (const withSummary of [false, true]) {
  test(`our ostree pull from an archive repo upstream wrote (${withSummary ? 'with' : 'without'} a summary): every mode, upstream fsck clean, same objects and counts as upstream's pull`, async () => {
    const served = path.join(work, 'www/up');
    if (withSummary) ok(await up(`--repo=${served}`, 'summary', '-u'), 'upstream summary -u');
    else fs.rmSync(path.join(served, 'summary'), { force: true });
    for (const mode of MODES) {
      const tag = `${mode}-${withSummary ? 's' : 'n'}`;
      const mine = await initDest(ours, `ours-from-up-${tag}`, mode, 'up');
      const theirs = await initDest(up, `up-from-up-${tag}`, mode, 'up');
      const a = ok(await ours(`--repo=${mine}`, 'pull', 'origin', 'os/main'), `our pull into ${mode}`);
      const b = ok(await up(`--repo=${theirs}`, 'pull', 'origin', 'os/main'), `upstream pull into ${mode}`);
      assert.equal(counts(a), counts(b), `pull output into ${mode}`);
      // deeper, then the other branch
      const a2 = ok(await ours(`--repo=${mine}`, 'pull', '--depth=-1', 'origin', 'os/main', 'os/other'), 'our deep pull');
      const b2 = ok(await up(`--repo=${theirs}`, 'pull', '--depth=-1', 'origin', 'os/main', 'os/other'), 'upstream deep pull');
      assert.equal(counts(a2).replace(/; .*/, ''), counts(b2).replace(/; .*/, ''), `deep pull counts into ${mode}`);
      ok(await up(`--repo=${mine}`, 'fsck'), `upstream fsck of our ${mode} pull`);
      assert.deepEqual(objects(mine), objects(theirs));
      assert.equal(ok(await up(`--repo=${mine}`, 'refs'), 'refs'), ok(await up(`--repo=${theirs}`, 'refs'), 'refs'));
      assert.deepEqual(fs.readdirSync(path.join(mine, 'state')), []);
      // nothing left to fetch: same line as upstream
      const a3 = ok(await ours(`--repo=${mine}`, 'pull', 'origin', 'os/main'), 'our no-op pull');
      const b3 = ok(await up(`--repo=${theirs}`, 'pull', 'origin', 'os/main'), 'upstream no-op pull');
      assert.equal(counts(a3), counts(b3));
    }
    if (withSummary) {
      const dest = path.join(work, 'ours-from-up-bare-s');
      assert.equal(ok(await ours(`--repo=${dest}`, 'remote', 'refs', 'origin'), 'our remote refs'), ok(await up(`--repo=${dest}`, 'remote', 'refs', 'origin'), 'upstream remote refs'));
      assert.equal(ok(await ours(`--repo=${dest}`, 'remote', 'refs', 'origin'), 'our remote refs'), 'origin:os/main\norigin:os/other\n');
      for (const raw of [[], ['--raw']]) {
        assert.equal(ok(await ours(`--repo=${dest}`, 'remote', 'summary', ...raw, 'origin'), 'our remote summary'), ok(await up(`--repo=${dest}`, 'remote', 'summary', ...raw, 'origin'), 'upstream remote summary'));
      }
    } else {
      const dest = path.join(work, 'ours-from-up-bare-n');
      const a = await ours(`--repo=${dest}`, 'remote', 'refs', 'origin');
      const b = await up(`--repo=${dest}`, 'remote', 'refs', 'origin');
      assert.equal(a.code, 1); assert.equal(b.code, 1);
      assert.match(a.stderr, /^error: Remote refs not available; server has no summary file/);
      assert.equal(b.stderr, 'error: Remote refs not available; server has no summary file\n');
    }
  });
}

test('an object missing on the server: both implementations fail and leave no ref; ours names the object and leaves the commit partial, which upstream completes', async () => {
  const served = path.join(work, 'www/ours');
  const head = ok(await ours(`--repo=${served}`, 'rev-parse', 'os/main'), 'rev-parse').trim();
  // the object of usr/second (only in commit 2)
  const ls = ok(await ours(`--repo=${served}`, 'ls', '-C', 'os/main', '/usr/second'), 'ls -C');
  const victim = /([0-9a-f]{64}) \/usr\/second$/m.exec(ls)![1]!;
  const f = path.join(served, 'objects', victim.slice(0, 2), `${victim.slice(2)}.filez`);
  fs.renameSync(f, `${f}.away`);
  try {
    const mine = await initDest(ours, 'ours-missing', 'bare-user', 'ours');
    const theirs = await initDest(up, 'up-missing', 'bare-user', 'ours');
    const a = await ours(`--repo=${mine}`, 'pull', 'origin', 'os/main');
    const b = await up(`--repo=${theirs}`, 'pull', 'origin', 'os/main');
    assert.equal(a.code, 1); assert.equal(b.code, 1);
    assert.match(b.stderr, /Server returned HTTP 404/);
    assert.match(a.stderr, new RegExp(`^error: Server returned HTTP 404 while fetching object ${victim}\\.file \\(`));
    for (const d of [mine, theirs]) {
      assert.equal(fs.existsSync(path.join(d, 'refs/remotes/origin/os/main')), false);
      assert.deepEqual(fs.readdirSync(path.join(d, 'state')), [`${head}.commitpartial`]);
    }
    fs.renameSync(`${f}.away`, f);
    // upstream completes the partial commit we left, and the reverse
    ok(await up(`--repo=${mine}`, 'pull', 'origin', 'os/main'), 'upstream pull completing ours');
    ok(await ours(`--repo=${theirs}`, 'pull', 'origin', 'os/main'), 'our pull completing upstream\'s');
    for (const d of [mine, theirs]) {
      ok(await up(`--repo=${d}`, 'fsck'), 'upstream fsck');
      assert.deepEqual(fs.readdirSync(path.join(d, 'state')), []);
    }
  } finally {
    if (fs.existsSync(`${f}.away`)) fs.renameSync(`${f}.away`, f);
  }
});

test('--commit-metadata-only, then a full pull, then a pull by checksum: same counts and state as upstream', async () => {
  fs.rmSync(path.join(work, 'www/up/summary'), { force: true });
  const mine = await initDest(ours, 'cm-ours', 'bare-user', 'up');
  const theirs = await initDest(up, 'cm-up', 'bare-user', 'up');
  const parent = ok(await up(`--repo=${path.join(work, 'www/up')}`, 'rev-parse', 'os/main^'), 'rev-parse').trim();
  for (const args of [['--commit-metadata-only', '--depth=-1', 'origin', 'os/main'], ['origin', 'os/main'], ['origin', parent]]) {
    const a = ok(await ours(`--repo=${mine}`, 'pull', ...args), `our pull ${args.join(' ')}`);
    const b = ok(await up(`--repo=${theirs}`, 'pull', ...args), `upstream pull ${args.join(' ')}`);
    assert.equal(counts(a), counts(b), args.join(' '));
    assert.deepEqual(fs.readdirSync(path.join(mine, 'state')).sort(), fs.readdirSync(path.join(theirs, 'state')).sort(), args.join(' '));
  }
  assert.deepEqual(objects(mine), objects(theirs));
  ok(await up(`--repo=${mine}`, 'fsck'), 'upstream fsck');
});

test('--mirror: every ref of the summary as local refs, summary copied; without a summary both refuse', async () => {
  const served = path.join(work, 'www/up');
  ok(await up(`--repo=${served}`, 'summary', '-u'), 'upstream summary -u');
  const mine = await initDest(ours, 'mirror-ours', 'archive', 'up');
  const theirs = await initDest(up, 'mirror-up', 'archive', 'up');
  const a = ok(await ours(`--repo=${mine}`, 'pull', '--mirror', 'origin'), 'our mirror pull');
  const b = ok(await up(`--repo=${theirs}`, 'pull', '--mirror', 'origin'), 'upstream mirror pull');
  assert.equal(counts(a), counts(b));
  assert.equal(ok(await up(`--repo=${mine}`, 'refs'), 'refs'), ok(await up(`--repo=${theirs}`, 'refs'), 'refs'));
  assert.deepEqual(ok(await up(`--repo=${mine}`, 'refs'), 'refs').split('\n').filter(Boolean).sort(), ['os/main', 'os/other']);
  assert.deepEqual(fs.readFileSync(path.join(mine, 'summary')), fs.readFileSync(path.join(served, 'summary')));
  assert.deepEqual(objects(mine).filter((o) => o !== 'summary'), objects(theirs));
  ok(await up(`--repo=${mine}`, 'fsck'), 'upstream fsck of our mirror');
  fs.rmSync(path.join(served, 'summary'));
  const m2 = await initDest(ours, 'mirror-ours-2', 'archive', 'up');
  const u2 = await initDest(up, 'mirror-up-2', 'archive', 'up');
  const a2 = await ours(`--repo=${m2}`, 'pull', '--mirror', 'origin');
  const b2 = await up(`--repo=${u2}`, 'pull', '--mirror', 'origin');
  assert.equal(a2.code, 1); assert.equal(b2.code, 1);
  assert.match(b2.stderr, /Fetching all refs was requested in mirror mode, but remote repository does not have a summary/);
  assert.match(a2.stderr, /^error: Fetching all refs was requested in mirror mode, but remote repository does not have a summary/);
  // with a ref named, no summary is needed
  ok(await ours(`--repo=${m2}`, 'pull', '--mirror', 'origin', 'os/main'), 'our mirror pull of one ref');
  assert.equal(ok(await up(`--repo=${m2}`, 'refs'), 'refs'), 'os/main\n');
});
