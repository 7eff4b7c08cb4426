#!/usr/bin/env node
/**
 * The `ostree` command. It only parses arguments and prints; all behaviour lives in the
 * library (src/repo, src/sysroot). Verbs and flags follow upstream ostree 2022.7.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { OstreeError } from '../errors.js';

export const VERSION = '2022.7-ts.0.1.0';

/**
 * The verb of an argument vector: the first argument that is not a global option
 * (`--repo PATH`, `--repo=PATH`, `--version`, `--help`), or null.
 */
export function verbOf(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--repo') { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return null;
}

/**
 * The command tree.  Only the command groups `argv` can reach are registered (and so loaded):
 * `ostree admin ...` never loads the repository verbs (start-up time of `admin status`), and a
 * repository verb never loads the admin group.
 * Without `argv` (or for help / unknown verbs) everything is registered.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('ostree');
  program
    .description('Manage OSTree repositories and deployments (TypeScript implementation)')
    .version(VERSION, '--version', 'Print version information and exit')
    .option('--repo <path>', 'Path to OSTree repository (default: $OSTREE_REPO, else /ostree/repo)')
    .showHelpAfterError()
    .exitOverride();
  const verb = argv ? verbOf(argv) : null;
  if (verb !== 'admin') {
    const { registerRepoCommands } = await import('./repo-commands.js');
    registerRepoCommands(program);
    // A repository verb never needs the admin group (start-up time of `checkout`, `refs`, ...).
    if (verb !== null && program.commands.some((c) => c.name() === verb || c.aliases().includes(verb))) return program;
  }
  const { registerAdminCommands } = await import('./admin-commands.js');
  registerAdminCommands(program);
  return program;
}

/** The repository path for repo verbs: --repo, then $OSTREE_REPO, then the system repo. */
export function repoPathFrom(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as { repo?: string };
  return opts.repo ?? process.env['OSTREE_REPO'] ?? '/ostree/repo';
}

export async function main(argv: string[]): Promise<number> {
  try {
    // `admin status` in its plain forms skips commander (start-up time; see admin-status.ts).
    if (argv[0] === 'admin' && argv.includes('status')) {
      // Fetch the whole status module graph at once: the ESM loader reads each file through
      // the thread pool, so a dependency chain of N levels costs N sequential round trips
      // (slow on a busy machine); requested together they load in parallel.
      const [{ parsePlainStatus, adminStatus }] = await Promise.all([
        import('./admin-status.js'), import('../sysroot/sysroot.js'), import('../sysroot/status.js'),
        import('../sysroot/formats/bls.js'), import('../sysroot/formats/kargs.js'), import('../sysroot/formats/origin.js'),
        import('../glib/keyfile.js'), import('../util/fs.js'), import('../sysroot/fault.js'),
        import('../native/libc.js'), import('../glib/gvariant.js'), import('../repo/objects.js'),
      ]);
      const plain = parsePlainStatus(argv.slice(1));
      if (plain) {
        await adminStatus(plain);
        return process.exitCode === undefined ? 0 : Number(process.exitCode);
      }
    }
    const program = await buildProgram(argv);
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    const { CommanderError } = await import('commander');
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      return e.exitCode === 0 ? 0 : 1;
    }
    if (e instanceof OstreeError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.message === 'string') {
      // A system error that the library did not wrap: still one line, still non-zero.
      process.stderr.write(`error: ${err.message}\n`);
      if (process.env['OSTREE_DEBUG_STACK']) process.stderr.write(`${err.stack}\n`);
      return 1;
    }
    process.stderr.write(`error: ${String((e as Error)?.stack ?? e)}\n`);
    return 1;
  }
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
