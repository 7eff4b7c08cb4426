import type { Command } from 'commander';
/** Repository verbs (init, commit, refs, ...). Owned by the repository work. */
export function registerRepoCommands(_program: Command): void {}
