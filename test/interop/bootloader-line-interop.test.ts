/**
 * The syslinux and U-Boot backends and `admin instutil set-kargs` against upstream
 * /usr/bin/ostree 2022.7: the same operations on two copies of one sysroot (ours on A, upstream
 * on B) write the same syslinux.cfg / uEnv.txt byte for byte, and each reads the other's: an
 * upstream deploy on top of our configuration gives what it gives on top of its own, and ours
 * on top of upstream's likewise (admin-entries-crosscheck style: non-ostree entries survive).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpfsScratch, ours, upstream, ok, commitTree, makeTree, type Scratch, type RunResult } from '../common/sysroot-helpers.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-bl-interop-'); });
after(() => { scratch.cleanup(); });

const env = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

/** A sysroot with one commit and the bootloader's stub configuration, as upstream's tests set it up. */
async function base(r: string, kind: 'syslinux' | 'uboot'): Promise<string> {
  const b = path.join(r, 'base');
  fs.mkdirSync(b);
  ok(upstream(['admin', 'init-fs', b]));
  ok(upstream(['admin', 'os-init', `--sysroot=${b}`, 'testos']));
  const tree = makeTree(path.join(r, 'tree'));
  if (kind === 'uboot') {
    fs.mkdirSync(path.join(tree, 'usr/lib/ostree-boot'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'usr/lib/ostree-boot/uEnv.txt'), 'loadfdt=load mmc ${bootpart} ${fdtaddr}\n');
  }
  await commitTree(path.join(b, 'ostree/repo'), tree, 'testos/stable', '1.0');
  fs.mkdirSync(path.join(b, 'boot/loader.0'), { recursive: true });
  fs.symlinkSync('loader.0', path.join(b, 'boot/loader'));
  if (kind === 'syslinux') {
    // an entry of another OS and a directive, which both must keep
    fs.writeFileSync(path.join(b, 'boot/loader/syslinux.cfg'), 'PROMPT 1\nLABEL Other OS\n\tKERNEL /vmlinuz-other\n\tAPPEND root=/dev/sda3\n');
    fs.mkdirSync(path.join(b, 'boot/syslinux'));
    fs.symlinkSync('../loader/syslinux.cfg', path.join(b, 'boot/syslinux/syslinux.cfg'));
  } else {
    fs.writeFileSync(path.join(b, 'boot/loader/uEnv.txt'), '');
    fs.symlinkSync('loader/uEnv.txt', path.join(b, 'boot/uEnv.txt'));
  }
  return b;
}

function same(a: RunResult, b: RunResult, what: string): void {
  assert.equal(a.status, b.status, `${what}: exit status (ours ${a.stderr} / upstream ${b.stderr})`);
  assert.equal(a.stdout, b.stdout, `${what}: stdout`);
}

for (const kind of ['syslinux', 'uboot'] as const) {
  const cfg = kind === 'syslinux' ? 'boot/syslinux/syslinux.cfg' : 'boot/uEnv.txt';
  test(`${kind}: same operations write the same ${path.basename(cfg)}; each reads the other's`, async () => {
    const r = path.join(scratch.dir, kind);
    fs.mkdirSync(r);
    const b = await base(r, kind);
    const A = path.join(r, 'A'), B = path.join(r, 'B');
    execFileSync('cp', ['-a', b, A]);
    execFileSync('cp', ['-a', b, B]);
    const read = (s: string): string => fs.readFileSync(path.join(s, cfg), 'utf8');
    const both = (args: string[], what: string): void => {
      same(ours(args.map((x) => x.replace('@', A)), env), upstream(args.map((x) => x.replace('@', B)), env), what);
      assert.equal(read(A), read(B), `${what}: ${cfg}`);
    };
    both(['admin', 'deploy', '--sysroot=@', '--os=testos', '--karg=root=LABEL=MOO', 'testos/stable'], 'first deploy');
    both(['admin', 'deploy', '--sysroot=@', '--os=testos', 'testos/stable'], 'second deploy');
    both(['admin', 'instutil', 'set-kargs', '--sysroot=@', '--merge', '--replace=root=LABEL=NEW', '--append=console=ttyS0', 'quiet'], 'instutil set-kargs');
    if (kind === 'syslinux') assert.match(read(A), /^LABEL Other OS\n\tKERNEL \/vmlinuz-other\n/m, 'the other OS entry survives');
    else assert.match(read(A), /^loadfdt=load mmc/m, 'the deployment\'s own uEnv.txt is merged');
    // mixed: upstream on top of ours (A), ours on top of upstream's (B), then compare
    ok(upstream(['admin', 'deploy', `--sysroot=${A}`, '--os=testos', 'testos/stable'], env), 'upstream on ours');
    ok(ours(['admin', 'deploy', `--sysroot=${B}`, '--os=testos', 'testos/stable'], env), 'ours on upstream');
    assert.equal(read(A), read(B), 'mixed: same configuration');
    same(ours(['admin', 'status', `--sysroot=${A}`]), upstream(['admin', 'status', `--sysroot=${B}`]), 'mixed: status');
  });
}
