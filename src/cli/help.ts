/**
 * `--help` in upstream's layout: the text GLib's GOptionContext prints for ostree 2022.7 (usage
 * line, summary, "Help Options:", "Application Options:"; verb groups list their verbs under
 * "Builtin ... Commands:"), rendered from the commander tree. Scripts read this layout (upstream's
 * test-help.sh walks every verb through it), so it follows upstream's spacing exactly.
 *
 * Like GLib's, the text ends with a blank line: a group's error follows it directly; a verb's
 * usage error (upstream's ot_util_usage_error) adds one more blank line before the error.
 */
import { Help, type Command, type Option } from 'commander';
import { GROUPS, type GroupLayout, NO_REPO, ONE_VERB_GROUPS, OPERANDS, SUBVERB_ORDER, UNLISTED } from './help-text.js';
import { ADMIN_VERBS, REPO_VERBS } from './verbs.js';

const helper = new Help();

/** `admin deploy` for `ostree admin deploy`; `''` for `ostree`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** The verbs `cmd` lists: commander's visible ones, without those upstream leaves out, in upstream's order. */
export function listedVerbs(cmd: Command): Command[] {
  const path = commandPath(cmd);
  const order = path === '' ? ['admin', ...REPO_VERBS.keys()] : path === 'admin' ? [...ADMIN_VERBS.keys()] : SUBVERB_ORDER.get(path) ?? [];
  const rank = (c: Command): number => { const i = order.indexOf(c.name()); return i < 0 ? order.length : i; };
  return helper.visibleCommands(cmd)
    .filter((c) => c.name() !== 'help' && !UNLISTED.has(commandPath(c)))
    .sort((a, b) => rank(a) - rank(b));
}

/** Commander's arguments as upstream writes operands: `<rev> [paths...]` → `REV [PATHS...]`. */
function operandsOf(cmd: Command): string {
  const known = OPERANDS.get(commandPath(cmd));
  if (known !== undefined) return known;
  return cmd.registeredArguments.map((a) => {
    const name = `${a.name().toUpperCase()}${a.variadic ? '...' : ''}`;
    return a.required ? name : `[${name}]`;
  }).join(' ');
}

/** An option as GLib lists it: `  -s, --subject=SUBJECT`. */
function optionLabel(o: Option): string {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '');
  const names = o.short && o.long ? `${o.short}, ${o.long}` : (o.long ?? o.short ?? o.flags);
  return `  ${names}${value ? `=${value.toUpperCase()}` : ''}`;
}

const isHelpOption = (o: Option): boolean => o.long === '--help';
const GLOBAL_LONGS = ['--verbose', '--version'];

/**
 * What "Application Options:" lists, in upstream's order: `--repo` for the verbs that open a
 * repository, the verb's own options, then the global ones (`--verbose`, `--version`).
 */
function applicationOptions(cmd: Command, path: string, oneVerbGroup: boolean): Option[] {
  const root = rootOf(cmd);
  const own = (oneVerbGroup ? [cmd, ...cmd.commands] : [cmd])
    .flatMap((c) => helper.visibleOptions(c))
    // upstream's top level lists only the global options (`--repo` belongs to the repository verbs)
    .filter((o) => !isHelpOption(o) && cmd !== root);
  const isGroup = cmd.commands.length > 0 && !oneVerbGroup;
  const takesRepo = path !== '' && path.split(' ')[0] !== 'admin' && !NO_REPO.has(path) && !isGroup;
  const repo = takesRepo ? root.options.filter((o) => o.long === '--repo') : [];
  const globals = GLOBAL_LONGS.flatMap((long) => root.options.filter((o) => o.long === long && !own.some((x) => x.long === long)));
  // a one-verb group's sub-verbs share options (`config get|set|unset --group`): list each once
  return [...new Map([...repo, ...own, ...globals].map((o) => [o.flags, o])).values()];
}

/**
 * GLib's option table: every description starts in one column, four spaces and one more past
 * the longest option, and never left of where it would be for an option whose name is as long as
 * `-?, --help` (GLib measures names without the `  --` every line starts with).
 */
const NARROWEST = '  --'.length + '-?, --help'.length;

function optionSections(options: Option[]): string {
  const labels = options.map(optionLabel);
  const width = Math.max(NARROWEST, ...labels.map((l) => l.length)) + 4;
  const line = (label: string, text: string): string => `${label}${' '.repeat(width - label.length)} ${text}\n`;
  return 'Help Options:\n' + line('  -h, --help', 'Show help options')
    + '\nApplication Options:\n' + options.map((o, i) => line(labels[i]!, o.description)).join('');
}

/** The heading and one line per listed verb (the name padded to the group's column). */
function verbList(cmd: Command, layout: GroupLayout): string {
  return [layout.heading, ...listedVerbs(cmd).map((c) => `  ${c.name().padEnd(layout.nameWidth)}${c.description()}`)].join('\n');
}

/** `ostree static-delta` prints its own short help: usage and verbs, no options. */
function shortGroupHelp(path: string, layout: GroupLayout, cmd: Command): string {
  return `Usage:\n  ostree ${path} [OPTION...] COMMAND\n\n${verbList(cmd, layout)}\n\n`;
}

/** The help of `cmd`, as upstream prints it for `--help`. */
export function glibHelp(cmd: Command): string {
  const path = commandPath(cmd);
  const oneVerbGroup = ONE_VERB_GROUPS.has(path);
  const group = oneVerbGroup ? undefined : GROUPS.get(path) ?? (cmd.commands.length > 0 ? { heading: `Builtin "${path}" Commands:`, nameWidth: 18 } : undefined);
  if (group?.short) return shortGroupHelp(path, group, cmd);
  const operands = operandsOf(cmd);
  const usage = `Usage:\n  ostree${path ? ` ${path}` : ''} [OPTION…]${operands ? ` ${operands}` : ''}\n\n`;
  // The program's own description is not shown: upstream's top level has none.
  const summary = [path === '' ? '' : cmd.description(), group ? verbList(cmd, group) : '']
    .filter((s) => s !== '').join('\n\n');
  return usage + (summary ? `${summary}\n\n` : '') + optionSections(applicationOptions(cmd, path, oneVerbGroup)) + '\n';
}

/** Render the help of `program` and of every command below it with glibHelp. */
export function installGlibHelp(program: Command): void {
  program.configureHelp({ formatHelp: (c) => glibHelp(c) });
  for (const sub of program.commands) installGlibHelp(sub);
}
