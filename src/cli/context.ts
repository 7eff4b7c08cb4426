/**
 * Where a verb works: the repository (`--repo`, then $OSTREE_REPO, then /ostree/repo) and the
 * sysroot (`--sysroot`, then $OSTREE_SYSROOT, then /). The one place these flags and variables
 * are read, so every verb resolves them alike.
 *
 * An empty `--repo=` or `--sysroot=` is refused: taken as "", Node resolves it to the current
 * directory, and a verb would lock or write there. An empty variable counts as unset (the
 * shell convention; `OSTREE_REPO= ostree ...` clears it).
 *
 * No runtime import of commander here: the commander-free `admin status` path uses this file.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { OstreeError } from '../errors.js';

export const DEFAULT_REPO = '/ostree/repo';
export const DEFAULT_SYSROOT = '/';

function refuseEmpty(flag: string, value: string, fallback: string): void {
  if (value !== '') return;
  throw new OstreeError('EINVAL', `${flag}= was given an empty path; write ${flag}=PATH, or leave the option out to use ${fallback}`);
}

/** The repository path from an explicit `--repo` value (or undefined), the environment and the default. */
export function repoPathFrom(explicit: string | undefined): string {
  if (explicit !== undefined) {
    refuseEmpty('--repo', explicit, `$OSTREE_REPO or ${DEFAULT_REPO}`);
    return explicit;
  }
  // As upstream (ostree_repo_new_default): the current directory when it is a repository.
  if (isDir('objects') && isFile('config')) return '.';
  const env = process.env['OSTREE_REPO'];
  return env !== undefined && env !== '' ? env : DEFAULT_REPO;
}

function isDir(p: string): boolean { return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true; }
function isFile(p: string): boolean { return fs.statSync(p, { throwIfNoEntry: false })?.isFile() === true; }

/** The sysroot path from an explicit `--sysroot` value (or undefined), the environment and the default. */
export function sysrootFrom(explicit: string | undefined): string {
  if (explicit !== undefined) {
    refuseEmpty('--sysroot', explicit, `$OSTREE_SYSROOT or ${DEFAULT_SYSROOT}`);
    return explicit;
  }
  const env = process.env['OSTREE_SYSROOT'];
  return env !== undefined && env !== '' ? env : DEFAULT_SYSROOT;
}

/** The nearest value of option `key` on `cmd` or its parents (a verb's own flag wins over its group's). */
function nearestOption(cmd: Command, key: string): string | undefined {
  for (let c: Command | null = cmd; c !== null; c = c.parent) {
    const v = c.opts<Record<string, unknown>>()[key];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** The repository a repository verb works on. */
export function repoPath(cmd: Command): string {
  return repoPathFrom(nearestOption(cmd, 'repo'));
}

/** The sysroot an admin verb works on. */
export function sysrootPath(cmd: Command): string {
  return sysrootFrom(nearestOption(cmd, 'sysroot'));
}
