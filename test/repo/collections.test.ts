/**
 * Collection IDs and collection–refs (src/repo/collections.ts), bindings (bindings.ts), aliases
 * and listing (refs.ts, refs-list.ts), finding remotes (collections-find.ts) and create-usb
 * (collections-usb.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { Variant } from '../../src/glib/gvariant.js';
import { verifyBackRefs, verifyBindings } from '../../src/repo/bindings.js';
import {
  collectionRefHashOrder, isCollectionId, listCollectionRefs, repoCollectionId, resolveCollectionRef, setCollectionRef, validateCollectionId,
} from '../../src/repo/collections.js';
import { findRemotes, parseFinders } from '../../src/repo/collections-find.js';
import { createUsb } from '../../src/repo/collections-usb.js';
import { listRefs } from '../../src/repo/refs-list.js';
import { resolveRev, setAliasRef, setRef } from '../../src/repo/refs.js';
import { addRemote } from '../../src/repo/remotes.js';
import { Repo } from '../../src/repo/repo.js';
import { regenerateSummary } from '../../src/repo/summary/generate.js';
import { tempDir } from '../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

async function repoWith(collectionId: string | null, branches: string[] = ['main']): Promise<{ repo: Repo; c: Record<string, string>; dir: string }> {
  const dir = tempDir('collections-test-');
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  const repo = await Repo.create(path.join(dir, 'repo'), 'archive');
  if (collectionId !== null) { repo.config.set('core', 'collection-id', collectionId); await repo.saveConfig(); }
  const c: Record<string, string> = {};
  let i = 0;
  for (const b of branches) {
    fs.writeFileSync(path.join(src, 'f'), `${b}`);
    c[b] = await repo.commitTree(src, { branch: b, timestamp: BigInt(++i) });
  }
  return { repo, c, dir };
}

test('collection IDs: reverse-DNS names as D-Bus interface names', () => {
  for (const good of ['org.example.Os', 'a.b', '_x._y', 'A1.b2_c']) assert.ok(isCollectionId(good), good);
  for (const bad of ['', 'org', '.org.x', 'org.x.', 'org..x', '1org.x', 'org.1x', 'org.ex-ample', 'org/x.y', `a.${'b'.repeat(254)}`]) {
    assert.equal(isCollectionId(bad), false, bad);
    assert.throws(() => validateCollectionId(bad), isErr('EINVAL', /^Invalid collection ID/));
  }
});

test('collection–refs: own refs in refs/heads, others in refs/mirrors, remotes with a collection-id; filters and hash order', async () => {
  const { repo, c } = await repoWith('org.example.Own', ['a', 'b']);
  assert.equal(repoCollectionId(repo), 'org.example.Own');
  await setCollectionRef(repo, { collectionId: 'org.example.Own', ref: 'c' }, c['a']!);
  assert.equal(resolveRev(repo, 'c'), c['a']);
  await setCollectionRef(repo, { collectionId: 'org.example.Other', ref: 'x/y' }, c['b']!);
  assert.equal(fs.readFileSync(path.join(repo.path, 'refs/mirrors/org.example.Other/x/y'), 'utf8'), `${c['b']}\n`);
  await addRemote(repo, 'withid', 'file:///nowhere', [['collection-id', 'org.example.Remote']]);
  await addRemote(repo, 'noid', 'file:///nowhere');
  await setRef(repo, 'withid:r', c['a']!);
  await setRef(repo, 'noid:s', c['a']!);
  const all = listCollectionRefs(repo).map((r) => `${r.collectionId}:${r.ref}=${r.checksum === c['a'] ? 'a' : 'b'}`).sort();
  assert.deepEqual(all, ['org.example.Other:x/y=b', 'org.example.Own:a=a', 'org.example.Own:b=b', 'org.example.Own:c=a', 'org.example.Remote:r=a']);
  assert.deepEqual(listCollectionRefs(repo, 'org.example.Other').map((r) => r.ref), ['x/y']);
  assert.deepEqual(listCollectionRefs(repo, undefined, { excludeRemotes: true, excludeMirrors: true }).map((r) => r.ref).sort(), ['a', 'b', 'c']);
  assert.equal(resolveCollectionRef(repo, { collectionId: 'org.example.Remote', ref: 'r' }), c['a']);
  assert.equal(resolveCollectionRef(repo, { collectionId: 'org.example.Remote', ref: 'nope' }), null);
  assert.throws(() => listCollectionRefs(repo, 'not-an-id'), isErr('EINVAL', /Invalid collection ID/));
  // Deleting a mirror ref; the hash order is a permutation, stable for the same set.
  await setCollectionRef(repo, { collectionId: 'org.example.Other', ref: 'x/y' }, null);
  assert.equal(fs.existsSync(path.join(repo.path, 'refs/mirrors/org.example.Other/x/y')), false);
  const refs = listCollectionRefs(repo);
  assert.deepEqual(collectionRefHashOrder(refs).map((r) => r.ref).sort(), refs.map((r) => r.ref).sort());
  repo.config.set('core', 'collection-id', 'bad id');
  assert.throws(() => repoCollectionId(repo), isErr('ECONFIG', /invalid core\.collection-id/));
});

test('aliases and listing: relative symlinks, listed with their target, hidden names skipped, refs found through remotes', async () => {
  const { repo, c } = await repoWith(null, ['os/26/server', 'os/27/server']);
  await setAliasRef(repo, 'os/stable/server', 'os/26/server');
  assert.equal(fs.readlinkSync(path.join(repo.path, 'refs/heads/os/stable/server')), '../../os/26/server');
  assert.equal(resolveRev(repo, 'os/stable/server'), c['os/26/server']);
  await setAliasRef(repo, 'os/stable/server', 'os/27/server');
  assert.equal(resolveRev(repo, 'os/stable/server'), c['os/27/server']);
  assert.deepEqual([...listRefs(repo, undefined, { aliases: true })], [['os/stable/server', 'os/27/server']]);
  fs.writeFileSync(path.join(repo.path, 'refs/heads/os/.hidden'), 'junk');
  assert.deepEqual([...listRefs(repo).keys()], ['os/26/server', 'os/27/server', 'os/stable/server']);
  assert.deepEqual([...listRefs(repo, 'os/26', { cut: true }).keys()], ['server']);
  await setRef(repo, 'origin:only-remote', c['os/26/server']!);
  assert.equal(resolveRev(repo, 'only-remote'), c['os/26/server']);
  assert.equal(resolveRev(repo, 'only-remote', { fallbackRemote: false }), null);
  // A directory of refs is replaced by a ref only once it holds none.
  await assert.rejects(setRef(repo, 'os/26', c['os/26/server']!), isErr('EEXIST', /Conflict: server exists under os\/26/));
  await setRef(repo, 'os/26/server', null);
  await setRef(repo, 'os/26', c['os/27/server']!);
  assert.equal(resolveRev(repo, 'os/26'), c['os/27/server']);
});

test('bindings: ref and collection bindings checked with upstream\'s messages; back-refs resolve to the commit', async () => {
  const commit = (meta: Array<[string, Variant]>): { metadata: Array<[string, Variant]> } => ({ metadata: meta });
  const bound = commit([['ostree.ref-binding', new Variant('as', ['a', 'b'])], ['ostree.collection-binding', new Variant('s', 'org.example.C')]]);
  verifyBindings('org.example.C', 'a', bound);
  verifyBindings(null, null, commit([]));
  assert.throws(() => verifyBindings(null, 'z', bound), isErr('ECORRUPT', /^Commit has no requested ref ‘z’ in ref binding metadata \(‘a’, ‘b’\)$/));
  assert.throws(() => verifyBindings(null, 'z', commit([['ostree.ref-binding', new Variant('as', [])]])), isErr('ECORRUPT', /\(no refs\)/));
  assert.throws(() => verifyBindings('org.example.C', 'a', commit([])), isErr('ECORRUPT', /Expected commit metadata to have ref binding information/));
  assert.throws(() => verifyBindings('org.example.D', 'a', bound), isErr('ECORRUPT', /collection ID ‘org\.example\.C’ in collection binding metadata, while the remote it came from has collection ID ‘org\.example\.D’/));
  assert.throws(() => verifyBindings('org.example.C', null, commit([['ostree.ref-binding', new Variant('as', ['a'])]])), isErr('ECORRUPT', /collection ID binding information, found none/));

  const { repo, c } = await repoWith('org.example.C', ['a']);
  const loaded = await repo.loadCommit(c['a']!);
  verifyBackRefs(repo, c['a']!, loaded);
  await setRef(repo, 'a', null);
  assert.throws(() => verifyBackRefs(repo, c['a']!, loaded), isErr('ECORRUPT', /Collection–ref \(org\.example\.C, a\) in bindings for commit [0-9a-f]{64} does not exist/));
});

test('findRemotes: remotes with the collection whose summaries list the ref; the newest commit wins; finders parsed as upstream', async () => {
  const older = await repoWith('org.example.Apps', ['app']);
  const newer = await repoWith('org.example.Apps', ['app', 'other']);
  fs.writeFileSync(path.join(newer.dir, 'src/f'), 'newest');
  const newest = await newer.repo.commitTree(path.join(newer.dir, 'src'), { branch: 'app', timestamp: 100n });
  for (const r of [older.repo, newer.repo]) await regenerateSummary(r);
  const local = await repoWith(null, []);
  await addRemote(local.repo, 'old', `file://${older.repo.path}`, [['collection-id', 'org.example.Apps'], ['gpg-verify', 'false']]);
  await addRemote(local.repo, 'new', `file://${newer.repo.path}`, [['collection-id', 'org.example.Apps'], ['gpg-verify', 'false']]);
  await addRemote(local.repo, 'unrelated', `file://${newer.repo.path}`, [['gpg-verify', 'false']]);
  const wanted = [{ collectionId: 'org.example.Apps', ref: 'app' }, { collectionId: 'org.example.Apps', ref: 'missing' }];
  const results = await findRemotes(local.repo, wanted);
  assert.deepEqual(results.map((r) => [r.remote.name, r.keyring, r.finder, r.priority]), [['new', 'new.trustedkeys.gpg', 'OstreeRepoFinderConfig', 100]]);
  assert.deepEqual(results[0]!.refs.map((r) => [r.ref, r.checksum]), [['app', newest], ['missing', null]]);
  assert.deepEqual(await findRemotes(local.repo, [{ collectionId: 'org.example.Nothing', ref: 'app' }]), []);
  assert.deepEqual(parseFinders('config,mount'), ['config', 'mount']);
  assert.throws(() => parseFinders('config,config'), isErr('EINVAL', /Unknown or duplicate finder type given in --finders option: ‘config’/));
  assert.throws(() => parseFinders(''), isErr('EINVAL', /must not be empty/));
  await assert.rejects(findRemotes(local.repo, wanted, ['lan']), isErr('EINVAL', /Avahi/));
});

test('createUsb: an archive mirror on the volume with collection–refs and a summary; a symlink for non-standard places; not the source', async () => {
  const src = await repoWith('org.example.Usb', ['one', 'two']);
  const mount = path.join(src.dir, 'mount');
  fs.mkdirSync(mount);
  assert.equal(await createUsb(src.repo, mount, [{ collectionId: 'org.example.Usb', ref: 'one' }]), '.ostree/repo');
  const dest = await Repo.open(path.join(mount, '.ostree/repo'));
  assert.equal(dest.mode, 'archive');
  assert.deepEqual(listCollectionRefs(dest).map((r) => [r.collectionId, r.ref, r.checksum]), [['org.example.Usb', 'one', src.c['one']]]);
  assert.ok(fs.existsSync(path.join(dest.path, 'summary')));
  assert.equal(fs.existsSync(path.join(mount, '.ostree/repos.d')), false);
  await createUsb(src.repo, mount, [{ collectionId: 'org.example.Usb', ref: 'two' }], { destinationRepo: 'elsewhere' });
  await createUsb(src.repo, mount, [{ collectionId: 'org.example.Usb', ref: 'one' }], { destinationRepo: 'elsewhere' });
  assert.deepEqual(fs.readdirSync(path.join(mount, '.ostree/repos.d')), ['00-generated']);
  assert.equal(fs.readlinkSync(path.join(mount, '.ostree/repos.d/00-generated')), '../../elsewhere');
  await assert.rejects(createUsb(src.repo, mount, [{ collectionId: 'org.example.Usb', ref: 'nope' }]), isErr('ENOENT', /\(org\.example\.Usb, nope\) not found/));
  await assert.rejects(createUsb(src.repo, mount, [{ collectionId: 'org.example.Usb', ref: 'one' }], { destinationRepo: '../outside' }), isErr('EINVAL', /descendent of MOUNT-PATH/));
  await assert.rejects(createUsb(src.repo, src.dir, [{ collectionId: 'org.example.Usb', ref: 'one' }], { destinationRepo: 'repo' }), isErr('EINVAL', /must not be the source repository/));
});
