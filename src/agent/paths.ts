/** The agent's default state directory; its own module so the CLI's start-up imports nothing else for it. */
export const DEFAULT_STATE_DIR = '/var/lib/ostree-agent';
