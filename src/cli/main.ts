#!/usr/bin/env node
/**
 * The `ostree` command: entry point, dispatch and error reporting. It only parses arguments and
 * prints; all behaviour lives in the library (src/repo, src/sysroot). Verbs and flags follow
 * upstream ostree 2022.7; the verb files are listed in verbs.ts.
 *
 * Errors end as one `error: <message>` line and exit 1, never a stack trace (set
 * OSTREE_DEBUG_STACK=1 to see one): an OstreeError prints its message, a stray system error
 * (ENOENT from a syscall the library did not wrap) prints `syscall(path): Description`.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
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

async function run(argv: string[]): Promise<void> {
  // `admin status` in its plain forms skips commander (start-up time; see admin-status.ts).
  if (argv[0] === 'admin' && argv.includes('status')) {
    const { parsePlainStatus, adminStatus } = await import('./admin-status.js');
    const plain = parsePlainStatus(argv.slice(1));
    if (plain) return adminStatus(plain);
  }
  const { buildProgram, hoistGroupOptions, hoistVerbOptions, verbOf } = await import('./program.js');
  argv = hoistGroupOptions(hoistVerbOptions(argv));
  const verb = verbOf(argv);
  if (verb !== null) {
    const { externalProgram, runExternal } = await import('./external.js');
    const { REPO_VERBS } = await import('./verbs.js');
    const program = externalProgram(verb, (v) => v === 'admin' || REPO_VERBS.has(v));
    if (program !== null) {
      process.exitCode = runExternal(program, argv.slice(argv.indexOf(verb) + 1));
      return;
    }
  }
  const program = await buildProgram(argv);
  if (verbOf(argv) === null && !argv.some((a) => a === '--help' || a === '-h' || a === '--version')) {
    program.outputHelp({ error: true });
    throw new OstreeError('EINVAL', 'No command specified');
  }
  await program.parseAsync(argv, { from: 'user' });
}

export async function main(argv: string[]): Promise<number> {
  guardStdout();
  try {
    await run(argv);
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

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
