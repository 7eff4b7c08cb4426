#!/usr/bin/env node
/**
 * `apt-ostree`: package layering of .deb packages with rpm-ostree's verbs. Entry point and
 * error reporting only: arguments are parsed in program.ts, behaviour is in src/layering.
 * An error ends as one `error: <message>` line and exit 1 (OSTREE_DEBUG_STACK=1: the stack).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { errorLine } from '../cli/main.js';
import { guardStdout, stdoutFlushed } from '../cli/output.js';
import { buildProgram } from './program.js';

function isCommanderExit(e: unknown): e is { exitCode: number } {
  const c = e as { code?: unknown; exitCode?: unknown } | null;
  return typeof c?.code === 'string' && c.code.startsWith('commander.') && typeof c.exitCode === 'number';
}

export async function main(argv: string[]): Promise<number> {
  guardStdout();
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (isCommanderExit(e)) return e.exitCode === 0 ? 0 : 1;
    process.stderr.write(`error: ${errorLine(e)}\n`);
    if (process.env['OSTREE_DEBUG_STACK'] && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
  await stdoutFlushed();
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try { return import.meta.url === pathToFileURL(realpathSync(script)).href; } catch { return false; }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
