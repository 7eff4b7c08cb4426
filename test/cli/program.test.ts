/**
 * src/cli/program.ts and verbs.ts: which verb files an argument vector loads, that the verb
 * table and the verb files agree, upstream's wording of usage errors, and the `--sysroot` help
 * of every admin verb.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { adminVerbOf, buildProgram, hoistVerbOptions, operandOf, upstreamUsageError, verbOf } from '../../src/cli/program.js';
import { ADMIN_VERBS, REPO_VERBS, adminGroup } from '../../src/cli/verbs.js';
import { installGlibHelp } from '../../src/cli/help.js';

test('verbOf / adminVerbOf skip options and the values of --repo / --sysroot', () => {
  assert.equal(verbOf(['--repo', '/r', 'log', 'x']), 'log');
  assert.equal(verbOf(['--repo=/r', 'refs']), 'refs');
  assert.equal(verbOf(['--version']), null);
  assert.equal(verbOf([]), null);
  assert.equal(operandOf(['--', '-weird'], []), '-weird');
  assert.equal(adminVerbOf(['admin', '--sysroot', '/s', 'deploy', 'x']), 'deploy');
  assert.equal(adminVerbOf(['admin', '--sysroot=/s', 'status']), 'status');
  assert.equal(adminVerbOf(['admin']), null);
  assert.equal(adminVerbOf(['refs']), null);
});

test('every verb in the tables is registered by the file the table names', async () => {
  for (const [name, load] of REPO_VERBS) {
    const parent = new Command('ostree');
    (await load()).register(parent);
    assert.ok(parent.commands.some((c) => c.name() === name), `${name} not registered by its module`);
  }
  for (const [name, load] of ADMIN_VERBS) {
    const parent = new Command('admin');
    (await load()).register(parent);
    assert.ok(parent.commands.some((c) => c.name() === name), `admin ${name} not registered by its module`);
  }
});

test('buildProgram loads only the verb files the arguments reach', async () => {
  const names = (c: Command): string[] => c.commands.map((x) => x.name()).sort();
  assert.deepEqual(names(await buildProgram(['log', 'main'])), ['cat', 'log', 'ls', 'show']);
  assert.deepEqual(names(await buildProgram(['--repo=/r', 'refs'])), ['refs', 'rev-parse']);
  const admin = await buildProgram(['admin', '--sysroot=/s', 'undeploy', '1']);
  assert.deepEqual(names(admin), ['admin']);
  assert.deepEqual(names(admin.commands[0]!).filter((n) => n !== 'help'), ['pin', 'set-origin', 'undeploy']);
  // Help and unknown verbs: everything, so the listing is complete.
  const all = await buildProgram(['frobnicate']);
  for (const v of REPO_VERBS.keys()) assert.ok(names(all).includes(v), v);
  const adminAll = all.commands.find((c) => c.name() === 'admin')!;
  for (const v of ADMIN_VERBS.keys()) assert.ok(names(adminAll).includes(v), `admin ${v}`);
});

test('usage errors read as upstream: unknown option, missing argument or option value, unknown command', () => {
  assert.deepEqual(upstreamUsageError("error: unknown option '--frob'"), { text: 'error: Unknown option --frob\n', usage: 'none' });
  assert.deepEqual(upstreamUsageError("error: option '--repo <path>' argument missing"), { text: 'error: Missing argument for --repo\n', usage: 'none' });
  assert.deepEqual(upstreamUsageError("error: option '-s, --subject <subject>' argument missing"), { text: 'error: Missing argument for --subject\n', usage: 'none' });
  assert.deepEqual(upstreamUsageError("error: missing required argument 'rev'"), { text: 'error: REV must be specified\n', usage: 'verb' });
  assert.deepEqual(upstreamUsageError("error: unknown command 'frob'"), { text: "error: Unknown command 'frob'\n", usage: 'group' });
  assert.equal(upstreamUsageError("error: too many arguments for 'log'. Expected 1 argument but got 2.").text,
    "error: Too many arguments for 'log': Expected 1 argument but got 2.\n");
  assert.equal(upstreamUsageError('error: something new').text, 'error: something new\n');
});

test("every admin verb's --help describes --sysroot as the sysroot it uses (init-fs: ignored)", async () => {
  const program = new Command('ostree');
  const admin = (await adminGroup()).register(program);
  for (const load of new Set(ADMIN_VERBS.values())) (await load()).register(admin);
  installGlibHelp(program);
  const verbs = admin.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c])).filter((c) => c.name() !== 'help');
  assert.ok(verbs.length >= ADMIN_VERBS.size, `${verbs.length} verbs`);
  for (const c of [admin, ...verbs]) {
    const help = c.helpInformation().replace(/\s+/g, ' ');
    assert.doesNotMatch(help, /Create a new OSTree sysroot/, c.name());
    if (c.name() === 'init-fs') assert.match(help, /--sysroot=PATH Ignored: init-fs creates the new sysroot at its PATH argument/);
    else assert.match(help, /--sysroot=PATH Use the sysroot at PATH \(default: \$OSTREE_SYSROOT, else \/\)/, c.name());
  }
});

test('hoistVerbOptions: options before a verb move after it (and after a sub-verb); --repo, help and admin stay', () => {
  assert.deepEqual(hoistVerbOptions(['--repo=r', '--print-metadata-key=K', 'show', 'REF']), ['--repo=r', 'show', 'REF', '--print-metadata-key=K']);
  assert.deepEqual(hoistVerbOptions(['--repo', 'r', '--sysroot=s', 'remote', 'add', 'x', 'u']), ['--repo', 'r', 'remote', 'add', '--sysroot=s', 'x', 'u']);
  assert.deepEqual(hoistVerbOptions(['--foo', 'commit', '-b', 'x']), ['commit', '--foo', '-b', 'x']);
  assert.deepEqual(hoistVerbOptions(['log', 'x']), ['log', 'x']);
  assert.deepEqual(hoistVerbOptions(['--verbose', 'admin', 'status']), ['--verbose', 'admin', 'status']);
  assert.deepEqual(hoistVerbOptions(['--version']), ['--version']);
});
