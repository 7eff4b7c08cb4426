/**
 * The text form the line-based bootloader configurations share (syslinux.cfg, uEnv.txt): lines
 * joined with '\n' after each, where an empty first line and every empty line after the first
 * kept one are dropped (upstream _ostree_sysroot_join_lines, whose output the bootloaders and
 * upstream's own readers expect).
 */
export function joinConfigLines(lines: readonly string[]): string {
  let out = '';
  let keptEmpty = false;
  lines.forEach((line, i) => {
    if (line === '') {
      if (keptEmpty || i === 0) return;
      keptEmpty = true;
    }
    out += `${line}\n`;
  });
  return out;
}
