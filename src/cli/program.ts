/**
 * The commander program: the root command with its global options, the verb files that the
 * argument vector needs (from the table in verbs.ts), and error output in upstream's words
 * (usage first, then one `error:` line).
 */
import { Command } from 'commander';
import { ADMIN_VERBS, REPO_VERBS, adminGroup, type VerbLoader } from './verbs.js';
import { versionText } from './features.js';
import { installGlibHelp } from './help.js';

/**
 * The first operand of `argv` (the verb, or the admin verb after `admin`): the first argument
 * that is not an option, skipping the value of the options in `withValue` given as two words.
 */
export function operandOf(argv: readonly string[], withValue: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1] ?? null;
    if (withValue.includes(a)) { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return null;
}

/** The verb of an argument vector (`ostree [--repo PATH] VERB ...`), or null. */
export function verbOf(argv: readonly string[]): string | null {
  return operandOf(argv, ['--repo']);
}

/**
 * Upstream parses a verb's options wherever they stand (`ostree --repo=R --print-metadata-key=K
 * show REF`); commander only takes a verb's options after the verb. So the options written
 * before a repository verb, other than the program's own (`--repo`, help, version), move just
 * after it.
 */
export function hoistVerbOptions(argv: readonly string[]): string[] {
  const verb = verbOf(argv);
  const at = verb === null ? -1 : argv.indexOf(verb);
  if (at <= 0 || verb === 'admin') return [...argv];
  const stay: string[] = [], move: string[] = [];
  for (let i = 0; i < at; i++) {
    const a = argv[i]!;
    if (a === '--repo') { stay.push(a, argv[++i]!); continue; }
    if (a.startsWith('--repo=') || a === '--help' || a === '-h' || a === '--version' || !a.startsWith('-')) stay.push(a);
    else move.push(a);
  }
  // After a sub-verb too (`--sysroot=P remote add` → `remote add --sysroot=P`): commander reads
  // a group's options before its sub-verb only. A leaf verb takes them after an operand as well.
  const next = argv[at + 1];
  const after = next !== undefined && !next.startsWith('-') ? at + 2 : at + 1;
  return [...stay, ...argv.slice(at, after), ...move, ...argv.slice(after)];
}

/**
 * GLib parses a group's options wherever they stand, so `ostree remote --set=K=V add NAME URL`
 * means `remote add --set=K=V`. Move the options written between `remote` and its verb after
 * the verb (only `--opt=value` forms and flags; `--repo` stays where it is).
 */
export function hoistGroupOptions(argv: readonly string[]): string[] {
  const at = argv.indexOf('remote');
  if (at < 0 || verbOf(argv) !== 'remote') return [...argv];
  const moved: string[] = [];
  const kept: string[] = [];
  let i = at + 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) break;
    if (a === '--repo' || a.startsWith('--repo=')) { kept.push(a); if (a === '--repo' && i + 1 < argv.length) kept.push(argv[++i]!); continue; }
    moved.push(a);
  }
  if (moved.length === 0 || i >= argv.length || argv[i] === '--') return [...argv];
  return [...argv.slice(0, at + 1), ...kept, argv[i]!, ...moved, ...argv.slice(i + 1)];
}

/** The admin verb of `ostree admin [--sysroot PATH] VERB ...`, or null. */
export function adminVerbOf(argv: readonly string[]): string | null {
  const at = argv.indexOf('admin');
  return at < 0 ? null : operandOf(argv.slice(at + 1), ['--sysroot']);
}

/** The loaders to run: the one for `verb`, or all of them (help, unknown verbs) once each, in table order. */
function loadersFor(table: ReadonlyMap<string, VerbLoader>, verb: string | null): VerbLoader[] {
  const one = verb !== null ? table.get(verb) : undefined;
  return one ? [one] : [...new Set(table.values())];
}

async function registerAll(parent: Command, loaders: VerbLoader[]): Promise<void> {
  const modules = await Promise.all(loaders.map((l) => l()));
  for (const m of modules) m.register(parent);
}

/**
 * How upstream prints an error's usage: `none`; `group` (a verb group's or the program's help,
 * then the error: a missing or unknown verb); `verb` (ot_util_usage_error: the verb's help and a
 * blank line, then the error: a missing operand).
 */
export type UsageStyle = 'none' | 'group' | 'verb';

/** Commander's usage errors, reworded as upstream's (GLib option parser and ostree's own). */
export function upstreamUsageError(message: string): { text: string; usage: UsageStyle } {
  let m: RegExpExecArray | null;
  if ((m = /^error: unknown option '([^']*)'/.exec(message))) return { text: `error: Unknown option ${m[1]}\n`, usage: 'none' };
  if ((m = /^error: option '(?:-\w, )?(--?[\w-]+)[^']*' argument missing/.exec(message))) return { text: `error: Missing argument for ${m[1]}\n`, usage: 'none' };
  if ((m = /^error: unknown command '([^']*)'/.exec(message))) return { text: `error: Unknown command '${m[1]}'\n`, usage: 'group' };
  if ((m = /^error: missing required argument '([^']*)'/.exec(message))) return { text: `error: ${m[1]!.toUpperCase()} must be specified\n`, usage: 'verb' };
  if ((m = /^error: too many arguments(?: for '([^']*)')?\. (.*)$/m.exec(message))) {
    return { text: `error: Too many arguments${m[1] ? ` for '${m[1]}'` : ''}: ${m[2]}\n`, usage: 'verb' };
  }
  return { text: message.endsWith('\n') ? message : `${message}\n`, usage: 'none' };
}

/** Every command prints its usage errors as upstream does: the usage (when upstream shows it), then the error. */
function upstreamErrors(cmd: Command): void {
  cmd.configureOutput({
    outputError: (message, write) => {
      const { text, usage } = upstreamUsageError(message);
      const help = usage === 'none' ? '' : cmd.helpInformation() + (usage === 'verb' ? '\n' : '');
      write(help + text);
    },
  });
  for (const sub of cmd.commands) upstreamErrors(sub);
}

/**
 * The command tree for `argv`: only the verb files it can reach are loaded (`ostree log` never
 * loads the admin verbs; `ostree admin deploy` loads only the deploy verbs). Without `argv`, or
 * for help and unknown verbs, everything is registered.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('ostree')
    .description('Manage OSTree repositories and deployments (TypeScript implementation)')
    .version(versionText().trimEnd(), '--version', 'Print version information and exit')
    .option('--repo <path>', 'Path to OSTree repository (default: $OSTREE_REPO, else /ostree/repo)')
    // upstream's global -v is also summary's -v (--view): a verb's own -v wins, so only the long form is global
    .option('--verbose', 'Print debug information during command processing')
    .exitOverride();
  const verb = argv ? verbOf(argv) : null;
  if (verb !== 'admin') await registerAll(program, loadersFor(REPO_VERBS, verb));
  if (verb === 'admin' || !REPO_VERBS.has(verb ?? '')) {
    const admin = (await adminGroup()).register(program);
    await registerAll(admin, loadersFor(ADMIN_VERBS, verb === 'admin' && argv ? adminVerbOf(argv) : null));
  }
  upstreamErrors(program);
  installGlibHelp(program);
  return program;
}
