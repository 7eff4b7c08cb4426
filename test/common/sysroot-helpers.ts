/**
 * Shared fixtures for the sysroot tests: a private tmpfs (FIFREEZE there gives EOPNOTSUPP, so
 * the fallback path runs and the host fs is never frozen), fake OS trees, commits with our
 * Repo, and runners for our CLI and the upstream oracle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Repo, Variant } from '../../src/repo/repo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js */
export const CLI = path.resolve(here, '../../src/cli/main.js');

export interface Scratch { dir: string; cleanup(): void }

/** A fresh directory on its own tmpfs mount. */
export function tmpfsScratch(prefix = 'ostree-ts-sysroot-'): Scratch {
  const dir = fs.mkdtempSync(path.join('/tmp', prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', dir]);
  return {
    dir,
    cleanup(): void {
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TreeOptions {
  kver?: string;
  kernel?: string;
  /** null: no initramfs */
  initramfs?: string | null;
  pretty?: string;
  etc?: Record<string, string>;
  noKernel?: boolean;
}

/** A tiny bootable OS tree (usr/lib/modules/<kver>/vmlinuz + initramfs.img, os-release, /usr/etc). */
export function makeTree(dir: string, o: TreeOptions = {}): string {
  fs.rmSync(dir, { recursive: true, force: true });
  const kver = o.kver ?? '6.1.0';
  fs.mkdirSync(path.join(dir, 'usr/lib/modules', kver), { recursive: true });
  fs.mkdirSync(path.join(dir, 'usr/etc'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'sysroot'), { recursive: true });
  fs.symlinkSync('sysroot/ostree', path.join(dir, 'ostree'));
  if (!o.noKernel) {
    fs.writeFileSync(path.join(dir, 'usr/lib/modules', kver, 'vmlinuz'), o.kernel ?? `kernel ${kver}\n`);
    if (o.initramfs !== null) fs.writeFileSync(path.join(dir, 'usr/lib/modules', kver, 'initramfs.img'), o.initramfs ?? `initramfs ${kver}\n`);
  }
  const osrel = `PRETTY_NAME="${o.pretty ?? 'Test OS 42'}"\nID=testos\n`;
  fs.writeFileSync(path.join(dir, 'usr/lib/os-release'), osrel);
  fs.writeFileSync(path.join(dir, 'usr/etc/os-release'), osrel);
  for (const [k, v] of Object.entries(o.etc ?? { 'aconf': 'default\n' })) {
    fs.mkdirSync(path.dirname(path.join(dir, 'usr/etc', k)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'usr/etc', k), v);
  }
  fs.writeFileSync(path.join(dir, 'usr/bin/hello'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  return dir;
}

let tsCounter = 1_700_000_000n;

/** Commit `dir` into the repo at `repoPath` on `branch` with a `version`. */
export async function commitTree(repoPath: string, dir: string, branch: string, version: string, timestamp?: bigint): Promise<string> {
  const repo = await Repo.open(repoPath);
  tsCounter += 10n;
  return repo.commitTree(dir, {
    branch, subject: `build ${version}`,
    metadata: [['version', new Variant('s', version)]],
    timestamp: timestamp ?? tsCounter,
  });
}

export interface RunResult { status: number; stdout: string; stderr: string }

/** Run our CLI. */
export function ours(args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run upstream /usr/bin/ostree (the oracle). */
export function upstream(args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync('/usr/bin/ostree', args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function ok(r: RunResult, what = 'command'): RunResult {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r;
}

/** init-fs + os-init testos + one commit on testos/stable (version 1.0). */
export async function newSysroot(root: string, o: { bootloader?: string; tree?: TreeOptions } = {}): Promise<{ sysroot: string; tree: string; c1: string }> {
  const sysroot = path.join(root, 'sysroot');
  fs.mkdirSync(sysroot);
  ok(ours(['admin', 'init-fs', sysroot]), 'init-fs');
  ok(ours(['admin', 'os-init', `--sysroot=${sysroot}`, 'testos']), 'os-init');
  if (o.bootloader) ok(upstream(['--repo=' + path.join(sysroot, 'ostree/repo'), 'config', 'set', 'sysroot.bootloader', o.bootloader]));
  const tree = makeTree(path.join(root, 'tree'), o.tree);
  const c1 = await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/stable', '1.0');
  return { sysroot, tree, c1 };
}

/** Every BLS entry's ostree= bootlink resolves to an existing deployment with its kernel in /boot. */
export function checkBootConfigComplete(sysroot: string): string[] {
  const problems: string[] = [];
  const loader = fs.readlinkSync(path.join(sysroot, 'boot/loader'));
  const entriesDir = path.join(sysroot, 'boot', loader, 'entries');
  for (const n of fs.readdirSync(entriesDir)) {
    const text = fs.readFileSync(path.join(entriesDir, n), 'utf8');
    const opt = /^options (.*)$/m.exec(text)?.[1] ?? '';
    const arg = opt.split(' ').find((a) => a.startsWith('ostree='))?.slice(7);
    if (!arg) { problems.push(`${n}: no ostree=`); continue; }
    const dep = path.join(sysroot, arg);
    if (!fs.existsSync(path.join(dep, 'etc')) || !fs.existsSync(path.join(dep, 'usr/lib/os-release'))) problems.push(`${n}: deployment ${arg} incomplete`);
    for (const key of ['linux', 'initrd']) {
      const p = new RegExp(`^${key} (.*)$`, 'm').exec(text)?.[1];
      if (p && !fs.existsSync(path.join(sysroot, 'boot', p))) problems.push(`${n}: ${key} ${p} missing`);
    }
  }
  return problems;
}

export function readEntries(sysroot: string): Record<string, string> {
  const dir = path.join(sysroot, 'boot/loader/entries');
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(dir).sort()) out[n] = fs.readFileSync(path.join(dir, n), 'utf8');
  return out;
}
