import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  diffEtc, applyEtcMerge, formatConfigDiff, formatEtcMergeSummary, mergeEtc, type EtcDiff,
} from '../../src/sysroot/etc-merge.js';
import { isOstreeError } from '../../src/errors.js';
import * as libc from '../../src/native/libc.js';
import { treeSnapshot, writeFileAt } from '../common/tree.js';
import { removeTree } from '../../src/util/dirfd.js';

// tmpfs (when available) allocates inode numbers in creation order, which makes the
// GIO walk order (inode-sorted) predictable for the exact-output assertions
const BASE = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const isRoot = process.getuid?.() === 0;

async function scratch(fn: (d: string) => Promise<void>): Promise<void> {
  const d = await fsp.mkdtemp(path.join(BASE, 'etcmerge-'));
  try { await fn(d); } finally { await fsp.rm(d, { recursive: true, force: true }); }
}

/** The first experiment of the notes (§3 / §9.1), built the way upstream's test does it. */
async function firstExperiment(d: string): Promise<{ orig: string; mod: string; neu: string }> {
  const orig = path.join(d, 'old/usr/etc');
  const mod = path.join(d, 'old/etc');
  const neu = path.join(d, 'new/etc');
  // defaults of the first commit
  await writeFileAt(path.join(orig, 'aconfigfile'), 'a default\n');
  await writeFileAt(path.join(orig, 'NetworkManager/nm.conf'), 'a default\n');
  await writeFileAt(path.join(orig, 'testdirectory/test'), 'a default\n');
  await writeFileAt(path.join(orig, 'os-release'), 'NAME=TestOS\n');
  // deploy: etc is a copy of usr/etc
  execFileSync('cp', ['-a', orig, mod]);
  // admin edits
  await fsp.writeFile(path.join(mod, 'aconfigfile'), 'locally modified\n');
  await fsp.chmod(path.join(mod, 'NetworkManager/nm.conf'), 0o600);
  await fsp.rm(path.join(mod, 'testdirectory/test'));
  await writeFileAt(path.join(mod, 'localfile'), 'localfile\n');
  await writeFileAt(path.join(mod, 'localdir/y'), 'y\n');
  await fsp.symlink('/dev/null', path.join(mod, 'locallink'));
  // new commit's defaults, already copied to the new deployment's etc
  await writeFileAt(path.join(neu, 'aconfigfile'), 'new default\n');
  await writeFileAt(path.join(neu, 'NetworkManager/nm.conf'), 'a default\n');
  await writeFileAt(path.join(neu, 'testdirectory/test'), 'changed default\n');
  await writeFileAt(path.join(neu, 'os-release'), 'NAME=TestOS\n');
  await writeFileAt(path.join(neu, 'a-new-default-config-file'), 'new\n');
  await writeFileAt(path.join(neu, 'new-default-dir/moo'), 'moo\n');
  return { orig, mod, neu };
}

test('etc-merge: observed first experiment — config-diff text, summary and resulting /etc', async () => {
  await scratch(async (d) => {
    const { orig, mod, neu } = await firstExperiment(d);
    const diff = await diffEtc(orig, mod);
    assert.equal(formatConfigDiff(diff),
      'M    aconfigfile\nM    NetworkManager/nm.conf\nD    testdirectory/test\n' +
      'A    localfile\nA    localdir\nA    localdir/y\nA    locallink\n');
    assert.equal(formatEtcMergeSummary(diff), 'Copying /etc changes: 2 modified, 1 removed, 4 added');
    await applyEtcMerge(diff, mod, neu);
    assert.equal(await fsp.readFile(path.join(neu, 'aconfigfile'), 'utf8'), 'locally modified\n');
    assert.equal((await fsp.stat(path.join(neu, 'NetworkManager/nm.conf'))).mode & 0o7777, 0o600);
    assert.deepEqual(await fsp.readdir(path.join(neu, 'testdirectory')), []); // stays deleted
    assert.equal(await fsp.readFile(path.join(neu, 'localfile'), 'utf8'), 'localfile\n');
    assert.equal(await fsp.readFile(path.join(neu, 'localdir/y'), 'utf8'), 'y\n');
    assert.equal(await fsp.readlink(path.join(neu, 'locallink')), '/dev/null');
    assert.equal(await fsp.readFile(path.join(neu, 'a-new-default-config-file'), 'utf8'), 'new\n');
    assert.equal(await fsp.readFile(path.join(neu, 'new-default-dir/moo'), 'utf8'), 'moo\n');
    assert.equal(await fsp.readFile(path.join(neu, 'os-release'), 'utf8'), 'NAME=TestOS\n');
    // a second diff of the merged result against the new defaults shows exactly the admin's changes
    const orig2 = path.join(d, 'new/usr/etc');
    await writeFileAt(path.join(orig2, 'aconfigfile'), 'new default\n');
    await writeFileAt(path.join(orig2, 'NetworkManager/nm.conf'), 'a default\n');
    await writeFileAt(path.join(orig2, 'testdirectory/test'), 'changed default\n');
    await writeFileAt(path.join(orig2, 'os-release'), 'NAME=TestOS\n');
    await writeFileAt(path.join(orig2, 'a-new-default-config-file'), 'new\n');
    await writeFileAt(path.join(orig2, 'new-default-dir/moo'), 'moo\n');
    const again = await diffEtc(orig2, neu);
    assert.deepEqual([...again.modified].sort(), ['NetworkManager/nm.conf', 'aconfigfile']);
    assert.deepEqual(again.removed, ['testdirectory/test']);
    assert.deepEqual([...again.added].sort(), ['localdir', 'localdir/y', 'localfile', 'locallink']);
  });
});

test('etc-merge: mergeEtc prints the summary and returns the diff', async () => {
  await scratch(async (d) => {
    const { orig, mod, neu } = await firstExperiment(d);
    const printed: string[] = [];
    const diff = await mergeEtc(orig, mod, neu, { print: (m) => printed.push(m) });
    assert.deepEqual(printed, ['Copying /etc changes: 2 modified, 1 removed, 4 added']);
    assert.equal(diff.added.length, 4);
  });
});

test('etc-merge: walk order is inode (creation) order, added entries after subdirectory results', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'orig'), mod = path.join(d, 'mod');
    await fsp.mkdir(orig); await fsp.mkdir(mod);
    for (const n of ['zz', 'mm', 'aa']) { await writeFileAt(path.join(orig, n), 'x'); await writeFileAt(path.join(mod, n), 'y'); }
    await fsp.mkdir(path.join(orig, 'sub')); await fsp.mkdir(path.join(mod, 'sub'));
    await writeFileAt(path.join(mod, 'top-added'), '1');
    await writeFileAt(path.join(mod, 'sub/inner-added'), '2');
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff.modified, ['zz', 'mm', 'aa']);
    assert.deepEqual(diff.added, ['sub/inner-added', 'top-added']);
    assert.deepEqual(diff.removed, []);
  });
});

test('etc-merge: identical trees give an empty diff (mtimes ignored)', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o');
    await writeFileAt(path.join(orig, 'a/b'), 'same');
    await fsp.symlink('b', path.join(orig, 'a/l'));
    execFileSync('cp', ['-a', orig, path.join(d, 'm')]);
    await fsp.utimes(path.join(d, 'm/a/b'), 1000, 1000);
    const diff = await diffEtc(orig, path.join(d, 'm'));
    assert.deepEqual(diff, { modified: [], removed: [], added: [] });
    assert.equal(formatConfigDiff(diff), '');
  });
});

test('etc-merge: mode-only and owner-only changes are modifications and are carried over', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'modeonly'), 'c', 0o644);
    await writeFileAt(path.join(orig, 'owneronly'), 'c', 0o644);
    await writeFileAt(path.join(orig, 'samesize'), 'abc');
    execFileSync('cp', ['-a', orig, mod]);
    execFileSync('cp', ['-a', orig, neu]);
    await fsp.chmod(path.join(mod, 'modeonly'), 0o4755);
    await fsp.writeFile(path.join(mod, 'samesize'), 'abd');
    if (isRoot) await fsp.chown(path.join(mod, 'owneronly'), 1234, 4321);
    const diff = await diffEtc(orig, mod);
    assert.deepEqual([...diff.modified].sort(), (isRoot ? ['modeonly', 'owneronly', 'samesize'] : ['modeonly', 'samesize']));
    await applyEtcMerge(diff, mod, neu);
    assert.equal((await fsp.stat(path.join(neu, 'modeonly'))).mode & 0o7777, 0o4755);
    assert.equal(await fsp.readFile(path.join(neu, 'samesize'), 'utf8'), 'abd');
    if (isRoot) {
      const st = await fsp.stat(path.join(neu, 'owneronly'));
      assert.deepEqual([st.uid, st.gid], [1234, 4321]);
    }
  });
});

test('etc-merge: symlinks — retarget is a modification, dangling links survive, never followed', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await fsp.mkdir(orig);
    await fsp.symlink('target-a', path.join(orig, 'link'));
    await writeFileAt(path.join(orig, 'file'), 'f');
    execFileSync('cp', ['-a', orig, mod]);
    execFileSync('cp', ['-a', orig, neu]);
    await fsp.unlink(path.join(mod, 'link'));
    await fsp.symlink('target-b', path.join(mod, 'link'));
    await fsp.symlink('/nonexistent/dangling', path.join(mod, 'dangling'));
    await fsp.rm(path.join(mod, 'file'));
    await fsp.symlink('/etc/passwd', path.join(mod, 'file')); // file → symlink: type change
    const diff = await diffEtc(orig, mod);
    assert.deepEqual([...diff.modified].sort(), ['file', 'link']);
    assert.deepEqual(diff.added, ['dangling']);
    await applyEtcMerge(diff, mod, neu);
    assert.equal(await fsp.readlink(path.join(neu, 'link')), 'target-b');
    assert.equal(await fsp.readlink(path.join(neu, 'dangling')), '/nonexistent/dangling');
    assert.equal(await fsp.readlink(path.join(neu, 'file')), '/etc/passwd');
  });
});

test('etc-merge: deleted default directory with a local file inside — parent chain recreated with modified modes', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'a/b/default.conf'), 'default');
    execFileSync('cp', ['-a', orig, mod]);
    await writeFileAt(path.join(mod, 'a/b/c/d/e/local.conf'), 'local');
    await fsp.chmod(path.join(mod, 'a'), 0o700);
    await fsp.chmod(path.join(mod, 'a/b'), 0o770);
    await fsp.chmod(path.join(mod, 'a/b/c'), 0o777);
    await fsp.chmod(path.join(mod, 'a/b/c/d'), 0o707);
    await fsp.chmod(path.join(mod, 'a/b/c/d/e'), 0o700);
    await fsp.rm(path.join(mod, 'a/b/default.conf'));
    await fsp.mkdir(neu); // the new defaults dropped a/ entirely
    await writeFileAt(path.join(neu, 'other'), 'o');
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff.modified, ['a', 'a/b']); // the chmods
    assert.deepEqual(diff.removed, ['a/b/default.conf']);
    assert.deepEqual(diff.added, ['a/b/c', 'a/b/c/d', 'a/b/c/d/e', 'a/b/c/d/e/local.conf']);
    await applyEtcMerge(diff, mod, neu);
    const mode = async (r: string): Promise<number> => (await fsp.stat(path.join(neu, r))).mode & 0o7777;
    assert.deepEqual([await mode('a'), await mode('a/b'), await mode('a/b/c'), await mode('a/b/c/d'), await mode('a/b/c/d/e')],
      [0o700, 0o770, 0o777, 0o707, 0o700]);
    assert.equal(await fsp.readFile(path.join(neu, 'a/b/c/d/e/local.conf'), 'utf8'), 'local');
    assert.equal(existsSync(path.join(neu, 'a/b/default.conf')), false);
  });
});

test('etc-merge: only an added file deep in a removed tree — created ancestors get modified attributes', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await fsp.mkdir(path.join(orig, 'x/y'), { recursive: true });
    execFileSync('cp', ['-a', orig, mod]);
    await writeFileAt(path.join(mod, 'x/y/z.conf'), 'z');
    await fsp.mkdir(neu);
    // only the file is a diff item (dirs unchanged) — but x and x/y are missing in new
    const diff: EtcDiff = await diffEtc(orig, mod);
    assert.deepEqual(diff, { modified: [], removed: [], added: ['x/y/z.conf'] });
    await fsp.chmod(path.join(mod, 'x'), 0o750);
    await fsp.chmod(path.join(mod, 'x/y'), 0o705);
    await applyEtcMerge(diff, mod, neu);
    assert.equal((await fsp.stat(path.join(neu, 'x'))).mode & 0o7777, 0o750);
    assert.equal((await fsp.stat(path.join(neu, 'x/y'))).mode & 0o7777, 0o705);
  });
});

test('etc-merge: a directory chmod is carried only if something inside it is copied', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'quiet/f'), 'f');
    await writeFileAt(path.join(orig, 'busy/f'), 'f');
    await fsp.chmod(path.join(orig, 'quiet'), 0o755);
    await fsp.chmod(path.join(orig, 'busy'), 0o755);
    execFileSync('cp', ['-a', orig, mod]);
    execFileSync('cp', ['-a', orig, neu]);
    await fsp.chmod(path.join(mod, 'quiet'), 0o700);
    await fsp.chmod(path.join(mod, 'busy'), 0o700);
    await fsp.writeFile(path.join(mod, 'busy/f'), 'changed');
    const diff = await diffEtc(orig, mod);
    assert.deepEqual([...diff.modified].sort(), ['busy', 'busy/f', 'quiet']);
    await applyEtcMerge(diff, mod, neu);
    assert.equal((await fsp.stat(path.join(neu, 'quiet'))).mode & 0o7777, 0o755); // upstream quirk
    assert.equal((await fsp.stat(path.join(neu, 'busy'))).mode & 0o7777, 0o700);
  });
});

test('etc-merge: file that newly defaults to a directory is ESTATE and nothing is changed', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'foo'), 'default');
    await writeFileAt(path.join(orig, 'gone'), 'x');
    await writeFileAt(path.join(orig, 'aaa'), 'x');
    execFileSync('cp', ['-a', orig, mod]);
    await fsp.writeFile(path.join(mod, 'aaa'), 'changed too'); // processed before foo would be
    await fsp.writeFile(path.join(mod, 'foo'), 'admin edit');
    await fsp.rm(path.join(mod, 'gone'));
    await writeFileAt(path.join(neu, 'foo/now-a-dir.conf'), 'new');
    await writeFileAt(path.join(neu, 'gone'), 'x');
    await writeFileAt(path.join(neu, 'aaa'), 'x');
    const before = await treeSnapshot(neu);
    const diff = await diffEtc(orig, mod);
    await assert.rejects(applyEtcMerge(diff, mod, neu), (e: unknown) => isOstreeError(e, 'ESTATE')
      && (e as Error).message === "Modified config file newly defaults to directory 'foo', cannot merge");
    assert.deepEqual(await treeSnapshot(neu), before);
  });
});

test('etc-merge: directory replaced by a file in the new defaults, while a local file lives in it', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await fsp.mkdir(path.join(orig, 'conf.d'), { recursive: true });
    execFileSync('cp', ['-a', orig, mod]);
    await writeFileAt(path.join(mod, 'conf.d/local.conf'), 'l');
    await writeFileAt(path.join(neu, 'conf.d'), 'now a file');
    const before = await treeSnapshot(neu);
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff.added, ['conf.d/local.conf']);
    await assert.rejects(applyEtcMerge(diff, mod, neu), (e: unknown) => isOstreeError(e, 'ESTATE')
      && /needs directory 'conf.d'/.test((e as Error).message));
    assert.deepEqual(await treeSnapshot(neu), before);
  });
});

test('etc-merge: a removed path makes room — no conflict when the dir default is removed by the admin', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'svc/x.conf'), 'x');
    execFileSync('cp', ['-a', orig, mod]);
    await fsp.rm(path.join(mod, 'svc'), { recursive: true });
    await writeFileAt(path.join(mod, 'svc'), 'admin replaced the dir by a file'); // type change → modified
    await writeFileAt(path.join(neu, 'svc/x.conf'), 'new default');
    await writeFileAt(path.join(neu, 'svc/y.conf'), 'another new default');
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff.modified, ['svc']);
    // upstream: new has a directory at svc and the modified item is a file → conflict
    await assert.rejects(applyEtcMerge(diff, mod, neu), (e: unknown) => isOstreeError(e, 'ESTATE'));
  });
});

test('etc-merge: modified directory whose new default is a file is replaced by the admin directory', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'dd/keep'), 'k');
    execFileSync('cp', ['-a', orig, mod]);
    await fsp.chmod(path.join(mod, 'dd'), 0o700);
    await writeFileAt(path.join(mod, 'dd/x'), 'admin');
    await writeFileAt(path.join(neu, 'dd'), 'dd is a file in the new defaults');
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff, { modified: ['dd'], removed: [], added: ['dd/x'] });
    await applyEtcMerge(diff, mod, neu); // no conflict: the file is unlinked, the dir copied
    assert.equal((await fsp.stat(path.join(neu, 'dd'))).mode & 0o7777, 0o700);
    assert.equal(await fsp.readFile(path.join(neu, 'dd/x'), 'utf8'), 'admin');
    assert.equal(await fsp.readFile(path.join(neu, 'dd/keep'), 'utf8'), 'k');
  });
});

test('etc-merge: type change file → directory copies the whole directory', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'thing'), 'file');
    execFileSync('cp', ['-a', orig, mod]);
    execFileSync('cp', ['-a', orig, neu]);
    await fsp.rm(path.join(mod, 'thing'));
    await writeFileAt(path.join(mod, 'thing/inner/deep'), 'deep');
    await fsp.symlink('inner/deep', path.join(mod, 'thing/ln'));
    await fsp.chmod(path.join(mod, 'thing'), 0o751);
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff, { modified: ['thing'], removed: [], added: [] }); // no recursion on type change
    await applyEtcMerge(diff, mod, neu);
    assert.equal((await fsp.stat(path.join(neu, 'thing'))).mode & 0o7777, 0o751);
    assert.equal(await fsp.readFile(path.join(neu, 'thing/inner/deep'), 'utf8'), 'deep');
    assert.equal(await fsp.readlink(path.join(neu, 'thing/ln')), 'inner/deep');
  });
});

test('etc-merge: special files are skipped with a message (top level and nested)', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await fsp.mkdir(orig); await fsp.mkdir(neu);
    await fsp.mkdir(mod);
    execFileSync('mkfifo', [path.join(mod, 'fifo')]);
    await writeFileAt(path.join(mod, 'dir/regular'), 'r');
    execFileSync('mkfifo', [path.join(mod, 'dir/nested-fifo')]);
    const diff = await diffEtc(orig, mod);
    assert.deepEqual([...diff.added].sort(), ['dir', 'dir/nested-fifo', 'dir/regular', 'fifo']);
    const log: string[] = [];
    await applyEtcMerge(diff, mod, neu, { log: (m) => log.push(m) });
    assert.equal(existsSync(path.join(neu, 'fifo')), false);
    assert.equal(existsSync(path.join(neu, 'dir/nested-fifo')), false);
    assert.equal(await fsp.readFile(path.join(neu, 'dir/regular'), 'utf8'), 'r');
    assert.ok(log.includes('Ignoring non-regular/non-symlink file found during /etc merge: fifo'));
    assert.ok(log.includes('Ignoring non-regular/non-symlink file found during /etc merge: dir/nested-fifo'));
  });
});

test('etc-merge: xattrs are ignored by the diff but copied with modified files and created dirs', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await writeFileAt(path.join(orig, 'labelled'), 'same');
    await writeFileAt(path.join(orig, 'changed'), 'old');
    execFileSync('cp', ['-a', orig, mod]);
    await fsp.mkdir(neu);
    libc.lsetxattr(path.join(mod, 'labelled'), 'user.label', Buffer.from('x'));
    await fsp.writeFile(path.join(mod, 'changed'), 'new');
    libc.lsetxattr(path.join(mod, 'changed'), 'user.label', Buffer.from('kept'));
    await writeFileAt(path.join(mod, 'newdir/f'), 'f');
    libc.lsetxattr(path.join(mod, 'newdir'), 'user.dirlabel', Buffer.from('d'));
    const diff = await diffEtc(orig, mod);
    assert.deepEqual(diff.modified, ['changed']);
    assert.deepEqual(diff.added, ['newdir', 'newdir/f']);
    await applyEtcMerge(diff, mod, neu);
    assert.equal(libc.lgetxattr(path.join(neu, 'changed'), 'user.label')?.toString(), 'kept');
    assert.equal(libc.lgetxattr(path.join(neu, 'newdir'), 'user.dirlabel')?.toString(), 'd');
    const neu2 = path.join(d, 'n2');
    await fsp.mkdir(neu2);
    await applyEtcMerge(diff, mod, neu2, { noXattrs: true });
    assert.equal(libc.lgetxattr(path.join(neu2, 'changed'), 'user.label'), null);
  });
});

test('etc-merge: missing input directories are reported', async () => {
  await scratch(async (d) => {
    await fsp.mkdir(path.join(d, 'm'));
    await assert.rejects(diffEtc(path.join(d, 'nope'), path.join(d, 'm')), (e: unknown) => isOstreeError(e, 'ENOENT'));
  });
});

test('etc-merge: trees deeper than one path can hold (3,000 levels; 200-byte names past PATH_MAX) diff and merge', async () => {
  await scratch(async (d) => {
    const orig = path.join(d, 'o'), mod = path.join(d, 'm'), neu = path.join(d, 'n');
    await fsp.mkdir(orig); await fsp.mkdir(neu);
    const chain = (base: string, depth: number, name: string): void => {
      const script = 'import os,sys\nos.makedirs(sys.argv[1], exist_ok=True)\nos.chdir(sys.argv[1])\n' +
        'for i in range(int(sys.argv[2])):\n    os.mkdir(sys.argv[3]); os.chdir(sys.argv[3])\nopen("leaf","w").write("x")\n';
      execFileSync('python3', ['-c', script, base, String(depth), name]);
    };
    chain(path.join(mod, 'deep'), 3000, 'd');
    chain(path.join(mod, 'long'), 30, 'n'.repeat(200));
    // the same long chain in the defaults and the new tree, with a modified file at the bottom
    chain(path.join(orig, 'both'), 30, 'b'.repeat(200));
    chain(path.join(neu, 'both'), 30, 'b'.repeat(200));
    chain(path.join(mod, 'both'), 30, 'b'.repeat(200));
    execFileSync('python3', ['-c', 'import os,sys\nos.chdir(sys.argv[1])\nfor i in range(30): os.chdir("b"*200)\nopen("leaf","w").write("changed")\n', path.join(mod, 'both')]);
    const diff = await diffEtc(orig, mod);
    assert.equal(diff.added.length, 1 + 3000 + 1 + 1 + 30 + 1);
    assert.equal(diff.modified.length, 1);
    assert.ok(diff.modified[0]!.endsWith('/leaf') && diff.modified[0]!.length > 6000);
    await applyEtcMerge(diff, mod, neu);
    const again = await diffEtc(mod, neu);
    assert.deepEqual(again, { modified: [], removed: [], added: [] });
    for (const t of [orig, mod, neu]) removeTree(t); // (fs.rm cannot: ENAMETOOLONG)
  });
});
