/** The summary (src/repo/summary): generation, collections, delta indexes, auto-update, the
 *  metadata commit, summary.sig, the text forms, and hostile summary files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { Variant } from '../../../src/glib/gvariant.js';
import { Repo } from '../../../src/repo/repo.js';
import { deltaSuperblockPath, summaryPath, summarySigPath } from '../../../src/repo/layout.js';
import {
  SUMMARY_KEYS, beU64, fromBeU64, parseSummaryFile, parseSummarySignatures, serializeSummary, summaryCollectionMap, summaryExtension,
} from '../../../src/repo/summary/format.js';
import { formatSummary, formatSummaryRaw } from '../../../src/repo/summary/dump.js';
import { updateSummary, viewSummary } from '../../../src/repo/summary/summary.js';
import { readLocalSummary, readSummarySignatures, writeSummarySignatures } from '../../../src/repo/summary/local.js';
import { listStaticDeltas } from '../../../src/repo/summary/delta-index.js';
import { tempDir } from '../../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

async function repoWithRefs(opts: { collectionId?: string } = {}): Promise<{ repo: Repo; src: string; commits: string[] }> {
  const d = tempDir('summary-test-');
  const src = path.join(d, 'src'); fs.mkdirSync(src);
  const repo = await Repo.create(path.join(d, 'repo'), 'archive');
  if (opts.collectionId) { repo.config.set('core', 'collection-id', opts.collectionId); await repo.saveConfig(); }
  const commits: string[] = [];
  for (const [i, b] of ['zeta', 'alpha', 'mid/dle'].entries()) {
    fs.writeFileSync(path.join(src, 'f'), `${i}`);
    commits.push(await repo.commitTree(src, { branch: b, timestamp: BigInt(1000 + i), metadata: i === 1 ? [['version', new Variant('s', '1.2')]] : [] }));
  }
  return { repo, src, commits };
}

test('summary -u: local refs in name order with size, checksum, timestamp and version; remote refs left out', async () => {
  const { repo, commits } = await repoWithRefs();
  await repo.setRef('origin:remote-only', commits[0]!);
  await updateSummary(repo, { additionalMetadata: [['key', new Variant('s', 'value')]] });
  const s = parseSummaryFile(readLocalSummary(repo.path));
  assert.deepEqual(s.refs.map((r) => r.name), ['alpha', 'mid/dle', 'zeta']);
  const alpha = s.refs[0]!;
  assert.equal(alpha.checksum, commits[1]);
  assert.equal(alpha.size, BigInt(fs.statSync(repo.objectPath(commits[1]!, 'commit')).size));
  assert.equal(fromBeU64(alpha.metadata.find(([k]) => k === 'ostree.commit.timestamp')?.[1]), 1001n);
  assert.deepEqual(alpha.metadata.find(([k]) => k === 'ostree.commit.version')?.[1], new Variant('s', '1.2'));
  assert.deepEqual(summaryExtension(s, 'key'), new Variant('s', 'value'));
  assert.deepEqual(summaryExtension(s, SUMMARY_KEYS.mode), new Variant('s', 'archive-z2'));
  assert.deepEqual(summaryExtension(s, SUMMARY_KEYS.indexedDeltas), new Variant('b', true));
  assert.deepEqual(summaryExtension(s, SUMMARY_KEYS.tombstoneCommits), new Variant('b', false));
  const lm = fromBeU64(summaryExtension(s, SUMMARY_KEYS.lastModified))!;
  assert.ok(Math.abs(Number(lm) - Date.now() / 1000) < 60);
  // upstream's reindex records that deltas are indexed
  assert.equal((await Repo.open(repo.path)).config.get('core', 'indexed-deltas'), 'true');
  // the text form
  const text = viewSummary(repo.path, false);
  assert.match(text, /^\* alpha\n {4}Latest Commit \(\d+ bytes\):\n {6}[0-9a-f]{64}\n/m);
  assert.match(text, /^ {4}Timestamp \(ostree\.commit\.timestamp\): 1970-01-01T/m);
  assert.match(text, /^ {4}Version \(ostree\.commit\.version\): 1\.2$/m);
  assert.match(text, /^key: 'value'$/m);
  assert.match(text, /^Repository Mode \(ostree\.summary\.mode\): archive-z2$/m);
  assert.match(viewSummary(repo.path, true), /^\(\[\('alpha', \(uint64 /);
});

test('summary -u removes the old summary.sig; summary.sig is an a{sv} read and written here', async () => {
  const { repo } = await repoWithRefs();
  await updateSummary(repo);
  writeSummarySignatures(repo, [['ostree.sign.dummy', new Variant('aay', [Buffer.from('sig')])]]);
  assert.deepEqual(readSummarySignatures(repo.path), [['ostree.sign.dummy', new Variant('aay', [Buffer.from('sig')])]]);
  await updateSummary(repo);
  assert.equal(fs.existsSync(summarySigPath(repo.path)), false);
  assert.equal(readSummarySignatures(repo.path), null);
  fs.writeFileSync(summarySigPath(repo.path), Buffer.from([1, 2, 3]));
  assert.throws(() => readSummarySignatures(repo.path), isErr('ECORRUPT', /summary signature/));
  assert.throws(() => parseSummarySignatures(Buffer.from([0xff])), isErr('ECORRUPT'));
});

test('with core.collection-id: refs of the own collection in the main list, others in the collection map, ostree-metadata committed', async () => {
  const { repo, commits } = await repoWithRefs({ collectionId: 'org.example.Main' });
  fs.mkdirSync(path.join(repo.path, 'refs/mirrors/org.example.Other'), { recursive: true });
  fs.writeFileSync(path.join(repo.path, 'refs/mirrors/org.example.Other/m'), `${commits[0]}\n`);
  await repo.addRemote('withcid', 'file:///nowhere', { 'collection-id': 'org.example.Remote', 'gpg-verify': 'false' });
  await repo.addRemote('nocid', 'file:///nowhere', { 'gpg-verify': 'false' });
  await repo.setRef('withcid:r1', commits[1]!);
  await repo.setRef('nocid:r2', commits[1]!);
  await updateSummary(repo, { additionalMetadata: [['map', new Variant('a{sv}', [])]] });
  await updateSummary(repo, { additionalMetadata: [['map', new Variant('a{sv}', [])]] });
  const s = parseSummaryFile(readLocalSummary(repo.path));
  assert.deepEqual(s.refs.map((r) => r.name), ['alpha', 'mid/dle', 'ostree-metadata', 'zeta']);
  assert.deepEqual(summaryCollectionMap(s).map(([c, refs]) => [c, refs.map((r) => r.name)]), [['org.example.Other', ['m']], ['org.example.Remote', ['r1']]]);
  assert.deepEqual(summaryExtension(s, SUMMARY_KEYS.collectionId), new Variant('s', 'org.example.Main'));
  const text = formatSummary(readLocalSummary(repo.path));
  assert.match(text, /^\* \(org\.example\.Main, alpha\)$/m);
  assert.match(text, /^\* \(org\.example\.Remote, r1\)$/m);
  assert.doesNotMatch(text, /r2/);
  // two updates: two metadata commits, the newer bound and with the metadata
  const meta = await repo.loadCommit(await repo.resolveRev('ostree-metadata'));
  assert.notEqual(meta.parent, null);
  assert.deepEqual(meta.metadata.find(([k]) => k === 'ostree.ref-binding')?.[1], new Variant('as', ['ostree-metadata']));
  assert.deepEqual(meta.metadata.find(([k]) => k === 'ostree.collection-binding')?.[1], new Variant('s', 'org.example.Main'));
  assert.deepEqual(meta.metadata.find(([k]) => k === 'map')?.[1], new Variant('a{sv}', []));
  assert.deepEqual(await repo.loadDirTree(meta.rootTree), { files: [], dirs: [] });
});

test('static deltas: listed with their superblock digest, indexed per target, stale indexes removed', async () => {
  const { repo, commits } = await repoWithRefs();
  const sb = (from: string | null, to: string): string => path.join(repo.path, deltaSuperblockPath(from, to));
  for (const [from, to] of [[null, commits[2]!], [commits[1]!, commits[2]!]] as const) {
    fs.mkdirSync(path.dirname(sb(from, to)), { recursive: true });
    fs.writeFileSync(sb(from, to), `superblock ${from}`);
  }
  assert.equal(listStaticDeltas(repo.path).length, 2);
  await updateSummary(repo);
  const s = parseSummaryFile(readLocalSummary(repo.path));
  const deltas = summaryExtension(s, SUMMARY_KEYS.staticDeltas)!;
  assert.deepEqual((deltas.value as Array<[string, Variant]>).map(([k]) => k).sort(), [commits[2], `${commits[1]}-${commits[2]}`].sort());
  const indexDir = path.join(repo.path, 'delta-indexes');
  const indexes = fs.readdirSync(indexDir, { recursive: true }).filter((n) => String(n).endsWith('.index'));
  assert.equal(indexes.length, 1);
  fs.rmSync(path.join(repo.path, 'deltas'), { recursive: true });
  await updateSummary(repo);
  assert.equal(fs.readdirSync(indexDir, { recursive: true }).filter((n) => String(n).endsWith('.index')).length, 0);
  assert.equal(summaryExtension(parseSummaryFile(readLocalSummary(repo.path)), SUMMARY_KEYS.staticDeltas), undefined);
});

test('core.auto-update-summary: ref changes regenerate the summary; without it they do not', async () => {
  const { repo, commits } = await repoWithRefs();
  await updateSummary(repo);
  const before = fs.readFileSync(summaryPath(repo.path));
  await repo.setRef('new', commits[0]!);
  assert.deepEqual(fs.readFileSync(summaryPath(repo.path)), before);
  repo.config.set('core', 'auto-update-summary', 'true');
  await repo.setRef('new2', commits[0]!);
  assert.ok(parseSummaryFile(readLocalSummary(repo.path)).refs.some((r) => r.name === 'new2'));
  await repo.setRef('new2', null);
  assert.ok(!parseSummaryFile(readLocalSummary(repo.path)).refs.some((r) => r.name === 'new2'));
});

test('hostile summaries: corrupt, wrong checksum length, oversized files are refused without reading them whole', async () => {
  assert.throws(() => parseSummaryFile(Buffer.from('not a summary at all'), 'x'), isErr('ECORRUPT', /^x: not a valid summary file/));
  const bad = serializeSummary({ refs: [{ name: 'a', size: 1n, checksum: 'ab', metadata: [] }], extensions: [] });
  assert.throws(() => parseSummaryFile(bad), isErr('ECORRUPT', /1-byte checksum/));
  assert.throws(() => formatSummaryRaw(Buffer.from([1, 2, 3])), isErr('ECORRUPT'));
  const { repo } = await repoWithRefs();
  // a sparse file larger than the bound: refused from its size
  const fd = fs.openSync(summaryPath(repo.path), 'w');
  fs.ftruncateSync(fd, 200 * 1024 * 1024);
  fs.closeSync(fd);
  assert.throws(() => readLocalSummary(repo.path), isErr('ECORRUPT', /more than the limit/));
  fs.rmSync(summaryPath(repo.path));
  assert.throws(() => viewSummary(repo.path, false), isErr('ENOENT', /summary -u/));
  execFileSync('mkfifo', [summaryPath(repo.path)]);
  assert.throws(() => viewSummary(repo.path, false), isErr('ECORRUPT', /not a regular file/));
});

test('format: serialize and parse are inverse; big-endian integers as upstream stores them', () => {
  const file = {
    refs: [{ name: 'a', size: 300n, checksum: 'ab'.repeat(32), metadata: [['ostree.commit.timestamp', beU64(1234n)]] as Array<[string, Variant]> }],
    extensions: [['ostree.summary.expires', beU64(99n)]] as Array<[string, Variant]>,
  };
  const back = parseSummaryFile(serializeSummary(file));
  assert.deepEqual(back, file);
  assert.equal(fromBeU64(back.extensions[0]![1]), 99n);
  assert.match(formatSummary(serializeSummary(file)), /^Expires \(ostree\.summary\.expires\): 1970-01-01T/m);
});
