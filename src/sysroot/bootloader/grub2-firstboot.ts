/**
 * Ignition's first boot in the generated grub.cfg, as Fedora CoreOS decides it: while the stamp
 * `/boot/ignition.firstboot` exists, every entry's kernel command line gets
 * `ignition.firstboot ignition.platform.id=qemu`; the booted system removes the stamp once
 * Ignition has succeeded (boot/ignition/ignition-firstboot-complete.service), so the next boot
 * does not run Ignition again.
 *
 * GRUB tests for the stamp itself at every boot, so removing it needs no new grub.cfg and the
 * `/boot/loader` swap stays the only way the configuration changes.  The script is emitted only
 * when the stamp exists as the configuration is written (an image built for Ignition); a
 * configuration written after the first boot has no trace of it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The stamp, relative to the /boot directory. */
export const FIRSTBOOT_STAMP = 'ignition.firstboot';
/** The GRUB variable the entries' `linux` lines append. */
export const FIRSTBOOT_VAR = 'ignition_firstboot';
/** Ignition's platform: this project's images run under QEMU (the config comes from fw_cfg). */
export const FIRSTBOOT_KARGS = 'ignition.firstboot ignition.platform.id=qemu';

/** Whether the sysroot carries the stamp now. */
export function firstbootStampExists(sysrootPath: string): boolean {
  return fs.existsSync(path.join(sysrootPath, 'boot', FIRSTBOOT_STAMP));
}

/** The script that sets FIRSTBOOT_VAR while the stamp exists; `bootPrefix` is how GRUB names /boot ('' or '/boot'). */
export function firstbootScript(bootPrefix: string): string {
  const stamp = `${bootPrefix}/${FIRSTBOOT_STAMP}`;
  return [
    '',
    '# Ignition first boot: while the stamp exists the kernel gets the first-boot arguments.',
    `set ${FIRSTBOOT_VAR}=''`,
    `if [ -f '${stamp}' ]; then`,
    `\tset ${FIRSTBOOT_VAR}='${FIRSTBOOT_KARGS}'`,
    'fi',
  ].join('\n') + '\n';
}
