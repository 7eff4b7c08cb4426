#!/usr/bin/env node
/**
 * `apt-ostree`: package layering of .deb packages with rpm-ostree's verbs. Entry point and
 * error reporting only: arguments are parsed in program.ts, behaviour is in src/layering.
 * An error ends as one `error: <message>` line and exit 1 (OSTREE_DEBUG_STACK=1: the stack).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runReported } from '../cli/report.js';
import { buildProgram } from './program.js';

/** One run: the verb's exit code; errors reported as `ostree` reports them (cli/report.ts). */
export function main(argv: string[]): Promise<number> {
  return runReported(async () => { await buildProgram().parseAsync(argv, { from: 'user' }); });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try { return import.meta.url === pathToFileURL(realpathSync(script)).href; } catch { return false; }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
