#!/usr/bin/env node
/**
 * The `ostree` command: entry point, dispatch and error reporting. It only parses arguments and
 * prints; all behaviour lives in the library (src/repo, src/sysroot). Verbs and flags follow
 * upstream ostree 2022.7; the verb files are listed in verbs.ts.
 *
 * Errors end as one `error: <message>` line and exit 1 (report.ts). Installed, the command
 * starts through the bundled launcher (launcher.ts, built by tools/build-cli.mjs into one file
 * with every verb), which runs a plain `admin status` itself and every other command through
 * main() here.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { OstreeError } from '../errors.js';
import { runReported } from './report.js';

export { errorLine, systemErrorLine } from './report.js';

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

export function main(argv: string[]): Promise<number> {
  return runReported(() => run(argv));
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
