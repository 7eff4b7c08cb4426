/**
 * Pull features against upstream ostree 2022.7 as the oracle, served by upstream's own
 * trivial-httpd (the server its test scripts use): cookie jars written by either side and
 * honoured by the other (trivial-httpd --expected-cookies), a --subpath pull of ours that
 * upstream's fsck sees as one partial commit, and a resumed pull against
 * --force-range-requests (which cuts every object response in half).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

const UPSTREAM = UPSTREAM_CLI;
/** Upstream's test server (package ostree); --autoexit ends it when the served directory goes. */
const TRIVIAL_HTTPD = '/usr/libexec/libostree/ostree-trivial-httpd';
const OURS = OURS_CLI;


interface Res { code: number | null; stdout: string; stderr: string }
function run(cmd: string, args: string[], cwd?: string): Res {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...(cwd ? { cwd } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const up = (...args: string[]): Res => run(UPSTREAM, args);
const ours = (...args: string[]): Res => run(process.execPath, [OURS, ...args]);
function ok(r: Res, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** An archive repo made by upstream (three files in two directories), served by trivial-httpd with `httpdArgs`. */
function served(work: string, httpdArgs: string[]): { url: string; repo: string } {
  const repo = path.join(work, 'srv/repo');
  fs.mkdirSync(repo, { recursive: true });
  ok(up(`--repo=${repo}`, 'init', '--mode=archive'), 'init');
  const tree = path.join(work, 'tree');
  fs.mkdirSync(path.join(tree, 'baz/deeper'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'firstfile'), 'first\n');
  fs.writeFileSync(path.join(tree, 'baz/cow'), 'moo\n');
  fs.writeFileSync(path.join(tree, 'baz/deeper/ohyeah'), 'hi\n');
  ok(up(`--repo=${repo}`, 'commit', '-b', 'main', `--tree=dir=${tree}`), 'commit');
  ok(up(`--repo=${repo}`, 'summary', '-u'), 'summary');
  const portFile = path.join(work, 'port');
  ok(run(TRIVIAL_HTTPD, ['--autoexit', '--daemonize', '-p', portFile, ...httpdArgs, path.join(work, 'srv')]), 'trivial-httpd');

  return { url: `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}/repo`, repo };
}

function dest(work: string, name: string, url: string, mode = 'bare-user'): string {
  const d = path.join(work, name);
  ok(up(`--repo=${d}`, 'init', `--mode=${mode}`), 'init dest');
  ok(up(`--repo=${d}`, 'remote', 'add', '--set=gpg-verify=false', 'origin', url), 'remote add');
  return d;
}


test('cookie jars: upstream add-cookie is read by our pull; ours by upstream pull and delete-cookie', () => {
  const work = tempDir('interop-cookies');
  const { url } = served(work, ['--expected-cookies', 'foo=bar', '--expected-cookies', 'baz=badger']);
  const a = dest(work, 'a', url);
  assert.notEqual(ours(`--repo=${a}`, 'pull', 'origin', 'main').code, 0, 'no cookies: refused by the server');
  ok(up(`--repo=${a}`, 'remote', 'add-cookie', 'origin', '127.0.0.1', '/', 'foo', 'bar'), 'upstream add-cookie');
  ok(up(`--repo=${a}`, 'remote', 'add-cookie', 'origin', '127.0.0.1', '/', 'baz', 'badger'), 'upstream add-cookie');
  ok(ours(`--repo=${a}`, 'pull', 'origin', 'main'), 'our pull with upstream\'s jar');
  const b = dest(work, 'b', url);
  ok(ours(`--repo=${b}`, 'remote', 'add-cookie', 'origin', '127.0.0.1', '/', 'foo', 'bar'), 'our add-cookie');
  ok(ours(`--repo=${b}`, 'remote', 'add-cookie', 'origin', '127.0.0.1', '/', 'baz', 'badger'), 'our add-cookie');
  ok(up(`--repo=${b}`, 'pull', 'origin', 'main'), 'upstream pull with our jar');
  ok(up(`--repo=${b}`, 'remote', 'delete-cookie', 'origin', '127.0.0.1', '/', 'baz'), 'upstream delete-cookie of ours');
  assert.notEqual(ours(`--repo=${b}`, 'pull', 'origin', 'main').code, 0, 'one cookie gone: refused again');
  assert.equal(fs.readFileSync(path.join(b, 'origin.cookies.txt'), 'utf8').split('\n').filter((l) => l !== '').length, 1);
});

test('our --subpath pull leaves one partial commit that upstream\'s fsck skips; a full pull completes it', () => {
  const work = tempDir('interop-subpath');
  const { url } = served(work, []);
  const d = dest(work, 'd', url);
  ok(ours(`--repo=${d}`, 'pull', '--subpath=/baz/deeper', 'origin', 'main'), 'subpath pull');
  const fsck = ok(up(`--repo=${d}`, 'fsck'), 'upstream fsck');
  assert.match(fsck, /1 partial commits not verified/);
  ok(up(`--repo=${d}`, 'ls', 'origin:main', '/baz/deeper/ohyeah'), 'upstream ls inside the subpath');
  assert.notEqual(up(`--repo=${d}`, 'cat', 'origin:main', '/firstfile').code, 0, 'outside the subpath: not pulled');
  ok(ours(`--repo=${d}`, 'pull', 'origin', 'main'), 'full pull');
  assert.doesNotMatch(ok(up(`--repo=${d}`, 'fsck'), 'upstream fsck'), /partial/);
});

test('against trivial-httpd --force-range-requests our pull resumes every object and upstream\'s fsck passes', () => {
  const work = tempDir('interop-resume');
  const { url } = served(work, ['--force-range-requests']);
  const d = dest(work, 'd', url, 'archive');
  ok(ours(`--repo=${d}`, 'pull', 'origin', 'main'), 'pull against a server that cuts responses');
  ok(up(`--repo=${d}`, 'fsck'), 'upstream fsck');
});
