/**
 * Shared settings and helpers of the VM harness: where things live, which `ostree` CLI builds
 * the images, and a logged wrapper around execa.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options as ExecaOptions } from 'execa';

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

export function log(msg: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[vm ${t}] ${msg}\n`);
}

/** Run a command, fail with its output on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: ExecaOptions & { quiet?: boolean } = {}): Promise<string> {
  const { quiet, ...rest } = opts;
  if (!quiet) log(`$ ${cmd} ${args.join(' ')}`);
  const r = await execa(cmd, args, { reject: false, all: true, ...rest } as ExecaOptions);
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
