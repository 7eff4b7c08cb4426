/**
 * Incremental deploy (src/sysroot/deploy/recycle.ts) makes exactly what a fresh checkout makes.
 *
 * Two sysroots follow the same sequence of commits, each a random set of edits of the last
 * (contents, modes, owners, xattrs, symlink targets, files becoming directories and back, new
 * and removed subtrees, directory metadata): one deploys as usual (each deploy that drops a
 * deployment parks it as the spare, which the next deploy patches), the other with
 * OSTREE_SYSROOT_DEBUG=no-recycle (a fresh
 * checkout every time). After each deploy the new deployments must be identical entry for entry:
 * type, mode, owner, xattrs, link target, content, and the mtimes a checkout sets.
 * Then what must never be reused is not: a deployment whose /usr was changed, a hotfix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpfsScratch, ours, ok, commitTree, makeTree, type Scratch } from '../common/sysroot-helpers.js';
import * as libc from '../../src/native/libc.js';

// Incremental deploy is on by default (src/sysroot/deploy/recycle.ts): whatever the caller's
// environment says, on here.
delete process.env['OSTREE_TS_INCREMENTAL_DEPLOY'];

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-incr-'); });
after(() => { scratch.cleanup(); });

const FRESH = { OSTREE_SYSROOT_DEBUG: 'no-recycle' };

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One line per entry: everything a deployment's identity depends on. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const p = rel ? path.join(root, rel) : root;
    const st = fs.lstatSync(p);
    const xattrs = st.isSymbolicLink() ? '' : libc.llistxattr(p).sort().map((n) => `${n}=${libc.lgetxattr(p, n)?.toString('hex')}`).join(',');
    const inEtc = rel === 'etc' || rel.startsWith('etc/');
    // (empty files are made anew by every checkout, as upstream: their mtime is the checkout's)
    const mtime = rel === '' || inEtc || st.isSymbolicLink() || (st.isFile() && st.size === 0) ? '' : ` mtime=${st.mtimeMs}`;
    const head = `${rel || '.'} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} xattrs=${xattrs}${mtime}`;
    if (st.isSymbolicLink()) out.push(`${head} -> ${fs.readlinkSync(p)}`);
    else if (st.isFile()) out.push(`${head} sha=${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
    else if (st.isDirectory()) {
      out.push(head);
      for (const n of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
    } else out.push(`${head} rdev=${st.rdev}`);
  };
  walk('');
  return out;
}

/** The base tree: an OS tree with a few hundred files in nested directories. */
function baseTree(dir: string, rnd: () => number): void {
  makeTree(dir);
  for (let d = 0; d < 30; d++) {
    const sub = path.join(dir, 'usr/share', `d${d % 6}`, `e${d}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 10; f++) fs.writeFileSync(path.join(sub, `f${f}`), `content ${d} ${f} ${rnd()}\n`, { mode: 0o644 });
    fs.symlinkSync(`f${d % 10}`, path.join(sub, 'link'));
  }
  fs.writeFileSync(path.join(dir, 'usr/share/empty'), '');
}

function allEntries(dir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) { dirs.push(r); walk(r); } else files.push(r);
    }
  };
  walk('usr/share');
  return { files: files.sort(), dirs: dirs.sort() };
}

/** A random batch of edits under usr/share (the OS parts stay deployable). */
function randomEdits(dir: string, rnd: () => number, round: number): void {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < 12; i++) {
    const { files, dirs } = allEntries(dir);
    const f = path.join(dir, pick(files));
    const d = path.join(dir, pick(dirs.length ? dirs : ['usr/share']));
    switch (Math.floor(rnd() * 12)) {
      case 0: fs.rmSync(f, { force: true }); fs.writeFileSync(f, `edited ${round} ${i}\n`); break;
      case 1: if (!fs.lstatSync(f).isSymbolicLink()) fs.chmodSync(f, pick([0o600, 0o755, 0o4755, 0o444])); break;
      case 2: fs.lchownSync(f, 1000 + i, 100 + round); break;
      case 3: if (!fs.lstatSync(f).isSymbolicLink()) libc.lsetxattr(f, 'user.test', Buffer.from(`x${round}${i}`)); break;
      case 4: fs.rmSync(f); fs.symlinkSync(`../target-${round}-${i}`, f); break;
      case 5: fs.rmSync(f); fs.mkdirSync(f); fs.writeFileSync(path.join(f, 'inner'), `was a file ${round}\n`); break;
      case 6: if (d !== path.join(dir, 'usr/share')) { fs.rmSync(d, { recursive: true }); fs.writeFileSync(d, `was a dir ${round}\n`); } break;
      case 7: fs.mkdirSync(path.join(d, `new-${round}-${i}/deeper`), { recursive: true }); fs.writeFileSync(path.join(d, `new-${round}-${i}/deeper/x`), 'x\n'); break;
      case 8: fs.chmodSync(d, pick([0o700, 0o755, 0o555, 0o1777])); break;
      case 9: fs.lchownSync(d, 2000 + i, 200); libc.lsetxattr(d, 'user.dir', Buffer.from(`d${round}`)); break;
      case 10: fs.writeFileSync(path.join(d, `added-${round}-${i}`), ''); break;
      default: fs.rmSync(f); break;
    }
  }
}

function deploymentDirOf(sysroot: string, csum: string): string {
  const dd = path.join(sysroot, 'ostree/deploy/testos/deploy');
  const names = fs.readdirSync(dd).filter((n) => n.startsWith(`${csum}.`) && !n.endsWith('.origin')).sort();
  assert.ok(names.length > 0, `no deployment of ${csum} in ${sysroot}`);
  return path.join(dd, names[names.length - 1]!);
}

function newSysroot(name: string): string {
  const s = path.join(scratch.dir, name);
  fs.mkdirSync(s);
  ok(ours(['admin', 'init-fs', s]));
  ok(ours(['admin', 'os-init', `--sysroot=${s}`, 'testos']));
  return s;
}

/** The directories of the spare (at most one: src/sysroot/deploy/spare.ts). */
function spares(sysroot: string): string[] {
  const sd = path.join(sysroot, 'ostree/deploy/testos/recycle');
  return fs.existsSync(sd) ? fs.readdirSync(sd).map((n) => path.join(sd, n)) : [];
}

/** The inode of the spare's /usr (a deployment made from it keeps it). */
function usrInodes(sysroot: string): Set<number> {
  return new Set(spares(sysroot).map((p) => fs.statSync(path.join(p, 'usr')).ino));
}

let commits = 0;

async function deployBoth(incr: string, fresh: string, tree: string, version: string): Promise<{ csum: string; recycled: boolean }> {
  const ts = BigInt(1_800_000_000 + ++commits);
  const csum = await commitTree(path.join(incr, 'ostree/repo'), tree, 'testos/stable', version, ts);
  const c2 = await commitTree(path.join(fresh, 'ostree/repo'), tree, 'testos/stable', version, ts);
  assert.equal(c2, csum, 'both repositories hold the same commit');
  const before = usrInodes(incr);
  ok(ours(['admin', 'deploy', `--sysroot=${incr}`, '--os=testos', 'testos/stable']), `deploy ${version}`);
  ok(ours(['admin', 'deploy', `--sysroot=${fresh}`, '--os=testos', 'testos/stable'], FRESH), `fresh deploy ${version}`);
  const a = deploymentDirOf(incr, csum);
  const b = deploymentDirOf(fresh, csum);
  const [sa, sb] = [snapshot(a), snapshot(b)];
  assert.deepEqual(sa.filter((l) => !sb.includes(l)).concat(sb.filter((l) => !sa.includes(l)).map((l) => `fresh: ${l}`)), [], `deployment of ${version} differs from a fresh checkout`);
  assert.deepEqual(sa, sb);
  return { csum, recycled: before.has(fs.statSync(path.join(a, 'usr')).ino) };
}

test('incremental deploys on random edits are identical to fresh checkouts', async () => {
  const rnd = prng(0x1dea);
  const incr = newSysroot('incr');
  const fresh = newSysroot('fresh');
  const tree = path.join(scratch.dir, 'tree');
  baseTree(tree, rnd);
  let recycled = 0;
  for (let round = 0; round < 7; round++) {
    if (round > 0) randomEdits(tree, rnd, round);
    const r = await deployBoth(incr, fresh, tree, `v${round}`);
    if (r.recycled) recycled++;
    // From the third deploy on, each drops the oldest deployment and parks it as the spare;
    // from the fourth on, each is made from the spare.
    if (round >= 3) assert.ok(r.recycled, `round ${round}: the spare was not recycled`);
    assert.equal(spares(incr).length, round >= 2 ? 1 : 0, `round ${round}: spares ${spares(incr).join(' ')}`);
  }
  assert.equal(recycled, 4);
});

test('what the running system may have changed is never reused', async () => {
  const rnd = prng(0xbad);
  const incr = newSysroot('never');
  const fresh = newSysroot('never-fresh');
  const tree = path.join(scratch.dir, 'tree-never');
  baseTree(tree, rnd);
  await deployBoth(incr, fresh, tree, 'v0');
  randomEdits(tree, rnd, 1);
  const v1 = await deployBoth(incr, fresh, tree, 'v1');
  const dd = path.join(incr, 'ostree/deploy/testos/deploy');
  const v0Dir = fs.readdirSync(dd).filter((n) => !n.endsWith('.origin')).map((n) => path.join(dd, n)).find((p) => !p.includes(v1.csum))!;

  // /etc and other top-level entries of the dropped deployment: never carried into the new one
  // (the snapshot comparison with the fresh sysroot would show them). v2 drops v0 (the spare),
  // v3 is made from it.
  fs.writeFileSync(path.join(v0Dir, 'etc/local-edit'), 'admin was here\n');
  libc.setImmutable(v0Dir, false);
  fs.mkdirSync(path.join(v0Dir, 'opt-junk'));
  libc.setImmutable(v0Dir, true);
  randomEdits(tree, rnd, 2);
  const v2 = await deployBoth(incr, fresh, tree, 'v2');
  assert.equal(v2.recycled, false, 'there was no spare yet');
  randomEdits(tree, rnd, 3);
  assert.ok((await deployBoth(incr, fresh, tree, 'v3')).recycled, 'a deployment with only /etc edits is recycled');

  // A /usr with an entry added since its checkout: v4 drops v2 (parked), v5 does not reuse it.
  const v2Dir = deploymentDirOf(incr, v2.csum);
  fs.writeFileSync(path.join(v2Dir, 'usr/bin/dropped-in'), 'x\n');
  randomEdits(tree, rnd, 4);
  assert.ok((await deployBoth(incr, fresh, tree, 'v4')).recycled, 'v4 was not made from the spare');
  randomEdits(tree, rnd, 5);
  assert.equal((await deployBoth(incr, fresh, tree, 'v5')).recycled, false, 'a changed /usr was reused');

  // A hotfix (its origin says unlocked=hotfix): never parked, so never reused.
  for (const o of fs.readdirSync(dd).filter((n) => n.endsWith('.origin'))) {
    const p = path.join(dd, o);
    if (!fs.readFileSync(p, 'utf8').includes('unlocked=')) fs.appendFileSync(p, 'unlocked=hotfix\n');
  }
  randomEdits(tree, rnd, 6);
  await deployBoth(incr, fresh, tree, 'v6');
  assert.deepEqual(spares(incr), [], 'a hotfixed deployment was parked');
  randomEdits(tree, rnd, 7);
  assert.equal((await deployBoth(incr, fresh, tree, 'v7')).recycled, false, 'a hotfixed deployment was reused');
});

test('OSTREE_TS_INCREMENTAL_DEPLOY=0: no spare is parked, and cleanup deletes one left behind', async () => {
  const rnd = prng(0x0ff);
  const s = newSysroot('off');
  const tree = path.join(scratch.dir, 'tree-off');
  baseTree(tree, rnd);
  const off = { OSTREE_TS_INCREMENTAL_DEPLOY: '0' };
  for (let v = 0; v < 3; v++) {
    if (v > 0) randomEdits(tree, rnd, v);
    await commitTree(path.join(s, 'ostree/repo'), tree, 'testos/stable', `v${v}`, BigInt(1_900_000_000 + v));
    ok(ours(['admin', 'deploy', `--sysroot=${s}`, '--os=testos', 'testos/stable'], off));
  }
  assert.deepEqual(spares(s), []);
  randomEdits(tree, rnd, 3);
  await commitTree(path.join(s, 'ostree/repo'), tree, 'testos/stable', 'v3', BigInt(1_900_000_003));
  ok(ours(['admin', 'deploy', `--sysroot=${s}`, '--os=testos', 'testos/stable']));
  const [spare] = spares(s);
  assert.ok(spare, 'the default parks the dropped deployment');
  // (the prune kept the spare's commit: the next deploy patches from its trees)
  ok(ours(['show', `--repo=${path.join(s, 'ostree/repo')}`, path.basename(spare)]));
  ok(ours(['admin', 'cleanup', `--sysroot=${s}`], off));
  assert.deepEqual(spares(s), []);
  ok(ours(['admin', 'cleanup', `--sysroot=${s}`], off));
  const r = ours(['show', `--repo=${path.join(s, 'ostree/repo')}`, path.basename(spare)]);
  assert.notEqual(r.status, 0, 'with the spare gone, the prune frees its commit');
});
