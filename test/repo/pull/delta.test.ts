/**
 * Pulling through static deltas (pull/delta.ts, delta-phase.ts, delta-local.ts), with a local
 * repository read as a remote: which delta is chosen (the newest complete commit we have,
 * scratch only without a local ref), what --require-static-deltas refuses, and that the
 * objects really come from the delta.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../../src/repo/repo.js';
import { generateDelta } from '../../../src/repo/deltas/generate.js';
import { chooseDelta, remoteDeltasFromSummary } from '../../../src/repo/pull/delta.js';
import { localSource, localSummary } from '../../../src/repo/pull/delta-local.js';
import { pullLocal } from '../../../src/repo/pull/local.js';
import { updateSummary } from '../../../src/repo/summary/summary.js';
import { tempDir } from '../../common/tmp.js';

async function served(): Promise<{ src: Repo; c1: string; c2: string; dir: string }> {
  const dir = tempDir('pull-delta-');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'a'), 'a\n'.repeat(500));
  const src = await Repo.create(path.join(dir, 'src'), 'archive');
  const c1 = await src.commitTree(tree, { branch: 'main', timestamp: 1n });
  fs.writeFileSync(path.join(tree, 'b'), 'b\n'.repeat(500));
  const c2 = await src.commitTree(tree, { branch: 'main', timestamp: 2n });
  return { src, c1, c2, dir };
}

test('the delta from the newest complete commit wins; scratch only without a local ref', async () => {
  const { src, c1, c2, dir } = await served();
  generateDelta(src, null, c2);
  generateDelta(src, c1, c2);
  await updateSummary(src, {});
  const remote = remoteDeltasFromSummary(localSummary(src.path), false);
  const dest = await Repo.create(path.join(dir, 'dest'), 'bare-user');
  assert.deepEqual(await chooseDelta(dest, localSource(src.path), remote, c2, 'main', null, true), { kind: 'delta', from: null });
  await pullLocal(dest, src.path, { refs: [c1] });
  assert.deepEqual(await chooseDelta(dest, localSource(src.path), remote, c2, 'main', c1, true), { kind: 'delta', from: c1 });
  await pullLocal(dest, src.path, { refs: ['main'], requireStaticDeltas: true });
  assert.equal(await dest.resolveRev('main'), c2);
  assert.deepEqual(await chooseDelta(dest, localSource(src.path), remote, c2, 'main', c2, true), { kind: 'unchanged' });
});

test('--require-static-deltas: refused without deltas, into archive repos, and when none leads to the commit', async () => {
  const { src, c1, c2, dir } = await served();
  const dest = await Repo.create(path.join(dir, 'dest'), 'bare-user');
  await assert.rejects(pullLocal(dest, src.path, { refs: ['main'], requireStaticDeltas: true }), /no summary deltas or delta index found/);
  generateDelta(src, null, c1);
  await updateSummary(src, {});
  await assert.rejects(pullLocal(dest, src.path, { refs: [c2], requireStaticDeltas: true }), /Static deltas required, but none found for/);
  assert.equal(dest.hasObjectSync(c2, 'commit'), false);
  const archive = await Repo.create(path.join(dir, 'archive'), 'archive');
  await assert.rejects(pullLocal(archive, src.path, { refs: ['main'], requireStaticDeltas: true }), /Can't use static deltas in an archive repo/);
});

test('objects come from the delta: the source may lack them', async () => {
  const { src, c2, dir } = await served();
  generateDelta(src, null, c2);
  await updateSummary(src, {});
  // remove a content object from the source: only the delta can provide it
  const files = fs.readdirSync(path.join(src.path, 'objects'), { recursive: true }).map(String).filter((f) => f.endsWith('.filez'));
  for (const f of files) fs.rmSync(path.join(src.path, 'objects', f));
  const dest = await Repo.create(path.join(dir, 'dest'), 'bare-user');
  await pullLocal(dest, src.path, { refs: ['main'], requireStaticDeltas: true });
  assert.equal(await dest.resolveRev('main'), c2);
  for (const f of files) assert.ok(fs.existsSync(path.join(dest.path, 'objects', f.replace(/\.filez$/, '.file'))), f);
});
