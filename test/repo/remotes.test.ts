/** Remotes (src/repo/remotes.ts): one add/delete/list/url with one set of checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { Repo } from '../../src/repo/repo.js';
import { addRemote, getRemote, listRemotes, remoteBranches, remoteUrl, removeRemote } from '../../src/repo/remotes.js';
import { tempDir } from '../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

async function newRepo(): Promise<Repo> {
  const d = tempDir('remotes-test-');
  return Repo.create(path.join(d, 'repo'), 'archive');
}

test('add, list, url, delete; options kept in order; if-not-exists and if-exists', async () => {
  const repo = await newRepo();
  await addRemote(repo, 'origin', 'https://example.com/repo', [['gpg-verify', 'false'], ['branches', 'a;b;']]);
  const cfg = fs.readFileSync(path.join(repo.path, 'config'), 'utf8');
  assert.match(cfg, /\[remote "origin"\]\nurl=https:\/\/example.com\/repo\ngpg-verify=false\nbranches=a;b;\n/);
  assert.equal(remoteUrl(repo, 'origin'), 'https://example.com/repo');
  assert.deepEqual(remoteBranches(getRemote(repo, 'origin')), ['a', 'b']);
  await assert.rejects(addRemote(repo, 'origin', 'https://x'), isErr('EEXIST', /Remote configuration for "origin" already exists/));
  await addRemote(repo, 'origin', 'https://x', [], { ifNotExists: true });
  assert.equal(remoteUrl(repo, 'origin'), 'https://example.com/repo');
  await repo.setRef('origin:main', 'a'.repeat(64));
  // The Repo method takes a record, as deploy does.
  await repo.addRemote('second', 'file:///srv/repo', { 'gpg-verify': 'false' });
  assert.deepEqual(listRemotes(repo).map((r) => r.name), ['origin', 'second']);
  await removeRemote(repo, 'origin');
  assert.equal(fs.existsSync(path.join(repo.path, 'refs/remotes/origin')), false, "the remote's refs go with it");
  await assert.rejects(removeRemote(repo, 'origin'), isErr('ENOENT', /Remote "origin" not found/));
  await removeRemote(repo, 'origin', { ifExists: true });
  assert.throws(() => remoteUrl(repo, 'origin'), isErr('ENOENT', /configured remotes: second/));
  // What was written is what a fresh open reads.
  assert.deepEqual(listRemotes(await Repo.open(repo.path)).map((r) => r.name), ['second']);
});

test('names, URLs, option keys and values are validated before anything is written', async () => {
  const repo = await newRepo();
  const before = fs.readFileSync(path.join(repo.path, 'config'), 'utf8');
  for (const bad of ['', '.', '..', '../x', 'a/b', 'x\ny', 'x\0y', '-x']) {
    await assert.rejects(addRemote(repo, bad, 'https://x'), isErr('EINVAL', /Invalid remote name/), JSON.stringify(bad));
    await assert.rejects(removeRemote(repo, bad, { ifExists: true }), isErr('EINVAL', /Invalid remote name/));
  }
  await assert.rejects(addRemote(repo, 'ok', ''), isErr('EINVAL', /empty URL/));
  await assert.rejects(addRemote(repo, 'ok', 'https://x/\n[core]\nmode=bare'), isErr('EINVAL', /line break/));
  for (const key of ['', 'a=b', 'a/b', '[core]', 'a\nb', 'a b', '..x', 'x..y']) {
    await assert.rejects(addRemote(repo, 'ok', 'https://x', [[key, 'v']]), isErr('EINVAL', /invalid option name/), JSON.stringify(key));
  }
  for (const value of ['a\nb', 'a\rb', 'a\0b']) {
    await assert.rejects(addRemote(repo, 'ok', 'https://x', [['k', value]]), isErr('EINVAL', /line break or control character/), JSON.stringify(value));
  }
  await assert.rejects(addRemote(repo, 'ok', 'https://x', [['url', 'https://y']]), isErr('EINVAL', /given as an argument/));
  assert.equal(fs.readFileSync(path.join(repo.path, 'config'), 'utf8'), before);
  assert.equal(repo.config.hasGroup('remote "ok"'), false);
});

test('system remotes in SYSROOT/etc/ostree/remotes.d: listed after the config, duplicates refused, deleted from their file', async () => {
  const root = tempDir('remotes-sysroot-');
  fs.mkdirSync(path.join(root, 'sysroot')); // a deployment's root (a physical sysroot keeps remotes in the repo config)
  const repo = await Repo.create(path.join(root, 'ostree/repo'), 'bare');
  const dir = path.join(root, 'etc/ostree/remotes.d');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.conf'), '[remote "sys"]\nurl=http://sys/\n\n[remote "other"]\nurl=http://other/\n');
  await addRemote(repo, 'local', 'http://local/');
  assert.deepEqual(listRemotes(repo).map((r) => `${r.name}@${path.basename(r.file)}`), ['local@config', 'sys@a.conf', 'other@a.conf']);
  await assert.rejects(addRemote(repo, 'sys', 'http://x/'), isErr('EEXIST', /already exists: .*a\.conf/));
  await removeRemote(repo, 'sys');
  assert.equal(fs.readFileSync(path.join(dir, 'a.conf'), 'utf8'), '[remote "other"]\nurl=http://other/\n');
  await removeRemote(repo, 'other');
  assert.equal(fs.existsSync(path.join(dir, 'a.conf')), false);
  fs.writeFileSync(path.join(dir, 'b.conf'), '[remote "local"]\nurl=http://dup/\n');
  assert.throws(() => listRemotes(repo), isErr('ECONFIG', /Multiple remotes exist with the same name 'local'/));
});

test('addRemote: replace rewrites the group where it is defined; a given sysroot puts new remotes in remotes.d; core.parent remotes are inherited for listing', async () => {
  const root = tempDir('remotes-replace-');
  const repo = await Repo.create(path.join(root, 'repo'), 'bare');
  await addRemote(repo, 'a', 'http://a/', [['gpg-verify', 'false']]);
  await addRemote(repo, 'a', 'http://other/', [], { ifNotExists: true });
  assert.equal(listRemotes(repo)[0]!.url, 'http://a/');
  await addRemote(repo, 'a', 'http://b/', [['collection-id', 'org.example.C']], { replace: true });
  const reopened = await Repo.open(repo.path);
  assert.deepEqual([...listRemotes(reopened)[0]!.options], [['url', 'http://b/'], ['collection-id', 'org.example.C']]);

  const sysroot = path.join(root, 'sysroot');
  fs.mkdirSync(path.join(sysroot, 'sysroot'), { recursive: true }); // a deployment's root: remotes.d is used
  const sysRepo = await Repo.create(path.join(sysroot, 'ostree/repo'), 'bare');
  await addRemote(sysRepo, 's', 'http://s/', [], { sysroot });
  assert.equal(fs.readFileSync(path.join(sysroot, 'etc/ostree/remotes.d/s.conf'), 'utf8'), '[remote "s"]\nurl=http://s/\n');
  assert.equal(sysRepo.config.hasGroup('remote "s"'), false);
  await addRemote(sysRepo, 's', 'http://s2/', [], { sysroot, replace: true });
  assert.equal(fs.readFileSync(path.join(sysroot, 'etc/ostree/remotes.d/s.conf'), 'utf8'), '[remote "s"]\nurl=http://s2/\n');

  const child = await Repo.create(path.join(root, 'child'), 'bare');
  child.config.set('core', 'parent', repo.path);
  await addRemote(child, 'own', 'http://own/');
  assert.deepEqual(listRemotes(child).map((r) => r.name), ['own']);
  assert.deepEqual(listRemotes(child, { inherit: true }).map((r) => r.name), ['own', 'a']);
  repo.config.set('core', 'parent', child.path);
  await repo.saveConfig();
  await child.saveConfig();
  assert.throws(() => listRemotes(child, { inherit: true }), isErr('ECONFIG', /core\.parent chain/));
});
