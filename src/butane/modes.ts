/**
 * Butane's warning for a mode that was probably written in decimal: `mode: 644` is 0o1204, an
 * odd mode, while 0o644 is an ordinary one. Warn when the number is unusual as written but
 * usual when its digits are read as octal.
 */

function digitsAsOctal(mode: number): number | undefined {
  if (mode < 0 || mode > 7777) return undefined;
  const digits = String(mode);
  if (/[89]/.test(digits)) return undefined;
  return parseInt(digits, 8);
}

/** Whether the owner ⊇ group ⊇ other pattern of permissions is the kind people use. */
function isTypicalMode(mode: number, directory: boolean): boolean {
  if (mode === 0) return true;
  let hadR = false;
  let hadW = false;
  let hadX = false;
  for (const shift of [0, 3, 6]) {
    const perm = (mode >> shift) & 7;
    const r = (perm & 4) !== 0;
    const w = (perm & 2) !== 0;
    const x = (perm & 1) !== 0;
    // a wider class must not have a bit the narrower class lacks (r--rw----)
    if ((!r && hadR) || (!w && hadW) || (!x && hadX)) return false;
    // read without execute for a wider class while a narrower one executes (rwxr-----)
    if (x && hadR && !hadX) return false;
    // -w- and --x exist but are rare enough to suspect a typo
    if ((w || x) && !r) return false;
    hadR ||= r;
    hadW ||= w;
    hadX ||= x;
  }
  if (!hadR) return false;
  if (directory) {
    if (!hadX) return false;
    if (mode & 0o4000) return false;
    if (mode & 0o3000 && !hadW) return false;
  } else {
    if (mode & 0o6000) {
      if (!hadX) return false;
      if (mode & 2) return false;
    }
    if (mode & 0o1000) return false;
  }
  return true;
}

export const DECIMAL_MODE_WARNING = 'unreasonable mode would be reasonable if specified in octal; remember to add a leading zero';

export function looksDecimal(mode: number, directory: boolean): boolean {
  const octal = digitsAsOctal(mode);
  return octal !== undefined && !isTypicalMode(mode, directory) && isTypicalMode(octal, directory);
}
