/**
 * SYSLINUX backend (upstream ostree-bootloader-syslinux.c's behaviour): `boot/syslinux/syslinux.cfg`
 * is a symlink to `../loader/syslinux.cfg`, so the `/boot/loader` swap switches configurations.
 * A new `boot/loader.<B>/syslinux.cfg` keeps everything of the live configuration except the
 * ostree entries (a LABEL block whose KERNEL is under /ostree/ or /boot/ostree/) and an ostree
 * DEFAULT, then appends one block per BLS entry:
 *
 *   DEFAULT <title of the first entry>      (when the old DEFAULT was ostree's, or absent;
 *                                           any other DEFAULT is dropped too, as upstream does)
 *   LABEL <title>
 *   \tKERNEL /boot<linux>
 *   \tINITRD /boot<initrd>                  (if any)
 *   \tDEVICETREE /boot<devicetree>          (if any)
 *   \tAPPEND <options>
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import type { Bootloader, BootloaderBackend, BootMenuEntry } from './types.js';
import { loaderRel } from '../layout.js';
import { lstatOrNull, readFileBounded, writeFileAtomic } from '../../util/fs.js';
import { joinConfigLines } from './config-lines.js';

export const SYSLINUX_CONFIG_REL = 'boot/syslinux/syslinux.cfg';
/** A syslinux.cfg is a few kilobytes; a larger one is not ours to rewrite. */
const CONFIG_MAX_BYTES = 1024 * 1024;

/** The lines of `old` that stay (non-ostree LABEL blocks, other directives) and whether the
 *  DEFAULT is to be regenerated. */
export function keptSyslinuxLines(old: string): { lines: string[]; regenerateDefault: boolean } {
  const lines: string[] = [];
  let block: string[] | null = null;
  let kernel: string | null = null;
  let sawDefault = false;
  let regenerateDefault = false;
  const closeBlock = (): void => {
    if (kernel === null) throw new OstreeError('ECORRUPT', `${SYSLINUX_CONFIG_REL}: No KERNEL argument found after LABEL`);
    if (!kernel.startsWith('/ostree/') && !kernel.startsWith('/boot/ostree/')) lines.push(...block!);
    block = null;
  };
  for (const line of old.split('\n')) {
    if (block !== null && !line.startsWith('\t')) closeBlock();
    if (block === null && line.startsWith('LABEL ')) {
      block = [line];
      continue;
    }
    if (block !== null) {
      if (line.startsWith('\tKERNEL ')) kernel = line.slice('\tKERNEL '.length);
      block.push(line);
      continue;
    }
    if (line.startsWith('DEFAULT ')) {
      sawDefault = true;
      // ostree's titles carry "(ostree"; the old format was "DEFAULT ostree:".
      if (line.startsWith('DEFAULT ostree:') || line.includes('(ostree')) regenerateDefault = true;
      continue;
    }
    lines.push(line);
  }
  if (block !== null) closeBlock();
  return { lines, regenerateDefault: regenerateDefault || !sawDefault };
}

/** The whole new syslinux.cfg from the live one and the new entries. */
export function generateSyslinuxConfig(old: string, entries: readonly BootMenuEntry[]): string {
  const { lines, regenerateDefault } = keptSyslinuxLines(old);
  entries.forEach((e, i) => {
    const title = e.title || '(Untitled)';
    if (regenerateDefault && i === 0) lines.push(`DEFAULT ${title}`);
    lines.push(`LABEL ${title}`);
    if (!e.linux) throw new OstreeError('ECORRUPT', 'No "linux" key in bootloader config');
    lines.push(`\tKERNEL /boot${e.linux}`);
    if (e.initrds[0]) lines.push(`\tINITRD /boot${e.initrds[0]}`);
    if (e.devicetree) lines.push(`\tDEVICETREE /boot${e.devicetree}`);
    if (e.options) lines.push(`\tAPPEND ${e.options}`);
  });
  return joinConfigLines(lines);
}

export class SyslinuxBootloader implements Bootloader {
  readonly name = 'syslinux';
  isAtomic(): boolean { return true; }

  writeConfig(sysrootPath: string, bootversion: number, entries: BootMenuEntry[]): void {
    // Through the symlink: the configuration of the live bootversion.
    const live = path.join(sysrootPath, SYSLINUX_CONFIG_REL);
    const data = readFileBounded(live, CONFIG_MAX_BYTES, { what: 'syslinux configuration' });
    if (data === null) throw new OstreeError('ENOENT', `${live} does not exist: the syslinux backend rewrites an existing configuration`);
    const text = generateSyslinuxConfig(data.toString('utf8'), entries);
    writeFileAtomic(path.join(sysrootPath, loaderRel(bootversion), 'syslinux.cfg'), text, { sync: true });
  }

  postSwap(_sysrootPath: string): void { /* the symlink already follows boot/loader */ }
}

export const syslinuxBackend: BootloaderBackend = {
  name: 'syslinux',
  query: (sysrootPath) => lstatOrNull(path.join(sysrootPath, SYSLINUX_CONFIG_REL)) !== null,
  create: () => new SyslinuxBootloader(),
};
