import type { Command } from 'commander';
/**
 * Repository maintenance verbs (fsck, prune, diff, pull-local). Registration point called by
 * registerRepoCommands(); this file belongs to the repository-maintenance work.
 */
export function registerRepoMaintCommands(_program: Command): void {}
