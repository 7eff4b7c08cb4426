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
import { Variant } from '../../src/glib/gvariant.js';
import { SUMMARY_KEYS, beU64, parseSummaryFile, serializeSummary } from '../../src/repo/summary/format.js';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI } from '../common/cli-paths.js';

const UPSTREAM = process.env['OSTREE_UPSTREAM'] ?? '/usr/bin/ostree';
const OURS = OURS_CLI;
// the dummy signature engine (upstream's Debian build has no ed25519) is opt-in, as upstream
const ENV = { ...process.env, TZ: 'UTC', OSTREE_DUMMY_SIGN_ENABLED: '1' };

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

/** `summary -u` by upstream on one copy of `repo` and by us on another. */
function summariesOfBoth(repo: string, args: string[]): { theirs: string; mine: string } {
  const theirs = copyRepo(repo);
  const mine = copyRepo(repo);
  up(`--repo=${theirs}`, 'summary', '-u', ...args);
  ours(`--repo=${mine}`, 'summary', '-u', ...args);
  return { theirs, mine };
}

/**
 * A summary with what depends on the clock set to fixed values: last-modified, and the
 * ostree-metadata commit (its checksum and timestamp change with the second it was made in).
 * The rest is serialized again, which gives back the same bytes (checked for upstream's).
 */
function timeless(file: string): Buffer {
  const data = fs.readFileSync(file);
  const s = parseSummaryFile(data);
  assert.deepEqual(serializeSummary(s), data, 'our serializer gives back the bytes it parsed');
  const ext = s.extensions.map(([k, v]): [string, Variant] => [k, k === SUMMARY_KEYS.lastModified ? beU64(0n) : v]);
  const refs = s.refs.map((r) => (r.name === 'ostree-metadata' ? { ...r, checksum: '00'.repeat(32), metadata: r.metadata.map(([k, v]): [string, Variant] => [k, k === 'ostree.commit.timestamp' ? beU64(0n) : v]) } : r));
  return serializeSummary({ refs, extensions: ext });
}

/** `show --raw` of the ostree-metadata commit without its timestamp. */
function metadataCommitText(repo: string): string {
  return up(`--repo=${repo}`, 'show', '--raw', 'ostree-metadata').replace(/^commit .*\n/, '').replace(/'', '', uint64 \d+/, "'', '', uint64 T");
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
    assert.deepEqual(timeless(path.join(mine, 'summary')), timeless(path.join(theirs, 'summary')));
    assert.deepEqual(files(path.join(mine, 'delta-indexes')), files(path.join(theirs, 'delta-indexes')));
    assert.equal(fs.readFileSync(path.join(mine, 'config'), 'utf8'), fs.readFileSync(path.join(theirs, 'config'), 'utf8'));
    if (collectionId) assert.equal(metadataCommitText(mine), metadataCommitText(theirs));
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

test('summary -u --sign (dummy engine): the same summary.sig and signed ostree-metadata commit as upstream; upstream verifies ours', () => {
  const sign = ['--sign-type=dummy', '--sign=secret-key'];
  const { theirs, mine } = summariesOfBoth(upstreamRepo({ collectionId: 'org.example.Signed' }), sign);
  assert.deepEqual(fs.readFileSync(path.join(mine, 'summary.sig')), fs.readFileSync(path.join(theirs, 'summary.sig')));
  assert.equal(metadataCommitText(mine), metadataCommitText(theirs));
  const meta = (repo: string): string => up(`--repo=${repo}`, 'rev-parse', 'ostree-metadata').trim();
  assert.deepEqual(fs.readFileSync(path.join(mine, `objects/${meta(mine).slice(0, 2)}/${meta(mine).slice(2)}.commitmeta`)),
    fs.readFileSync(path.join(theirs, `objects/${meta(theirs).slice(0, 2)}/${meta(theirs).slice(2)}.commitmeta`)));
  const client = path.join(tempDir('summary-interop-client-'), 'repo');
  up(`--repo=${client}`, 'init', '--mode=archive');
  up(`--repo=${client}`, 'remote', 'add', '--no-gpg-verify', '--set=sign-verify-summary=dummy', '--set=verification-dummy-key=secret-key', 'origin', `file://${mine}`);
  assert.match(up(`--repo=${client}`, 'remote', 'summary', 'origin'), /^\* \(org\.example\.Signed, main\)$/m);
  up(`--repo=${client}`, 'remote', 'add', '--no-gpg-verify', '--set=sign-verify-summary=dummy', '--set=verification-dummy-key=other-key', 'wrongkey', `file://${mine}`);
  assert.throws(() => up(`--repo=${client}`, 'remote', 'summary', 'wrongkey'), /dummy/);
});
