/**
 * The bootloader package as importers see it: the interface (types.ts), the registry
 * (registry.ts) and the backends.  Nothing here imports this file, so it adds no cycle.
 */
export type { Bootloader, BootloaderBackend, BootMenuEntry } from './types.js';
export { bootloaderSetting, selectBootloader, type BootloaderSetting } from './registry.js';
export { NoneBootloader } from './none.js';
export { Grub2Bootloader, grubQuote } from './grub2.js';
