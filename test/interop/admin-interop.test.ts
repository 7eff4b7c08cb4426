/**
 * `ostree admin` interop with upstream /usr/bin/ostree 2022.7 as the oracle:
 * - the same sequence of admin operations on two copies of one sysroot (ours on A, upstream on
 *   B) gives the same stdout, the same BLS entries byte for byte, the same /boot and bootlink
 *   layout, the same deployment refs and the same `admin status`;
 * - mixed: upstream deploys on top of ours and ours on top of upstream's, both read the result
 *   identically, with the none and grub2 backends (upstream's grub2 via OSTREE_GRUB2_EXEC
 *   pointing at a generator script, as upstream's own tests do).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpfsScratch, ours, upstream, ok, commitTree, makeTree, checkBootConfigComplete, type Scratch, type RunResult } from '../common/sysroot-helpers.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-interop-'); });
after(() => { scratch.cleanup(); });

/** Everything under boot/ and ostree/boot.* (names, symlink targets, file contents for entries). */
function layout(sysroot: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const full = path.join(sysroot, rel);
    const st = fs.lstatSync(full);
    if (st.isSymbolicLink()) { out.push(`${rel} -> ${fs.readlinkSync(full)}`); return; }
    if (st.isDirectory()) {
      out.push(`${rel}/`);
      for (const n of fs.readdirSync(full).sort()) walk(path.join(rel, n));
      return;
    }
    if (rel.includes('/entries/')) out.push(`${rel}:\n${fs.readFileSync(full, 'utf8')}`);
    else out.push(rel);
  };
  walk('boot');
  for (const n of fs.readdirSync(path.join(sysroot, 'ostree')).sort()) if (n.startsWith('boot.')) walk(path.join('ostree', n));
  return out.filter((l) => !l.startsWith('boot/loader.') || !l.endsWith('grub.cfg') || true);
}

function refs(sysroot: string): string {
  return ok(upstream([`--repo=${path.join(sysroot, 'ostree/repo')}`, 'refs'])).stdout.split('\n').filter((l) => l.startsWith('ostree/')).sort().join('\n');
}

function same(a: RunResult, b: RunResult, what: string): void {
  assert.equal(a.status, b.status, `${what}: exit status (ours ${a.stderr} / upstream ${b.stderr})`);
  assert.equal(a.stdout, b.stdout, `${what}: stdout`);
}

test('same operations, same results: ours on copy A, upstream on copy B', async () => {
  const r = path.join(scratch.dir, 'parity');
  fs.mkdirSync(r);
  const base = path.join(r, 'base');
  fs.mkdirSync(base);
  ok(upstream(['admin', 'init-fs', base]));
  ok(upstream(['admin', 'os-init', `--sysroot=${base}`, 'testos']));
  const tree = makeTree(path.join(r, 'tree'));
  await commitTree(path.join(base, 'ostree/repo'), tree, 'testos/stable', '1.0');
  // an unreferenced commit (its ref deleted): deploying then undeploying it frees its objects
  makeTree(path.join(r, 'tree2'), { kernel: 'other kernel\n', etc: { aconf: 'default\n', big: 'x'.repeat(5000) } });
  const loose = await commitTree(path.join(base, 'ostree/repo'), path.join(r, 'tree2'), 'tmp', '5.0');
  ok(upstream([`--repo=${path.join(base, 'ostree/repo')}`, 'refs', '--delete', 'tmp']));
  const A = path.join(r, 'A'), B = path.join(r, 'B');
  execFileSync('cp', ['-a', base, A]);
  execFileSync('cp', ['-a', base, B]);
  const env = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };
  const step = async (args: string[], what: string): Promise<void> => {
    const a = ours(args.map((x) => x.replace('@', A)), env);
    const b = upstream(args.map((x) => x.replace('@', B)), env);
    same(a, b, what);
    assert.deepEqual(layout(A), layout(B), `${what}: /boot and bootlinks`);
    assert.equal(refs(A), refs(B), `${what}: deployment refs`);
    same(ours(['admin', 'status', `--sysroot=${A}`]), upstream(['admin', 'status', `--sysroot=${B}`]), `${what}: status`);
  };
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', '--karg=root=LABEL=MOO', '--karg=quiet', 'testos/stable'], 'first deploy');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', 'testos/stable'], 'second deploy');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', 'testos/stable'], 'third deploy (sub-bootversion)');
  await step(['admin', 'pin', '--sysroot=@', '1'], 'pin');
  await step(['admin', 'pin', '--sysroot=@', '--unpin', '1'], 'unpin');
  await step(['admin', 'kargs', 'edit-in-place', '--sysroot=@', '--append-if-missing=foo=bar'], 'kargs edit-in-place');
  await step(['admin', 'undeploy', '--sysroot=@', '1'], 'undeploy');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', '--karg-append=console=ttyS0', '--karg-append=console=tty0', 'testos/stable'], 'karg-append');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', '--karg-delete=quiet', 'testos/stable'], 'karg-delete');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', '--retain', '--not-as-default', 'testos/stable'], 'retain not-as-default');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', '--no-merge', 'testos/stable'], 'no-merge');
  await step(['admin', 'os-init', '--sysroot=@', 'otheros'], 'os-init otheros');
  await step(['admin', 'deploy', '--sysroot=@', '--os=otheros', '--karg=root=LABEL=OTHER', 'testos/stable'], 'second stateroot');
  await step(['admin', 'undeploy', '--sysroot=@', '0'], 'undeploy 0');
  // a new commit (same bytes in both repos: same tree, same timestamp) → upgrade
  makeTree(path.join(r, 'tree3'), { kernel: 'kernel 3\n', etc: { aconf: 'changed default\n', newconf: 'n\n' } });
  for (const x of [A, B]) await commitTree(path.join(x, 'ostree/repo'), path.join(r, 'tree3'), 'testos/stable', '3.0', 1_800_000_000n);
  for (const x of [A, B]) {
    const dd = path.join(x, 'ostree/deploy/testos/deploy');
    for (const n of fs.readdirSync(dd)) if (!n.endsWith('.origin')) fs.writeFileSync(path.join(dd, n, 'etc/local'), 'mine\n');
  }
  await step(['admin', 'upgrade', '--sysroot=@', '--os=testos'], 'upgrade');
  await step(['admin', 'upgrade', '--sysroot=@', '--os=testos'], 'upgrade again: No update available');
  await step(['admin', 'deploy', '--sysroot=@', '--os=testos', loose], 'deploy an unreferenced commit');
  await step(['admin', 'undeploy', '--sysroot=@', '0'], 'undeploy it (prune frees its objects)');
  same(ours(['admin', 'undeploy', `--sysroot=${A}`, '9']), upstream(['admin', 'undeploy', `--sysroot=${B}`, '9']), 'out of range');
  same(ours(['admin', 'config-diff', `--sysroot=${A}`, '--os=testos']), upstream(['admin', 'config-diff', `--sysroot=${B}`, '--os=testos']), 'config-diff');
});

function writeGrubExec(dir: string): string {
  const p = path.join(dir, 'grub-gen.sh');
  fs.writeFileSync(p, '#!/bin/sh\n# test generator: -o FILE; lists the entries\nset -e\nout="$2"\nd=$(dirname "$out")\necho "# test generator" > "$out"\nfor f in "$d"/entries/*.conf; do grep -E "^(title|linux|initrd|options) " "$f" >> "$out"; done\n', { mode: 0o755 });
  return p;
}

for (const backend of ['none', 'grub2'] as const) {
  test(`mixed (${backend}): upstream deploys on ours, ours on upstream's; both read the same`, async () => {
    const r = path.join(scratch.dir, `mixed-${backend}`);
    fs.mkdirSync(r);
    const s = path.join(r, 'sysroot');
    fs.mkdirSync(s);
    ok(ours(['admin', 'init-fs', s]));
    ok(ours(['admin', 'os-init', `--sysroot=${s}`, 'testos']));
    ok(upstream([`--repo=${path.join(s, 'ostree/repo')}`, 'config', 'set', 'sysroot.bootloader', backend]));
    if (backend === 'grub2') {
      fs.mkdirSync(path.join(s, 'boot/grub'));
      fs.symlinkSync('../loader/grub.cfg', path.join(s, 'boot/grub/grub.cfg'));
    }
    const env = { OSTREE_GRUB2_EXEC: writeGrubExec(r) };
    const tree = makeTree(path.join(r, 'tree'));
    const c1 = await commitTree(path.join(s, 'ostree/repo'), tree, 'testos/stable', '1');
    const sr = `--sysroot=${s}`;
    const statusBoth = (): string => {
      const a = ok(ours(['admin', 'status', sr]));
      const b = ok(upstream(['admin', 'status', sr]));
      assert.equal(a.stdout, b.stdout);
      assert.deepEqual(checkBootConfigComplete(s), []);
      return a.stdout;
    };
    ok(ours(['admin', 'deploy', sr, '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable']));
    statusBoth();
    ok(upstream(['admin', 'deploy', sr, '--os=testos', 'testos/stable'], env));
    statusBoth();
    if (backend === 'grub2') assert.match(fs.readFileSync(path.join(s, 'boot/grub/grub.cfg'), 'utf8'), /^# test generator$/m);
    makeTree(tree, { kernel: 'kernel 2\n' });
    const c2 = await commitTree(path.join(s, 'ostree/repo'), tree, 'testos/stable', '2');
    ok(ours(['admin', 'upgrade', sr, '--os=testos']));
    let st = statusBoth();
    assert.match(st, new RegExp(`^  testos ${c2}\\.0\\n    Version: 2\\n`));
    if (backend === 'grub2') assert.match(fs.readFileSync(path.join(s, 'boot/grub/grub.cfg'), 'utf8'), /^# Generated by ostree-ts/m);
    makeTree(tree, { kernel: 'kernel 3\n' });
    const c3 = await commitTree(path.join(s, 'ostree/repo'), tree, 'testos/stable', '3');
    ok(upstream(['admin', 'upgrade', sr, '--os=testos'], env));
    st = statusBoth();
    assert.match(st, new RegExp(`^  testos ${c3}\\.0\\n`));
    ok(ours(['admin', 'pin', sr, '1']));
    ok(upstream(['admin', 'deploy', sr, '--os=testos', '--karg-append=x=1', `${c2}`], env));
    st = statusBoth();
    assert.match(st, /Pinned: yes/);
    ok(ours(['admin', 'undeploy', sr, '0']));
    statusBoth();
    ok(upstream(['admin', 'undeploy', sr, '1'], env));
    statusBoth();
    ok(ours(['admin', 'cleanup', sr]));
    ok(upstream(['admin', 'cleanup', sr]));
    statusBoth();
  });
}
