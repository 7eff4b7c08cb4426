/**
 * The CLI's module graph in one place: which file registers each verb. Each verb file is loaded
 * only when its verb runs (or for help), so a command pays only for the library it uses;
 * `admin status` goes further and skips commander (main.ts → admin-status.ts).
 *
 * Adding a verb: write src/cli/commands/<file>.ts exporting register(parent), add one line here.
 */
import type { Command } from 'commander';

export interface VerbModule { register(parent: Command): void }
export type VerbLoader = () => Promise<VerbModule>;

const init: VerbLoader = () => import('./commands/init.js');
const commit: VerbLoader = () => import('./commands/commit.js');
const refs: VerbLoader = () => import('./commands/refs.js');
const inspect: VerbLoader = () => import('./commands/inspect.js');
const checkout: VerbLoader = () => import('./commands/checkout.js');
const maint: VerbLoader = () => import('./commands/maint.js');
const diff: VerbLoader = () => import('./commands/diff.js');
const pullLocal: VerbLoader = () => import('./commands/pull-local.js');
const pull: VerbLoader = () => import('./commands/pull.js');
const remote: VerbLoader = () => import('./commands/remote.js');
const sign: VerbLoader = () => import('./commands/sign.js');
const staticDelta: VerbLoader = () => import('./commands/static-delta.js');
const findRemotes: VerbLoader = () => import('./commands/find-remotes.js');
const createUsb: VerbLoader = () => import('./commands/create-usb.js');
const summary: VerbLoader = () => import('./commands/summary.js');
const reset: VerbLoader = () => import('./commands/reset.js');
const checksum: VerbLoader = () => import('./commands/checksum.js');
const exportVerb: VerbLoader = () => import('./commands/export.js');

/**
 * `ostree VERB`: the repository verbs, in the order upstream's help lists them (help.ts; `admin`
 * comes first there). `admin` is its own group, below.
 */
export const REPO_VERBS: ReadonlyMap<string, VerbLoader> = new Map([
  ['cat', inspect], ['checkout', checkout], ['checksum', checksum], ['commit', commit],
  ['config', init], ['diff', diff], ['export', exportVerb],
  ['find-remotes', findRemotes], ['create-usb', createUsb],
  ['fsck', maint], ['gpg-sign', sign], ['init', init],
  ['log', inspect], ['ls', inspect], ['prune', maint],
  ['pull-local', pullLocal], ['pull', pull],
  ['refs', refs], ['remote', remote], ['reset', reset], ['rev-parse', refs],
  ['sign', sign], ['show', inspect], ['static-delta', staticDelta], ['summary', summary],
]);

/** The `admin` group (its options and errors); its verbs are in ADMIN_VERBS. */
export const adminGroup = (): Promise<typeof import('./commands/admin.js')> => import('./commands/admin.js');

const adminInit: VerbLoader = () => import('./commands/admin/init.js');
const adminDeploy: VerbLoader = () => import('./commands/admin/deploy.js');
const adminStatus: VerbLoader = () => import('./commands/admin/status.js');
const adminDeployments: VerbLoader = () => import('./commands/admin/deployments.js');
const adminSystem: VerbLoader = () => import('./commands/admin/system.js');
const adminInstutil: VerbLoader = () => import('./commands/admin/instutil.js');

/**
 * `ostree admin VERB`, in upstream's help order (stateroot-init and rollback, which 2022.7 lacks,
 * next to their kin); help-text.ts names the verbs upstream's help leaves out.
 */
export const ADMIN_VERBS: ReadonlyMap<string, VerbLoader> = new Map([
  ['cleanup', adminSystem], ['config-diff', adminSystem], ['deploy', adminDeploy],
  ['finalize-staged', adminSystem], ['boot-complete', adminSystem], ['boot-check', adminSystem],
  ['init-fs', adminInit], ['instutil', adminInstutil],
  ['os-init', adminInit], ['stateroot-init', adminInit],
  ['pin', adminDeployments], ['set-origin', adminDeployments],
  ['status', adminStatus], ['switch', adminDeploy], ['undeploy', adminDeployments],
  ['unlock', adminSystem], ['upgrade', adminDeploy], ['rollback', adminDeploy],
  ['kargs', adminSystem],
]);
