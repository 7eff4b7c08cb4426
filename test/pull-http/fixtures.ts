/**
 * Shared by the pull-http tests: an archive repository written by upstream's CLI (the served
 * side), destination repos, our CLI run asynchronously (the proxies these tests use live in the
 * test process, so a blocking spawn would starve them), and object bookkeeping.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

export interface Res { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Run our CLI; resolves when it exits (killed after `timeoutMs`). */
export function ours(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; onSpawn?: (c: ChildProcess) => void } = {}): Promise<Res> {
  return run(process.execPath, [OURS_CLI, ...args], opts.env, opts);
}

/** Run a program without blocking this process's event loop. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, opts: { timeoutMs?: number; onSpawn?: (c: ChildProcess) => void } = {}): Promise<Res> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    opts.onSpawn?.(c);
    let stdout = ''; let stderr = '';
    const timer = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    c.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
    c.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export function up(...args: string[]): string {
  return execFileSync(UPSTREAM_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A tree with `n` small files in a few directories, an executable, a symlink and a 3 MiB file. */
export function makeFiles(root: string, n: number, seed = 'x'): void {
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.symlinkSync('bin/tool', path.join(root, 'usr/link'));
  // incompressible, so its download takes more than one read
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let off = 0; off < big.length; off += 32) createHash('sha256').update(`${seed}${off}`).digest().copy(big, off);
  fs.writeFileSync(path.join(root, 'usr/big'), big);
  for (let i = 0; i < n; i++) {
    const d = path.join(root, 'usr/share', `d${i % 20}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `f${i}`), `${seed} file ${i}\n`.repeat(1 + (i % 50)));
  }
}

export interface Served { repo: string; commit: string; ref: string }

/** An archive repo (upstream-written) with one commit of `n` files on `ref`, and a summary. */
export function servedRepo(dir: string, n: number, ref = 'os/main'): Served {
  const repo = path.join(dir, 'served');
  const tree = path.join(dir, 'tree');
  makeFiles(tree, n);
  up(`--repo=${repo}`, 'init', '--mode=archive');
  const commit = up(`--repo=${repo}`, 'commit', '-b', ref, '--no-xattrs', `--tree=dir=${tree}`, '-s', 'served').trim();
  up(`--repo=${repo}`, 'summary', '-u');
  fs.rmSync(tree, { recursive: true, force: true });
  return { repo, commit, ref };
}

/** A new destination repo (made by our CLI) with remote `origin` at `url` and the given options. */
export async function destRepo(dir: string, name: string, url: string, options: string[] = [], mode = 'bare-user'): Promise<string> {
  const dest = path.join(dir, name);
  const init = await ours([`--repo=${dest}`, 'init', `--mode=${mode}`]);
  if (init.code !== 0) throw new Error(`init: ${init.stderr}`);
  const add = await ours([`--repo=${dest}`, 'remote', 'add', '--no-gpg-verify', ...options.map((o) => `--set=${o}`), 'origin', url]);
  if (add.code !== 0) throw new Error(`remote add: ${add.stderr}`);
  return dest;
}

/** The objects a repo holds, as `XX/REST.EXT` (their paths under objects/, extension of the archive form). */
export function objectsIn(repo: string): Set<string> {
  const out = new Set<string>();
  const root = path.join(repo, 'objects');
  for (const sub of fs.readdirSync(root)) {
    for (const f of fs.readdirSync(path.join(root, sub))) out.add(`${sub}/${f.replace(/\.file$/, '.filez')}`);
  }
  return out;
}

/** `/objects/XX/REST.EXT` of an access-log path, or null for anything else. */
export function objectOfPath(p: string): string | null {
  const m = /^\/(?:[^/]+\/)*objects\/([0-9a-f]{2}\/[0-9a-f]{62}\.\w+)$/.exec(p);
  return m ? m[1]! : null;
}

/** Upstream's fsck of a repo: its output (throws on failure). */
export function upstreamFsck(repo: string): string { return up(`--repo=${repo}`, 'fsck'); }

export function refOf(repo: string, ref: string): string | null {
  try { return up(`--repo=${repo}`, 'rev-parse', ref).trim(); } catch { return null; }
}
