/**
 * `ostree admin upgrade` (which pulls by default) / `switch` from an HTTP remote, on a tmpfs sysroot.
 * The archive repo is served by a static file server in a child process on 127.0.0.1 (our CLI
 * runs synchronously in the tests, so the server can't live in this process).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  tmpfsScratch, newSysroot, ours, upstream, ok, commitTree, makeTree, readEntries, checkBootConfigComplete, type Scratch,
} from '../common/sysroot-helpers.js';
import { Repo } from '../../src/repo/repo.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';

let scratch: Scratch;
let www = '';
let server: ChildProcess | null = null;
let base = '';
let n = 0;
const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

const SERVER = `
import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
const root = process.argv[1];
const s = http.createServer((req, res) => {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const f = path.join(root, p);
  if (!f.startsWith(root + path.sep) || !fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404).end(); return; }
  const d = fs.readFileSync(f); res.writeHead(200, { 'Content-Length': d.length }).end(d);
});
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
setTimeout(() => process.exit(0), 15 * 60 * 1000).unref();
`;

before(async () => {
  scratch = tmpfsScratch();
  www = path.join(scratch.dir, 'www');
  fs.mkdirSync(www);
  server = spawn(process.execPath, ['--input-type=module', '-e', SERVER, www], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    let buf = '';
    server!.stdout!.on('data', (b: Buffer) => { buf += b.toString(); if (buf.includes('\n')) resolve(buf.trim()); });
    server!.on('exit', (c) => reject(new Error(`server exited (${c})`)));
    setTimeout(() => reject(new Error('server did not start')), 10_000);
  });
  base = `http://127.0.0.1:${port}`;
});

after(() => {
  server?.kill('SIGTERM');
  scratch.cleanup();
});

function root(): string {
  const d = path.join(scratch.dir, `t${++n}`);
  fs.mkdirSync(d);
  return d;
}

const sr = (s: string): string => `--sysroot=${s}`;

/** A sysroot and a served archive repo (www/NAME) with testos/stable at version 10. */
async function setup(name: string, remoteOpts: string[] = ['--no-gpg-verify']): Promise<{ sysroot: string; tree: string; served: string; c1: string; repoArg: string }> {
  const r = root();
  const { sysroot, tree } = await newSysroot(r);
  const served = path.join(www, name);
  await Repo.create(served, 'archive');
  const c1 = await commitTree(served, tree, 'testos/stable', '10');
  const repoArg = `--repo=${path.join(sysroot, 'ostree/repo')}`;
  ok(ours([repoArg, 'remote', 'add', ...remoteOpts, 'web', `${base}/${name}`, 'testos/stable']), 'remote add');
  return { sysroot, tree, served, c1, repoArg };
}

test('deploy from an HTTP remote, then upgrade (pulls by default): new deployment, BLS entries, fsck clean, upstream status parity', async () => {
  const { sysroot, tree, served, c1, repoArg } = await setup('os1');
  const pulled = ok(ours([repoArg, 'pull', 'web']), 'pull');
  assert.match(pulled.stdout, /^\d+ metadata, \d+ content objects fetched; \d+ (B|KiB) transferred in \d+ seconds; .* content written\n$/);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=ROOT', 'web:testos/stable'], MUT), 'deploy');
  // nothing new on the server
  assert.equal(ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull'], MUT)).stdout, 'No update available.\n');
  makeTree(tree, { kernel: 'kernel two\n', etc: { aconf: 'v2\n', newconf: 'n\n' } });
  const c2 = await commitTree(served, tree, 'testos/stable', '11');
  // --deploy-only does not fetch: the new commit is not seen
  assert.equal(ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--deploy-only'], MUT)).stdout, 'No update available.\n');
  // pulling is the default (--pull is still accepted)
  const up = ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], MUT), 'upgrade');
  assert.match(up.stdout, /bootconfig swap: yes; bootversion: boot\.0\.1, deployment count change: 1$/m);
  const s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [c2, c1]);
  assert.equal(s.deployments[0]!.refspec, 'web:testos/stable');
  assert.equal(fs.readFileSync(path.join(sysroot, 'ostree/repo/refs/remotes/web/testos/stable'), 'utf8'), `${c2}\n`);
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
  const entries = Object.values(readEntries(sysroot));
  assert.equal(entries.length, 2);
  assert.ok(entries.some((e) => /^version 2$/m.test(e) && e.includes('11')), entries.join('\n---\n'));
  assert.deepEqual(fs.readdirSync(path.join(sysroot, 'ostree/repo/state')), []);
  ok(upstream([repoArg, 'fsck']), 'upstream fsck of the sysroot repo');
  assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, ok(ours(['admin', 'status', sr(sysroot)])).stdout);
});

test('upgrade --pull with an object missing on the server fails naming it and changes nothing; it succeeds once the object is back', async () => {
  const { sysroot, tree, served, c1, repoArg } = await setup('os2');
  ok(ours([repoArg, 'pull', 'web']), 'pull');
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'web:testos/stable'], MUT), 'deploy');
  const before = readEntries(sysroot);
  makeTree(tree, { kernel: 'kernel three\n' });
  const c2 = await commitTree(served, tree, 'testos/stable', '12');
  const repo = await Repo.open(served);
  const kernelObj = repo.lookupPathSync(c2, '/usr/lib/modules/6.1.0/vmlinuz');
  assert.equal(kernelObj.kind, 'file');
  const csum = (kernelObj as { checksum: string }).checksum;
  const f = path.join(served, 'objects', csum.slice(0, 2), `${csum.slice(2)}.filez`);
  fs.renameSync(f, `${f}.away`);
  const res = ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull'], MUT);
  assert.equal(res.status, 1);
  assert.match(res.stderr, new RegExp(`^error: Server returned HTTP 404 while fetching object ${csum}\\.file \\(${base.replace(/\./g, '\\.')}/os2/objects/`));
  const s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [c1]);
  assert.deepEqual(readEntries(sysroot), before);
  assert.equal(fs.readFileSync(path.join(sysroot, 'ostree/repo/refs/remotes/web/testos/stable'), 'utf8'), `${c1}\n`, 'ref not moved');
  assert.deepEqual(fs.readdirSync(path.join(sysroot, 'ostree/repo/state')), [`${c2}.commitpartial`]);
  fs.renameSync(`${f}.away`, f);
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull'], MUT), 'upgrade --pull after repair');
  const s2 = await Sysroot.open(sysroot); await s2.load();
  assert.deepEqual(s2.deployments.map((d) => d.csum), [c2, c1]);
  assert.deepEqual(fs.readdirSync(path.join(sysroot, 'ostree/repo/state')), []);
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
  ok(upstream([repoArg, 'fsck']), 'upstream fsck');
});

test('a remote with gpg-verify (the default) refuses an unsigned commit on upgrade; upgrade and switch pull once it is off', async () => {
  const { sysroot, tree, served, c1, repoArg } = await setup('os3', []);
  let res = ours([repoArg, 'pull', 'web']);
  assert.equal(res.status, 1);
  // GPG verification is on by default: an unsigned commit is refused with upstream's words
  assert.match(res.stderr, /^error: Commit [0-9a-f]{64}: GPG verification enabled, but no signatures found \(use gpg-verify=false in remote config to disable\)/);
  // upstream reads no remotes.d for a sysroot that is not booted: the remote lives in the
  // repo config, and its gpg-verify is switched there
  const gpg = (on: boolean): void => { ok(ours([repoArg, 'config', 'set', 'remote "web".gpg-verify', String(on)]), 'config set'); };
  gpg(false);
  ok(ours([repoArg, 'pull', 'web', 'testos/stable']), 'pull without gpg');
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'web:testos/stable'], MUT), 'deploy');
  // the remote now demands gpg: upgrade refuses before touching anything
  gpg(true);
  makeTree(tree, { kernel: 'kernel four\n' });
  const c2 = await commitTree(served, tree, 'testos/stable', '13');
  res = ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], MUT);
  assert.equal(res.status, 1);
  assert.match(res.stderr, /^error: Commit [0-9a-f]{64}: GPG verification enabled, but no signatures found \(use gpg-verify=false in remote config to disable\)/);
  let s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [c1]);
  gpg(false);
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull'], MUT), 'upgrade --pull');
  // switch to another branch published on the same server
  const c3 = await commitTree(served, tree, 'testos/devel', '14');
  const sw = ok(ours(['admin', 'switch', sr(sysroot), '--os=testos', '--pull', 'testos/devel'], MUT), 'switch --pull');
  assert.match(sw.stdout, /^Deleting ref 'web:testos\/stable'$/m);
  s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [c3, c2]);
  assert.equal(s.deployments[0]!.refspec, 'web:testos/devel');
  // switch to a ref already pulled
  const c4 = await commitTree(served, tree, 'testos/lts', '15');
  ok(ours([repoArg, 'pull', 'web', 'testos/lts']), 'pull lts');
  ok(ours(['admin', 'switch', sr(sysroot), '--os=testos', 'testos/lts'], MUT), 'switch without --pull');
  s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments[0]!.csum, c4);
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
  ok(upstream([repoArg, 'fsck']), 'upstream fsck');
});

test('upgrade --pull refuses an older commit before moving the ref (as upstream), --allow-downgrade and --override-commit pull it', async () => {
  const { sysroot, tree, served, c1, repoArg } = await setup('os4');
  ok(ours([repoArg, 'pull', 'web']), 'pull');
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'web:testos/stable'], MUT), 'deploy');
  // the server's ref goes back in time
  makeTree(tree, { kernel: 'kernel old\n' });
  const old = await commitTree(served, tree, 'testos/stable', '9', 1_000_000_000n);
  const res = ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull'], MUT);
  assert.equal(res.status, 1);
  assert.match(res.stderr, new RegExp(`^error: Upgrade target revision '${old}' with timestamp 'Sun Sep  9 01:46:40 2001' is chronologically older than current revision '${c1}' with timestamp '.*'; use --allow-downgrade to permit\\n$`));
  const refFile = path.join(sysroot, 'ostree/repo/refs/remotes/web/testos/stable');
  assert.equal(fs.readFileSync(refFile, 'utf8'), `${c1}\n`, 'ref not moved');
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull', '--allow-downgrade'], MUT), 'upgrade --allow-downgrade');
  let s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [old, c1]);
  // --override-commit of a commit the sysroot never pulled (the server's history has it)
  makeTree(tree, { kernel: 'kernel new\n' });
  const c3 = await commitTree(served, tree, 'testos/stable', '15');
  const c4 = await commitTree(served, tree, 'testos/stable', '16');
  const sysRepo = await Repo.open(path.join(sysroot, 'ostree/repo'));
  assert.equal(sysRepo.hasObjectSync(c3, 'commit'), false);
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull', `--override-commit=${c3}`], MUT), 'upgrade --override-commit');
  s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments[0]!.csum, c3);
  assert.equal(fs.readFileSync(refFile, 'utf8'), `${c3}\n`, 'the remote ref points at the override commit, as upstream');
  assert.notEqual(c3, c4);
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
  ok(upstream([repoArg, 'fsck']), 'upstream fsck');
});
