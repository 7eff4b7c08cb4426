/**
 * Bootloader backends by name, and the choice for a sysroot (repo config
 * `[sysroot] bootloader=`): `auto` (default) asks each backend with a `query` in turn and falls
 * back to `none`; a name picks that backend.  A new backend is one file exporting a
 * BootloaderBackend plus one line in BACKENDS.
 *
 * `auto` probes in upstream's order: syslinux, grub2, uboot, with systemd-boot (not an upstream
 * backend) before grub2: see systemd-boot.ts.  Upstream's other values (zipl,
 * aboot) are not implemented here: they fail with ECONFIG "Invalid bootloader configuration"
 * like any unknown value, rather than silently writing nothing.
 */
import { OstreeError } from '../../errors.js';
import type { KeyFile } from '../../glib/keyfile.js';
import type { Bootloader, BootloaderBackend } from './types.js';
import { noneBackend } from './none.js';
import { grub2Backend } from './grub2.js';
import { syslinuxBackend } from './syslinux.js';
import { ubootBackend } from './uboot.js';
import { systemdBootBackend } from './systemd-boot.js';

/** Every backend, in `auto` probing order. */
const BACKENDS: readonly BootloaderBackend[] = [
  syslinuxBackend,
  systemdBootBackend,
  grub2Backend,
  ubootBackend,
  noneBackend,
];

export type BootloaderSetting = string;

/** The configured `sysroot.bootloader` (`auto` when unset); an unknown name is ECONFIG. */
export function bootloaderSetting(config: KeyFile | undefined): BootloaderSetting {
  const v = config?.get('sysroot', 'bootloader') ?? 'auto';
  if (v === 'auto' || BACKENDS.some((b) => b.name === v)) return v;
  const names = ['auto', ...BACKENDS.map((b) => b.name)].join(', ');
  throw new OstreeError('ECONFIG', `Invalid bootloader configuration: '${v}' (supported: ${names}; set with 'ostree config set sysroot.bootloader grub2')`);
}

/** The backend to use for this sysroot, per repo config (and probing for `auto`). */
export function selectBootloader(sysrootPath: string, config: KeyFile | undefined): Bootloader {
  const setting = bootloaderSetting(config);
  const chosen = setting === 'auto'
    ? BACKENDS.find((b) => b.query?.(sysrootPath)) ?? noneBackend
    : BACKENDS.find((b) => b.name === setting)!;
  return chosen.create(config);
}
