/**
 * Hostile inputs to the sysroot side, tried through our CLI where there is a verb for them:
 * stateroot and deployment names that would leave the sysroot, bad deployment indexes and a
 * pinned undeploy, trees too deep for one path, symlinks and FIFOs in /etc, and files too large
 * to parse.  Each refusal is checked for its error text, a non-zero exit, no stack trace, and a
 * sysroot (and its surroundings) byte-identical before and after (harness.ts expectRefusal).
 * Sysroots live on a private tmpfs (sysroot-helpers.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpfsScratch, ok, ours, commitTree, makeTree, checkBootConfigComplete, type Scratch } from '../common/sysroot-helpers.js';
import { expectRefusal, runCli, runCliMeasured, snapshot, snapshotDiff } from './harness.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';
import { undeploy } from '../../src/sysroot/deploy/edit.js';
import { isOstreeError } from '../../src/errors.js';
import { removeTree } from '../../src/util/dirfd.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-hostile-sysroot-'); });
after(() => { scratch.cleanup(); });

const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

interface Fixture { root: string; sysroot: string; repo: string; tree: string; c1: string; sr: string }

/**
 * `<scratch>/<name>/a/b/sysroot` with stateroot testos and two deployments of testos/stable
 * (the sysroot sits three levels down, so a `../../..` name would land inside `<name>`,
 * which the tests snapshot whole).
 */
async function fixture(name: string, etc: Record<string, string> = { 'aconf': 'default\n' }): Promise<Fixture> {
  const root = path.join(scratch.dir, name);
  const sysroot = path.join(root, 'a/b/sysroot');
  fs.mkdirSync(sysroot, { recursive: true });
  ok(ours(['admin', 'init-fs', sysroot]));
  ok(ours(['admin', 'os-init', `--sysroot=${sysroot}`, 'testos']));
  const repo = path.join(sysroot, 'ostree/repo');
  const tree = makeTree(path.join(root, 'tree'), { etc });
  const c1 = await commitTree(repo, tree, 'testos/stable', '1.0');
  const sr = `--sysroot=${sysroot}`;
  ok(ours(['admin', 'deploy', sr, '--os=testos', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', sr, '--os=testos', 'testos/stable'], MUT));
  return { root, sysroot, repo, tree, c1, sr };
}

function refuse(f: Fixture, args: string[], stderr: Array<string | RegExp>, env: NodeJS.ProcessEnv = MUT): void {
  expectRefusal(args, { stderr, unchanged: [f.root], env, ignore: ['a/b/sysroot/ostree/repo/.lock'] });
}

// ---------------------------------------------------------------------------------------------
// Names

test('names: deploy --os with .., /, empty, a newline or a tab is refused; nothing written outside', async () => {
  const f = await fixture('names-deploy');
  for (const os of ['../../../../outside', '..', '.', 'a/b', '', 'a\nb', 'tab\there', '/abs']) {
    refuse(f, ['admin', 'deploy', f.sr, `--os=${os}`, 'testos/stable'], [/Invalid stateroot name/]);
  }
  assert.equal(fs.existsSync(path.join(f.root, 'outside')), false);
  // --stage goes through the same check first
  refuse(f, ['admin', 'deploy', '--stage', f.sr, '--os=../../x', 'testos/stable'], [/Invalid stateroot name "\.\.\/\.\.\/x": it contains '\/'/]);
});

test('names: os-init, upgrade, switch and config-diff validate --os / the stateroot name', async () => {
  const f = await fixture('names-verbs');
  for (const name of ['..', '../../../../y', '', 'x\ny']) {
    refuse(f, ['admin', 'os-init', f.sr, name], [/Invalid stateroot name/]);
  }
  refuse(f, ['admin', 'upgrade', f.sr, '--os=../..'], [/Invalid stateroot name/]);
  refuse(f, ['admin', 'switch', f.sr, '--os=..', 'testos/other'], [/Invalid stateroot name/]);
  refuse(f, ['admin', 'config-diff', f.sr, '--os=../../etc'], [/Invalid stateroot name/]);
});

test('names: a BLS entry whose ostree= names stateroot ".." is corrupt: status, deploy and cleanup refuse, naming the file', async () => {
  const f = await fixture('names-bls');
  const entries = path.join(f.sysroot, 'boot/loader/entries');
  const name = fs.readdirSync(entries).sort()[0]!;
  const text = fs.readFileSync(path.join(entries, name), 'utf8');
  fs.writeFileSync(path.join(entries, name), text.replace(/ostree=\/ostree\/boot\.(\d)\/testos\//, 'ostree=/ostree/boot.$1/../'));
  const file = new RegExp(`${name.replace(/[.]/g, '\\.')}: invalid stateroot name "\\.\\."`);
  refuse(f, ['admin', 'status', f.sr], [file]);
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', 'testos/stable'], [file]);
  refuse(f, ['admin', 'cleanup', f.sr], [file]);
});

test('names: a bootlink pointing at a deployment named ".." is corrupt, not followed', async () => {
  const f = await fixture('names-bootlink');
  const loader = fs.readlinkSync(path.join(f.sysroot, 'boot/loader'));
  const text = fs.readFileSync(path.join(f.sysroot, 'boot', loader, 'entries', fs.readdirSync(path.join(f.sysroot, 'boot', loader, 'entries'))[0]!), 'utf8');
  const link = path.join(f.sysroot, /ostree=(\S+)/.exec(text)![1]!);
  fs.unlinkSync(link);
  fs.symlinkSync('../../../deploy/testos/deploy/..', link);
  refuse(f, ['admin', 'status', f.sr], [/Invalid deployment name '\.\.'/]);
});

test('names: a stateroot that is a symlink out of the sysroot is not walked by cleanup nor deployed to', async () => {
  const f = await fixture('names-symlinked-stateroot');
  // outside the sysroot: what a cleanup following the link would delete
  const outside = path.join(f.root, 'outside');
  const victim = path.join(outside, `deploy/${'e'.repeat(64)}.0`);
  fs.mkdirSync(victim, { recursive: true });
  fs.writeFileSync(path.join(victim, 'precious'), 'keep me\n');
  fs.symlinkSync(outside, path.join(f.sysroot, 'ostree/deploy/evil'));
  const before = snapshot(outside);
  ok(runCliToResult(['admin', 'cleanup', f.sr]), 'cleanup');
  assert.deepEqual(snapshotDiff(before, snapshot(outside)), []);
  refuse(f, ['admin', 'deploy', f.sr, '--os=evil', 'testos/stable'], [/No such stateroot 'evil'/]);
  assert.deepEqual(snapshotDiff(before, snapshot(outside)), []);
});

function runCliToResult(args: string[], env: NodeJS.ProcessEnv = MUT): { status: number; stdout: string; stderr: string } {
  const r = runCli(args, { env, timeoutMs: 60_000 });
  assert.equal(r.timedOut, false, `ostree ${args.join(' ')} hung`);
  return { status: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('names: set-origin refuses a branch or remote that would break the origin file', async () => {
  const f = await fixture('names-set-origin');
  refuse(f, ['admin', 'set-origin', f.sr, '--index=0', 'origin', 'file:///x', 'branch\n[evil]'], [/ref|Invalid/i]);
  refuse(f, ['admin', 'set-origin', f.sr, '--index=0', 'ori\ngin', 'file:///x', 'main'], [/remote|Invalid/i]);
  // a refspec with a newline never reaches an origin file either
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', 'testos/stable\n[libostree-transient]'], [/Invalid/i]);
});

// ---------------------------------------------------------------------------------------------
// Deployment indexes

test('indexes: pin and set-origin take only plain decimal integers in range', async () => {
  const f = await fixture('indexes-cli');
  for (const bad of ['abc', '1.5', ' 1', '0x1', '+1', '-1', '']) {
    refuse(f, ['admin', 'pin', f.sr, '--', bad], [/Invalid index/]);
    refuse(f, ['admin', 'set-origin', f.sr, `--index=${bad}`, 'o', 'file:///x', 'b'], [/Invalid index/]);
  }
  refuse(f, ['admin', 'pin', f.sr, '2'], ['Out of range deployment index 2, expected < 2']);
  refuse(f, ['admin', 'undeploy', f.sr, '7'], ['Out of range deployment index 7, expected < 2']);
});

test('indexes: the library refuses any index but an in-range integer, and changes nothing', async () => {
  const f = await fixture('indexes-lib');
  const before = snapshot(f.root, ['a/b/sysroot/ostree/repo/.lock']);
  for (const bad of [1.5, -1, Number.NaN, Infinity, 2, 2 ** 53, '0' as unknown as number]) {
    const s = await Sysroot.open(f.sysroot);
    await s.load();
    await assert.rejects(undeploy(s, bad), (e: unknown) => isOstreeError(e, 'EINVAL') && /deployment index/.test((e as Error).message), `undeploy(${String(bad)})`);
    assert.throws(() => s.deploymentAt(bad), (e: unknown) => isOstreeError(e, 'EINVAL'));
  }
  assert.deepEqual(snapshotDiff(before, snapshot(f.root, ['a/b/sysroot/ostree/repo/.lock'])), []);
});

test('indexes: undeploy of a pinned deployment is refused with how to unpin; after unpinning it works', async () => {
  const f = await fixture('indexes-pinned');
  ok(ours(['admin', 'pin', f.sr, '1']));
  refuse(f, ['admin', 'undeploy', f.sr, '1'], [/Cannot undeploy deployment 1 .*pinned/, "ostree admin pin --unpin 1"]);
  ok(ours(['admin', 'pin', '--unpin', f.sr, '1']));
  ok(ours(['admin', 'undeploy', f.sr, '1'], MUT));
  assert.match(ok(ours(['admin', 'status', f.sr])).stdout, /^ {2}testos \S+\.1\n/);
});

// ---------------------------------------------------------------------------------------------
// Depth

/** A chain of `depth` directories named `d` under `base`, built without long paths. */
function deepChain(base: string, depth: number): void {
  const script = 'import os,sys\nos.makedirs(sys.argv[1], exist_ok=True)\nos.chdir(sys.argv[1])\n' +
    'for i in range(int(sys.argv[2])):\n    os.mkdir("d"); os.chdir("d")\nopen("leaf","w").write("x")\n';
  execFileSync('python3', ['-c', script, base, String(depth)]);
}

test('depth: a deployment holding a 10,000-level tree undeploys and cleans up; the sysroot deploys again', async () => {
  const f = await fixture('depth-in-deployment');
  const dd = path.join(f.sysroot, 'ostree/deploy/testos/deploy');
  // an unreferenced deployment directory (what a crashed deploy leaves) and a deployed one
  deepChain(path.join(dd, `${f.c1}.9/usr/deep`), 10_000);
  deepChain(path.join(dd, `${f.c1}.1/usr/deep`), 3_000);
  const r = runCliToResult(['admin', 'cleanup', f.sr]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.existsSync(path.join(dd, `${f.c1}.9`)), false);
  const u = runCliToResult(['admin', 'undeploy', f.sr, '0']); // deployment 0 is serial 1, the newest
  assert.equal(u.status, 0, u.stderr);
  assert.deepEqual(fs.readdirSync(dd).sort(), [`${f.c1}.0`, `${f.c1}.0.origin`]);
  ok(ours(['admin', 'deploy', f.sr, '--os=testos', 'testos/stable'], MUT));
  assert.deepEqual(checkBootConfigComplete(f.sysroot), []);
});

test('depth: commits 2,000 and 10,000 directories deep (our commit --tree=dir=) deploy, undeploy and clean up', async () => {
  const f = await fixture('depth-commit');
  for (const depth of [2_000, 10_000]) {
    const tree = path.join(f.root, `tree-${depth}`);
    execFileSync('cp', ['-a', f.tree, tree]);
    deepChain(path.join(tree, 'usr/share/deep'), depth);
    const branch = `testos/deep${depth}`;
    const c = runCliToResult(['commit', `--repo=${f.repo}`, `--branch=${branch}`, `--tree=dir=${tree}`, '--subject=deep'], {});
    assert.equal(c.status, 0, `commit ${depth}: ${c.stderr.slice(0, 500)}`);
    const d = runCliToResult(['admin', 'deploy', f.sr, '--os=testos', branch]);
    assert.equal(d.status, 0, `deploy ${depth}: ${d.stderr.slice(0, 500)}`);
    assert.deepEqual(checkBootConfigComplete(f.sysroot), []);
    const u = runCliToResult(['admin', 'undeploy', f.sr, '0']);
    assert.equal(u.status, 0, `undeploy ${depth}: ${u.stderr.slice(0, 500)}`);
    const again = runCliToResult(['admin', 'deploy', f.sr, '--os=testos', 'testos/stable']);
    assert.equal(again.status, 0, `deploy after ${depth}: ${again.stderr.slice(0, 500)}`);
    removeTree(tree); // (fs.rmSync recurses per level: a stack overflow at this depth)
  }
});

// ---------------------------------------------------------------------------------------------
// Special files in /etc

/** A new commit whose usr/etc holds `conf.d` as a symlink to `target` (absolute). */
async function commitWithEtcSymlink(f: Fixture, target: string, version: string): Promise<void> {
  const etc = path.join(f.tree, 'usr/etc');
  fs.rmSync(path.join(etc, 'conf.d'), { recursive: true, force: true });
  fs.symlinkSync(target, path.join(etc, 'conf.d'));
  await commitTree(f.repo, f.tree, 'testos/stable', version);
}

test('etc merge: a local file under a directory that newly defaults to a symlink out of the deployment is refused, nothing written there', async () => {
  const f = await fixture('etc-symlink-parent', { 'aconf': 'a\n', 'conf.d/default.conf': 'd\n' });
  const outside = path.join(f.root, 'outside-etc');
  fs.mkdirSync(outside);
  const dep0 = path.join(f.sysroot, `ostree/deploy/testos/deploy/${f.c1}.1`);
  fs.writeFileSync(path.join(dep0, 'etc/conf.d/local.conf'), 'admin\n');
  await commitWithEtcSymlink(f, outside, '2.0');
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', 'testos/stable'], [/needs directory 'conf\.d', but it is a symbolic link in the new \/etc/]);
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('etc merge: a removed default under a directory that newly defaults to a symlink deletes nothing outside', async () => {
  const f = await fixture('etc-symlink-removed', { 'aconf': 'a\n', 'conf.d/default.conf': 'd\n' });
  const outside = path.join(f.root, 'outside-etc');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'default.conf'), 'not the deployment\'s\n');
  const dep0 = path.join(f.sysroot, `ostree/deploy/testos/deploy/${f.c1}.1`);
  fs.rmSync(path.join(dep0, 'etc/conf.d/default.conf')); // the admin removed it: the merge removes it too
  await commitWithEtcSymlink(f, outside, '2.0');
  const before = snapshot(outside);
  const r = runCliToResult(['admin', 'deploy', f.sr, '--os=testos', 'testos/stable']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(snapshotDiff(before, snapshot(outside)), []);
});

test('etc merge: a merge deployment whose /etc is a symlink, and a commit whose /etc is one, are refused', async () => {
  const f = await fixture('etc-symlinked-dir');
  const dep0 = path.join(f.sysroot, `ostree/deploy/testos/deploy/${f.c1}.1`);
  const outside = path.join(f.root, 'outside-etc');
  fs.mkdirSync(outside);
  fs.renameSync(path.join(dep0, 'etc'), path.join(f.root, 'saved-etc'));
  fs.symlinkSync(outside, path.join(dep0, 'etc'));
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', 'testos/stable'], [/configuration diff: .*\/etc is not a directory/]);
  refuse(f, ['admin', 'config-diff', f.sr, '--os=testos'], [/\/etc is not a directory/]);
  fs.unlinkSync(path.join(dep0, 'etc'));
  fs.renameSync(path.join(f.root, 'saved-etc'), path.join(dep0, 'etc'));
  // a tree with both usr/etc and an /etc symlink
  fs.symlinkSync('usr/etc', path.join(f.tree, 'etc'));
  await commitTree(f.repo, f.tree, 'testos/stable', '3.0');
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', 'testos/stable'], [/\/etc is not a directory/]);
});

test('etc merge: a FIFO posing as a config file is never opened (deploy and config-diff finish)', async () => {
  const f = await fixture('etc-fifo', { 'aconf': 'a\n', 'fifo.conf': 'was a file\n' });
  const dep0 = path.join(f.sysroot, `ostree/deploy/testos/deploy/${f.c1}.1`);
  fs.rmSync(path.join(dep0, 'etc/fifo.conf'));
  execFileSync('mkfifo', [path.join(dep0, 'etc/fifo.conf')]);
  execFileSync('mkfifo', [path.join(dep0, 'usr/etc/aconf.fifo')]);
  execFileSync('mkfifo', [path.join(dep0, 'etc/aconf.fifo')]);
  const diff = runCliToResult(['admin', 'config-diff', f.sr, '--os=testos']);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /^M {4}fifo\.conf$/m);
  const r = runCliToResult(['admin', 'deploy', f.sr, '--os=testos', 'testos/stable']);
  assert.equal(r.status, 0, r.stderr);
});

test('special files: a FIFO as BLS entry is skipped, a FIFO as .origin or --origin-file is refused; nothing hangs', async () => {
  const f = await fixture('special-fifo');
  const entries = path.join(f.sysroot, 'boot/loader/entries');
  execFileSync('mkfifo', [path.join(entries, 'ostree-9-testos.conf')]);
  assert.equal(runCliToResult(['admin', 'status', f.sr]).status, 0);
  fs.unlinkSync(path.join(entries, 'ostree-9-testos.conf'));
  const fifo = path.join(f.root, 'origin.fifo');
  execFileSync('mkfifo', [fifo]);
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', `--origin-file=${fifo}`, 'testos/stable'], [`Origin file ${fifo} is a FIFO, not a regular file`]);
  const origin = path.join(f.sysroot, `ostree/deploy/testos/deploy/${f.c1}.0.origin`);
  fs.rmSync(origin);
  execFileSync('mkfifo', [origin]);
  refuse(f, ['admin', 'status', f.sr], [`Origin file ${origin} is a FIFO, not a regular file`]);
});

// ---------------------------------------------------------------------------------------------
// Sizes

test('sizes: a 300 MB BLS entry is refused by status, deploy and cleanup, naming the file, in bounded memory', async () => {
  const f = await fixture('sizes-bls');
  const entries = path.join(f.sysroot, 'boot', fs.readlinkSync(path.join(f.sysroot, 'boot/loader')), 'entries');
  const entry = path.join(entries, 'ostree-7-testos.conf');
  execFileSync('truncate', ['-s', '300M', entry]); // sparse: costs the tmpfs nothing
  const baseline = runCliMeasured(['--version']).maxRssMiB;
  const m = runCliMeasured(['admin', 'status', f.sr]);
  assert.notEqual(m.code, 0);
  assert.match(m.stderr, new RegExp(`error: BLS entry ${entry} is 314\\.6\u00a0MB, more than the limit of 1\\.0\u00a0MB`));
  assert.ok(m.maxRssMiB - baseline < 100, `status used ${m.maxRssMiB} MiB (baseline ${baseline})`);
  refuse(f, ['admin', 'status', f.sr], [`BLS entry ${entry}`]);
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', 'testos/stable'], [`BLS entry ${entry}`]);
  refuse(f, ['admin', 'cleanup', f.sr], [`BLS entry ${entry}`]);
});

test('sizes: a huge .origin file and a huge --origin-file are refused naming the file', async () => {
  const f = await fixture('sizes-origin');
  const origin = path.join(f.sysroot, `ostree/deploy/testos/deploy/${f.c1}.1.origin`);
  execFileSync('truncate', ['-s', '200M', origin]);
  refuse(f, ['admin', 'status', f.sr], [`Origin file ${origin} is 209.7\u00a0MB, more than the limit`]);
  refuse(f, ['admin', 'undeploy', f.sr, '0'], [`Origin file ${origin}`]);
  execFileSync('truncate', ['-s', '0', origin]);
  fs.writeFileSync(origin, '[origin]\nrefspec=testos/stable\n');
  const big = path.join(f.root, 'big.origin');
  execFileSync('truncate', ['-s', '50M', big]);
  refuse(f, ['admin', 'deploy', f.sr, '--os=testos', `--origin-file=${big}`, 'testos/stable'], [`Origin file ${big} is 52.4\u00a0MB`]);
});

test('sizes: a huge staged-deployment record is refused when booted (status names it)', async () => {
  const f = await fixture('sizes-staged');
  const run = path.join(f.root, 'run');
  fs.mkdirSync(path.join(run, 'ostree'), { recursive: true });
  fs.writeFileSync(path.join(run, 'ostree-booted'), '');
  const rec = path.join(run, 'ostree/staged-deployment');
  execFileSync('truncate', ['-s', '100M', rec]);
  // booted: `/` is the sysroot itself (same inode)
  const env = { ...MUT, OSTREE_TS_RUN_DIR: run, OSTREE_TS_ROOT_DIR: f.sysroot };
  refuse(f, ['admin', 'status', f.sr], [`Staged deployment record ${rec} is 104.9\u00a0MB, more than the limit`], env);
});
