import type { Command } from 'commander';
/** `ostree admin ...` verbs. Owned by the sysroot work. */
export function registerAdminCommands(_program: Command): void {}
