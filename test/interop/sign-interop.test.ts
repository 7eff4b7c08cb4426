/**
 * Signatures across the format boundary, upstream ostree 2022.7 as the oracle: GPG signatures
 * we make are good for upstream and upstream's are good for us; dummy signatures verify both
 * ways with byte-identical detached metadata; and pulls from remotes that demand signatures
 * refuse a signature over other bytes and a commit signed by an untrusted key, moving no ref.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

const UPSTREAM = UPSTREAM_CLI;
const OURS = OURS_CLI;
const TESTS = '/usr/libexec/installed-tests/libostree';
const KEY1 = '7FCA23D8472CDAFA';
const KEY2 = 'D8228CFECA950D41';
let work = '';
let gpghome = '';
let tree = '';

type Run = { code: number | null; stdout: string; stderr: string };
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, OSTREE_GPG_HOME: path.join(gpghome, 'trusted'), OSTREE_DUMMY_SIGN_ENABLED: '1', TZ: 'UTC', ...extra });
function up(args: string[], extra?: Record<string, string>): Run {
  const r = spawnSync(UPSTREAM, args, { encoding: 'utf8', env: env(extra) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ours(args: string[], extra?: Record<string, string>): Run {
  const r = spawnSync(process.execPath, [OURS, ...args], { encoding: 'utf8', env: env(extra), timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}
function commitmeta(repo: string, csum: string): string {
  return path.join(repo, 'objects', csum.slice(0, 2), `${csum.slice(2)}.commitmeta`);
}
function newRepo(name: string): string {
  const repo = path.join(work, name);
  ok(up(['init', `--repo=${repo}`, '--mode=archive']), 'init');
  return repo;
}
function refsOf(repo: string): string {
  try { return execFileSync('find', [path.join(repo, 'refs'), '-type', 'f'], { encoding: 'utf8' }); } catch { return ''; }
}

before(() => {
  work = tempDir('sign-interop-');
  gpghome = path.join(work, 'gpghome');
  execFileSync('cp', ['-a', path.join(TESTS, 'gpghome'), gpghome]);
  fs.chmodSync(gpghome, 0o700);
  tree = path.join(work, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'file'), 'content\n');
});

after(() => {
  spawnSync('gpgconf', ['--homedir', gpghome, '--kill', 'all']);
});

test('GPG: upstream verifies our signatures, we verify upstream\'s, with the same report', () => {
  const repo = newRepo('gpg');
  const mine = ok(ours(['commit', `--repo=${repo}`, '-b', 'a', `--tree=dir=${tree}`, '-s', 'ours', `--gpg-sign=${KEY1}`, `--gpg-homedir=${gpghome}`]), 'our commit').trim();
  const theirs = ok(up(['commit', `--repo=${repo}`, '-b', 'b', `--tree=dir=${tree}`, '-s', 'upstream', `--gpg-sign=${KEY1}`, `--gpg-homedir=${gpghome}`]), 'upstream commit').trim();
  for (const csum of [mine, theirs]) {
    const u = ok(up(['show', `--repo=${repo}`, csum]), 'upstream show');
    const o = ok(ours(['show', `--repo=${repo}`, csum]), 'our show');
    assert.match(u, /Found 1 signature:\n\n {2}Signature made .* using RSA key ID 7FCA23D8472CDAFA\n {2}Good signature from "Ostree Tester <test@test.com>"\n/);
    assert.equal(o, u, `show ${csum}`);
  }
  // a second key, then deleting the first: both sides agree on the count
  ok(ours(['gpg-sign', `--repo=${repo}`, `--gpg-homedir=${gpghome}`, mine, KEY2]), 'our gpg-sign');
  assert.match(ok(up(['show', `--repo=${repo}`, mine]), 'upstream show'), /Found 2 signatures/);
  assert.equal(ok(ours(['gpg-sign', `--repo=${repo}`, `--gpg-homedir=${gpghome}`, '--delete', mine, KEY1]), 'delete'), 'Signatures deleted: 1\n');
  assert.match(ok(up(['show', `--repo=${repo}`, mine]), 'upstream show'), /Found 1 signature:[^]*key ID D8228CFECA950D41/);
  const again = ours(['gpg-sign', `--repo=${repo}`, `--gpg-homedir=${gpghome}`, mine, KEY2]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /Commit is already signed with GPG key D8228CFECA950D41/);
});

test('dummy signatures: byte-identical detached metadata, verified both ways', () => {
  const a = newRepo('dummy-a');
  const csum = ok(up(['commit', `--repo=${a}`, '-b', 'main', `--tree=dir=${tree}`, '-s', 's', '--timestamp=2020-01-01T00:00:00Z',
    '--add-detached-metadata-string=note=kept']), 'commit').trim();
  const b = path.join(work, 'dummy-b');
  execFileSync('cp', ['-a', a, b]);
  ok(up(['sign', `--repo=${a}`, '--sign-type=dummy', csum, 'dummysign']), 'upstream sign');
  ok(ours(['sign', `--repo=${b}`, '--sign-type=dummy', csum, 'dummysign']), 'our sign');
  assert.deepEqual(fs.readFileSync(commitmeta(b, csum)), fs.readFileSync(commitmeta(a, csum)));
  assert.equal(ok(ours(['sign', `--repo=${a}`, '--sign-type=dummy', '--verify', csum, 'dummysign']), 'our verify'), 'dummy: Signature verified\n');
  assert.equal(ok(up(['sign', `--repo=${b}`, '--sign-type=dummy', '--verify', csum, 'dummysign']), 'upstream verify'), 'dummy: Signature verified\n');
  const wrong = ours(['sign', `--repo=${b}`, '--sign-type=dummy', '--verify', csum, 'other']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^error: No valid signatures found\n$/);
});

test('ed25519: commit --sign, sign --verify with the public key; another key is refused', () => {
  const repo = newRepo('ed');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const secret = Buffer.concat([seed, pub]).toString('base64');
  const csum = ok(ours(['commit', `--repo=${repo}`, '-b', 'main', `--tree=dir=${tree}`, `--sign=${secret}`, '--sign-type=ed25519']), 'commit').trim();
  assert.match(ok(ours(['sign', `--repo=${repo}`, '--verify', csum, pub.toString('base64')]), 'verify'), /^ed25519: Signature verified successfully with key '[0-9a-f]{64}'\n$/);
  const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  assert.equal(ours(['sign', `--repo=${repo}`, '--verify', csum, other]).code, 1);
  // upstream (built without libsodium) reads the signature as detached metadata of type aay
  assert.match(ok(up(['show', `--repo=${repo}`, csum, '--print-detached-metadata-key=ostree.sign.ed25519']), 'upstream show'), /^\[\[byte 0x/);
});

test('hostile pulls: a signature over other bytes and an untrusted key are refused, no ref moves', () => {
  const src = newRepo('src');
  const c1 = ok(up(['commit', `--repo=${src}`, '-b', 'one', `--tree=dir=${tree}`, '-s', 'one', `--gpg-sign=${KEY1}`, `--gpg-homedir=${gpghome}`]), 'c1').trim();
  const c2 = ok(up(['commit', `--repo=${src}`, '-b', 'two', `--tree=dir=${tree}`, '-s', 'two', '--orphan']), 'c2').trim();
  fs.copyFileSync(commitmeta(src, c1), commitmeta(src, c2)); // c1's signature, presented for c2
  const c3 = ok(up(['commit', `--repo=${src}`, '-b', 'three', `--tree=dir=${tree}`, '-s', 'three', `--gpg-sign=${KEY2}`, `--gpg-homedir=${gpghome}`]), 'c3').trim();
  const dest = newRepo('dest');
  ok(ours(['remote', 'add', `--repo=${dest}`, `--gpg-import=${path.join(gpghome, 'key1.asc')}`, 'origin', `file://${src}`]), 'remote add');
  const noGlobal = { OSTREE_GPG_HOME: path.join(work, 'no-keys') };
  const udest = newRepo('udest');
  ok(up(['remote', 'add', `--repo=${udest}`, `--gpg-import=${path.join(gpghome, 'key1.asc')}`, 'origin', `file://${src}`]), 'upstream remote add');
  ok(ours(['pull', `--repo=${dest}`, 'origin', 'one'], noGlobal), 'pull one');
  const before = refsOf(dest);
  for (const [ref, csum, why] of [['two', c2, /\nBAD signature from "Ostree Tester <test@test.com>"\n/], ['three', c3, /\nCan't check signature: public key not found\n/]] as const) {
    const o = ours(['pull', `--repo=${dest}`, 'origin', ref], noGlobal);
    const u = up(['pull', `--repo=${udest}`, 'origin', ref], noGlobal);
    assert.equal(o.code, 1);
    assert.equal(u.code, 1);
    assert.match(o.stderr, new RegExp(`^error: Commit ${csum}: Signature made `));
    assert.match(o.stderr, why);
    assert.equal(o.stderr, u.stderr, `the same refusal as upstream for ${ref}`);
  }
  assert.equal(refsOf(dest), before);
  assert.equal(fs.existsSync(path.join(dest, 'objects', c2.slice(0, 2), `${c2.slice(2)}.commit`)), false);
});
