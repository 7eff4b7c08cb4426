/**
 * How a CLI run ends: every error that reaches the top becomes one `error: <message>` line and
 * exit 1, never a stack trace (OSTREE_DEBUG_STACK=1 shows one); stdout is flushed and a write
 * error on it reported. Shared by main.ts (every verb) and launcher.ts (the bundled fast path
 * for a plain `admin status`), so both end a run the same way.
 *
 * An OstreeError prints its message; a stray system error (ENOENT from a syscall the library
 * did not wrap) prints `syscall(path): Description`.
 */
import { OstreeError } from '../errors.js';
import { guardStdout, stdoutFailure, stdoutFlushed } from './output.js';

/** The description of a system error: `ENOENT: no such file or directory, lstat '/x'` → `No such file or directory`. */
function errnoText(e: NodeJS.ErrnoException): string {
  const described = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message;
  return described.charAt(0).toUpperCase() + described.slice(1);
}

/** `ENOENT: no such file or directory, lstat '/x'` → `lstat(/x): No such file or directory`. */
export function systemErrorLine(e: NodeJS.ErrnoException): string {
  const text = errnoText(e);
  if (e.syscall === undefined) return text;
  const where = e.path !== undefined ? `(${e.path}${(e as { dest?: string }).dest !== undefined ? ` -> ${(e as { dest?: string }).dest}` : ''})` : '';
  return `${e.syscall}${where}: ${text}`;
}

/** The message for any error that reached main, one line. */
export function errorLine(e: unknown): string {
  if (e instanceof OstreeError) return e.message;
  const err = e as NodeJS.ErrnoException | null;
  if (err && typeof err.code === 'string' && typeof err.message === 'string' && /^E[A-Z0-9]+$/.test(err.code)) return systemErrorLine(err);
  if (err instanceof Error) return err.message.split('\n')[0]!;
  return String(e);
}

/** Commander's exits (help, version, usage errors) carry a `commander.*` code (checked without loading commander). */
function isCommanderExit(e: unknown): e is { exitCode: number } {
  const c = e as { code?: unknown; exitCode?: unknown } | null;
  return typeof c?.code === 'string' && c.code.startsWith('commander.') && typeof c.exitCode === 'number';
}

/** Run one CLI command and return its exit code, reporting as described above. */
export async function runReported(body: () => Promise<void>): Promise<number> {
  guardStdout();
  try {
    await body();
  } catch (e) {
    // --help and --version end here with code 0; usage errors were already printed.
    if (isCommanderExit(e)) return e.exitCode === 0 ? 0 : 1;
    process.stderr.write(`error: ${errorLine(e)}\n`);
    if (process.env['OSTREE_DEBUG_STACK'] && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
  await stdoutFlushed();
  const failed = stdoutFailure();
  if (failed) {
    process.stderr.write(`error: Writing to standard output: ${errnoText(failed)}\n`);
    return 1;
  }
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
}
