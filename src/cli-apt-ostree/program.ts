/**
 * The commander program of `apt-ostree`: rpm-ostree's verbs and flags. Options given to the
 * program (`--sysroot`) reach every verb through optsWithGlobals().
 */
import { Command } from 'commander';
import type { LayerRequest } from '../layering/transaction.js';
import type { GlobalOpts } from './context.js';
import { deployTarget, newRefspec, runLayer, upgradeCheck, type LayerOpts } from './verbs-layer.js';
import { cancel, cleanup, dbDiffVerb, dbListVerb, kargs, rollbackVerb, status, usroverlay } from './verbs-other.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function layerVerb(parent: Command, name: string, desc: string, args: string, build: (a: string[], o: LayerOpts & Record<string, unknown>) => Promise<LayerRequest> | LayerRequest): Command {
  const c = parent.command(name).description(desc);
  if (args !== '') c.argument(args);
  c.option('--os <STATEROOT>', 'operate on this stateroot').option('-r, --reboot', 'reboot after the operation')
    .option('-n, --dry-run', 'exit after resolving, before deploying');
  c.action(async (...xs: unknown[]) => {
    const cmd = xs[xs.length - 1] as Command;
    const o = cmd.optsWithGlobals() as LayerOpts & Record<string, unknown>;
    const a = (args === '' ? [] : (xs[0] as string[] | string | undefined)) ?? [];
    await runLayer(o, await build(Array.isArray(a) ? a : [a], o));
  });
  return c;
}

function addOverride(program: Command): void {
  const ov = program.command('override').description('Manage base package overrides');
  layerVerb(ov, 'remove', 'Remove packages from the base layer', '<PKG...>', (a) => ({ overrideRemove: a }));
  layerVerb(ov, 'replace', 'Replace packages in the base layer with local .debs', '<DEB...>', (a) => ({ overrideReplace: a }));
  layerVerb(ov, 'reset', 'Reset overrides (all with --all)', '[PKG...]', (a, o) => ({ overrideReset: o['all'] ? 'all' : a }))
    .option('-a, --all', 'reset every override');
}

function addDeployVerbs(program: Command): void {
  layerVerb(program, 'install', 'Overlay additional packages (names or local .deb files)', '<PKG...>', (a) => ({ install: a }));
  layerVerb(program, 'uninstall', 'Remove overlayed packages', '<PKG...>', (a) => ({ uninstall: a }));
  layerVerb(program, 'reset', 'Remove all layered packages and overrides', '', () => ({ reset: true }));
  layerVerb(program, 'rebase', 'Switch to a different tree (REMOTE:REF, REF, or -b BRANCH)', '[REFSPEC]', async (a, o) => ({
    rebase: await newRefspec(o, a[0], o['branch'] as string | undefined),
  })).option('-b, --branch <BRANCH>', 'rebase to this branch of the current remote');
  const up = layerVerb(program, 'upgrade', 'Perform a system upgrade', '', () => ({ pullBase: true }))
    .option('--check', 'just check if an upgrade is available').option('--preview', 'like --check, with the package diff');
  up.hook('preAction', async (cmd) => {
    const o = cmd.optsWithGlobals() as GlobalOpts & { check?: boolean; preview?: boolean };
    if (!o.check && !o.preview) return;
    await upgradeCheck(o, !!o.preview);
    process.exit(0);
  });
  layerVerb(program, 'deploy', 'Deploy a specific base commit (checksum or version)', '<REVISION>', async (a, o) => ({
    baseRevision: await deployTarget(o, a[0]!),
  }));
}

function addOtherVerbs(program: Command): void {
  program.command('status').description('Get the version of the booted system')
    .option('-v, --verbose', 'more information').option('--json', 'output JSON').option('-b, --booted', 'only the booted deployment')
    .option('--os <STATEROOT>', 'ignored (every stateroot is shown)')
    .action(async (_o, cmd: Command) => status(cmd.optsWithGlobals()));
  program.command('rollback').description('Revert to the previously booted tree').option('-r, --reboot', 'reboot after')
    .action(async (_o, cmd: Command) => rollbackVerb(cmd.optsWithGlobals()));
  program.command('cancel').description('Cancel an active transaction').action(async (_o, cmd: Command) => cancel(cmd.optsWithGlobals()));
  program.command('cleanup').description('Clear cached/pending data')
    .option('-p, --pending', 'remove the pending deployment').option('-r, --rollback', 'remove the rollback deployment')
    .option('-b, --base', 'remove temporary files and unused base refs').option('-m, --repomd', 'remove the apt metadata cache')
    .option('--os <STATEROOT>', 'stateroot').action(async (_o, cmd: Command) => cleanup(cmd.optsWithGlobals()));
  const db = program.command('db').description('Commands to query the package database');
  db.command('list').argument('[REV...]').description('List packages within commits')
    .action(async (revs: string[], _o, cmd: Command) => dbListVerb(cmd.optsWithGlobals(), revs));
  db.command('diff').argument('[FROM]').argument('[TO]').description('Show package changes between two commits')
    .action(async (from: string | undefined, to: string | undefined, _o, cmd: Command) => dbDiffVerb(cmd.optsWithGlobals(), from, to));
  program.command('kargs').description('Query or modify kernel arguments')
    .option('--append <KEY=VALUE>', 'append a kernel argument', collect).option('--delete <KEY=VALUE>', 'delete a kernel argument', collect)
    .option('--replace <KEY=VALUE=NEWVALUE>', 'replace a kernel argument', collect).option('-r, --reboot', 'reboot after')
    .option('--os <STATEROOT>', 'stateroot').action(async (_o, cmd: Command) => kargs(cmd.optsWithGlobals()));
  program.command('usroverlay').description('Apply a transient overlayfs to /usr')
    .action(async (_o, cmd: Command) => usroverlay(cmd.optsWithGlobals()));
}

export function buildProgram(): Command {
  const program = new Command('apt-ostree')
    .description('Hybrid image/package system: .deb package layering on OSTree deployments')
    .option('--sysroot <PATH>', 'use the system root at PATH (default: $OSTREE_SYSROOT or /)')
    .exitOverride().showHelpAfterError(false);
  addDeployVerbs(program);
  addOverride(program);
  addOtherVerbs(program);
  return program;
}
