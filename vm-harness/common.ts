/**
 * Shared settings and helpers of the VM harness: where things live, which `ostree` CLI builds
 * the images, and a wrapper around execa that fails with the command's output (and shows each
 * command only with VM_VERBOSE=1; progress.ts owns what the person watching sees).
 */
import * as fs from 'node:fs';
import { flock, LOCK_EX, LOCK_NB } from '../src/native/lock.js';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options as ExecaOptions } from 'execa';
import { VERBOSE, log } from './progress.js';

export { log };

/** The project checkout (…/work/main), found from this compiled file (dist/vm-harness/x.js). */
export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Cache of downloads (debootstrap tarball, kernel .deb): outside git. */
export const CACHE_DIR = process.env['VM_CACHE_DIR'] ?? '/var/cache/ostree-ts-vm';

/** Work directory of image builds and runs (gitignored). */
export const WORK_DIR = process.env['VM_WORK_DIR'] ?? path.join(PROJECT_DIR, 'vm-harness/out');

/**
 * The `ostree` command used on the host to commit and deploy.  Default: our CLI.
 * `OSTREE_CLI=upstream` selects /usr/bin/ostree (the oracle, for debugging the image pipeline);
 * any other value is taken as a command line (split on spaces).
 */
export function ostreeCommand(): { cmd: string; args: string[]; upstream: boolean } {
  const v = process.env['OSTREE_CLI'] ?? 'ours';
  if (v === 'ours' || v === '') {
    return { cmd: process.execPath, args: [path.join(PROJECT_DIR, 'dist/src/cli/main.js')], upstream: false };
  }
  if (v === 'upstream') return { cmd: '/usr/bin/ostree', args: [], upstream: true };
  const parts = v.split(' ').filter(Boolean);
  return { cmd: parts[0]!, args: parts.slice(1), upstream: parts[0] === '/usr/bin/ostree' };
}

export interface RunOptions extends ExecaOptions {
  /** called with each line the command prints (stdout and stderr), e.g. to note progress */
  onLine?: (line: string) => void;
}

/** Run a command, fail with the end of its output on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const { onLine, ...rest } = opts;
  if (VERBOSE) log(`$ ${cmd} ${args.join(' ')}`);
  const watch = onLine ? {
    stdout: [function* (line: unknown) { onLine(String(line)); yield line; }],
    stderr: [function* (line: unknown) { onLine(String(line)); yield line; }],
  } : {};
  const r = await execa(cmd, args, { reject: false, all: true, ...rest, ...watch } as ExecaOptions);
  if (r.exitCode !== 0) {
    const out = String(r.all ?? '').split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.exitCode}):\n${out}`);
  }
  return String(r.stdout ?? '');
}

export async function ostree(args: string[], env: Record<string, string> = {}): Promise<string> {
  const o = ostreeCommand();
  return run(o.cmd, [...o.args, ...args], { env: { ...process.env, ...env } });
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}

/**
 * Remove a tree that may hold deployments: ostree sets the immutable bit on each deployment's
 * directory, which makes plain removal fail with EPERM.  In a sysroot the bit is cleared first
 * on the deployments, where ostree puts it; anywhere else (or if removal still fails) on
 * everything left below `p`.
 */
export async function rmTree(p: string): Promise<void> {
  const deployments: string[] = [];
  const base = path.join(p, 'ostree/deploy');
  for (const os of fs.existsSync(base) ? fs.readdirSync(base) : []) {
    const d = path.join(base, os, 'deploy');
    if (fs.existsSync(d)) deployments.push(...fs.readdirSync(d).map((x) => path.join(d, x)));
  }
  if (deployments.length > 0) await execa('chattr', ['-f', '-i', ...deployments], { reject: false });
  try {
    rmrf(p);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
  await execa('chattr', ['-R', '-f', '-i', p], { reject: false });
  rmrf(p);
}

export function mkdirp(p: string): void {
  fs.mkdirSync(p, { recursive: true });
}

/** Write a file creating parent directories, with a mode. */
export function writeFile(p: string, content: string | Buffer, mode = 0o644): void {
  mkdirp(path.dirname(p));
  fs.writeFileSync(p, content);
  fs.chmodSync(p, mode);
}

export function copyFile(src: string, dest: string, mode?: number): void {
  mkdirp(path.dirname(dest));
  fs.copyFileSync(src, dest);
  if (mode !== undefined) fs.chmodSync(dest, mode);
}

export function symlink(target: string, p: string): void {
  rmrf(p);
  mkdirp(path.dirname(p));
  fs.symlinkSync(target, p);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Run `fn` holding the cache lock `name` (`CACHE_DIR/.name.lock`, flock(2)): another process
 * building the same cache entry makes this one wait, saying so once. The lock goes with the
 * process, so a killed holder never leaves it taken.
 */
export async function withCacheLock<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
  mkdirp(CACHE_DIR);
  const fd = fs.openSync(path.join(CACHE_DIR, `.${name}.lock`), 'a', 0o600);
  try {
    for (let said = false; ; said = true) {
      try {
        flock(fd, LOCK_EX | LOCK_NB);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EWOULDBLOCK' && code !== 'EAGAIN') throw e;
      }
      if (!said) log(`${what}: another process is building it; waiting for it to finish`);
      await sleep(1000);
    }
    return await fn();
  } finally {
    fs.closeSync(fd); // (closing the last descriptor releases the lock)
  }
}
