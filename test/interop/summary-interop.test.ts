/**
 * Summaries against upstream /usr/bin/ostree (2022.7): for the same repository our `summary -u`
 * writes the bytes upstream writes (refs, versions, static deltas and their indexes, collection
 * map, ostree-metadata commit, --add-metadata), upstream reads and pulls through our summary,
 * and we print upstream's summaries as upstream does (`summary --view/--raw`, `remote summary`,
 * `remote refs`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';

const UPSTREAM = process.env['OSTREE_UPSTREAM'] ?? '/usr/bin/ostree';
const OURS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const ENV = { ...process.env, TZ: 'UTC' };

function up(...args: string[]): string { return execFileSync(UPSTREAM, args, { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] }); }
function ours(...args: string[]): string { return execFileSync(process.execPath, [OURS, ...args], { encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] }); }

/** An archive repo made by upstream: three refs (one with a version), a ref alias, static deltas. */
function upstreamRepo(opts: { collectionId?: string } = {}): string {
  const d = tempDir('summary-interop-');
  const repo = path.join(d, 'repo');
  const tree = path.join(d, 'tree');
  fs.mkdirSync(tree);
  up(`--repo=${repo}`, 'init', '--mode=archive', ...(opts.collectionId ? [`--collection-id=${opts.collectionId}`] : []));
  for (const [i, ref] of ['main', 'other', 'deep/ref', 'main'].entries()) {
    fs.writeFileSync(path.join(tree, 'f'), `content ${i}\n`);
    up(`--repo=${repo}`, 'commit', `--branch=${ref}`, '-s', `c${i}`, `--add-metadata-string=version=${i}.0`, tree);
  }
  up(`--repo=${repo}`, 'static-delta', 'generate', 'main');
  up(`--repo=${repo}`, 'static-delta', 'generate', '--empty', 'other');
  if (opts.collectionId) up(`--repo=${repo}`, 'refs', '--collections', '--create=org.example.Mirror:mirrored', 'other');
  return repo;
}

function copyRepo(src: string): string {
  const dst = path.join(tempDir('summary-interop-copy-'), 'repo');
  execFileSync('cp', ['-a', src, dst]);
  return dst;
}

/** Run `summary -u` with upstream on one copy and ours on another within the same second (the
 *  summary holds the time), and return both results. */
function summariesOfBoth(repo: string, args: string[]): { theirs: string; mine: string } {
  for (let attempt = 0; ; attempt++) {
    const theirs = copyRepo(repo);
    const mine = copyRepo(repo);
    const t0 = Math.floor(Date.now() / 1000);
    up(`--repo=${theirs}`, 'summary', '-u', ...args);
    ours(`--repo=${mine}`, 'summary', '-u', ...args);
    if (Math.floor(Date.now() / 1000) === t0 || attempt === 4) return { theirs, mine };
  }
}

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out.set(f, fs.readFileSync(p));
  }
  return out;
}

for (const collectionId of [undefined, 'org.example.Main']) {
  test(`summary -u writes upstream's bytes${collectionId ? ' (with a collection ID: ostree-metadata, collection map)' : ''}; upstream reads ours`, () => {
    const repo = upstreamRepo(collectionId ? { collectionId } : {});
    const meta = ['--add-metadata', "key='value'", '-m', 'num=@t 42', '--add-metadata=map=@a{sv} {}'];
    const { theirs, mine } = summariesOfBoth(repo, meta);
    assert.deepEqual(fs.readFileSync(path.join(mine, 'summary')), fs.readFileSync(path.join(theirs, 'summary')));
    assert.deepEqual(files(path.join(mine, 'delta-indexes')), files(path.join(theirs, 'delta-indexes')));
    assert.equal(fs.readFileSync(path.join(mine, 'config'), 'utf8'), fs.readFileSync(path.join(theirs, 'config'), 'utf8'));
    if (collectionId) assert.equal(ours(`--repo=${mine}`, 'rev-parse', 'ostree-metadata'), up(`--repo=${theirs}`, 'rev-parse', 'ostree-metadata'));
    // upstream reads what we wrote, and prints it as we do
    for (const flag of ['--view', '--raw']) assert.equal(ours(`--repo=${mine}`, 'summary', flag), up(`--repo=${mine}`, 'summary', flag));
    up(`--repo=${mine}`, 'fsck');
  });
}

test('upstream pulls --mirror through our summary; we list and print an upstream summary as upstream does', () => {
  const served = copyRepo(upstreamRepo());
  ours(`--repo=${served}`, 'summary', '-u');
  const mirror = path.join(tempDir('summary-interop-mirror-'), 'repo');
  up(`--repo=${mirror}`, 'init', '--mode=archive');
  up(`--repo=${mirror}`, 'remote', 'add', '--no-gpg-verify', 'origin', `file://${served}`);
  up(`--repo=${mirror}`, 'pull', '--mirror', 'origin');
  assert.equal(up(`--repo=${mirror}`, 'rev-parse', 'deep/ref'), up(`--repo=${served}`, 'rev-parse', 'deep/ref'));
  assert.deepEqual(fs.readFileSync(path.join(mirror, 'summary')), fs.readFileSync(path.join(served, 'summary')));
  // the other way: upstream's summary, read by both
  up(`--repo=${served}`, 'summary', '-u');
  for (const args of [['remote', 'refs', 'origin'], ['remote', 'summary', 'origin'], ['remote', 'summary', '--raw', 'origin']]) {
    assert.equal(ours(`--repo=${mirror}`, ...args), up(`--repo=${mirror}`, ...args), args.join(' '));
  }
  for (const flag of ['--view', '--raw']) assert.equal(ours(`--repo=${served}`, 'summary', flag), up(`--repo=${served}`, 'summary', flag));
});
