/**
 * The two `ostree` CLIs the interop tests compare: upstream's (the oracle, Debian package
 * ostree) and ours (the compiled entry point, run with `node`).
 */
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** upstream's CLI; OSTREE_UPSTREAM names another build of it */
export const UPSTREAM_CLI = process.env['OSTREE_UPSTREAM'] ?? '/usr/bin/ostree';
export const OURS_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** Run upstream's CLI; its stdout (throws with stderr on a non-zero exit). */
export function up(...args: string[]): string { return execFileSync(UPSTREAM_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); }

/** Run our CLI; its stdout (throws with stderr on a non-zero exit). */
export function ours(...args: string[]): string { return execFileSync(process.execPath, [OURS_CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); }
