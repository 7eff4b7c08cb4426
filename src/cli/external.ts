/**
 * Verbs that run another program, as upstream's CLI does:
 * - `ostree trivial-httpd ...` runs libostree's helper (/usr/libexec/libostree/ostree-trivial-httpd,
 *   from the Debian package ostree) with the same arguments;
 * - an unknown verb FOO runs `ostree-FOO` from $PATH when there is one (CLI extensions), with
 *   the remaining arguments and the same environment.
 * Both inherit stdio and hand back the program's exit status.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { OstreeError } from '../errors.js';

const TRIVIAL_HTTPD = ['/usr/libexec/libostree/ostree-trivial-httpd', '/usr/lib/libostree/ostree-trivial-httpd'];

function executable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** The program for `verb` when it is external, or null when it is not. */
export function externalProgram(verb: string, known: (v: string) => boolean): string | null {
  if (verb === 'trivial-httpd') {
    const found = TRIVIAL_HTTPD.find(executable);
    if (!found) throw new OstreeError('ENOENT', `trivial-httpd: ${TRIVIAL_HTTPD[0]} not found; install the Debian package ostree`);
    return found;
  }
  if (known(verb) || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(verb)) return null;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, `ostree-${verb}`);
    if (executable(candidate)) return candidate;
  }
  return null;
}

/** Runs `program` with `args` and returns its exit status (128+signal when killed). */
export function runExternal(program: string, args: readonly string[]): number {
  const r = spawnSync(program, args, { stdio: 'inherit' });
  if (r.error) throw new OstreeError('EIO', `running ${program}: ${r.error.message}`);
  if (r.signal) return 128 + 15;
  return r.status ?? 1;
}
