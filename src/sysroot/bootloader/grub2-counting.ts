/**
 * The boot-counting part of the generated grub.cfg, for a stock GRUB 2.06 (load_env, save_env,
 * test; no patched commands, no arithmetic).  When the default entry carries a counter
 * (BootMenuEntry.counter) and there is an entry to fall back to, the script
 *
 *   1. loads `ostree_bc_id` / `ostree_bc_left` from the grubenv (boot-counting/grub-counter.ts);
 *   2. starts the count at `tries` when the block counts another deployment (a new default);
 *   3. decrements it by one explicit case per value (`3` -> `2`, ..., `1` -> `0`) and saves it
 *      before the menu, so the try is spent even if the boot dies in the kernel;
 *   4. with no try left (`0`, or anything unexpected) boots entry 1, the previous deployment;
 *      userspace (`ostree admin boot-check`) makes that rollback durable on that boot;
 *   5. leaves a blessed deployment (`good`) alone.
 * Without a grubenv GRUB cannot save the count: the default boots, uncounted.
 */
import { GOOD, ID_VAR, LEFT_VAR } from '../boot-counting/grub-counter.js';
import { MAX_BOOT_COUNTING_TRIES } from '../boot-counting/entry-name.js';
import type { BootMenuEntry } from './types.js';

/** GRUB script quoting: single quotes, with `'` written as `'\''`. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The counting script (empty when nothing is counted); `envFile` is the grubenv as GRUB names it. */
export function countingScript(entries: BootMenuEntry[], envFile: string): string {
  const counter = entries[0]?.counter;
  if (!counter || entries.length < 2 || counter.tries < 1) return '';
  const id = `$${ID_VAR}`, left = `$${LEFT_VAR}`;
  const lines = [
    '',
    `# Boot counting: the default entry gets ${counter.tries} tries, counted in the grubenv;`,
    '# with none left the previous deployment (entry 1) boots.',
    `set ${ID_VAR}=''`,
    `set ${LEFT_VAR}=''`,
    `load_env --skip-sig --file ${q(envFile)} ${ID_VAR} ${LEFT_VAR}`,
    `if [ "${id}" != ${q(counter.id)} ]; then`,
    `\tset ${ID_VAR}=${q(counter.id)}`,
    `\tset ${LEFT_VAR}=${q(String(Math.min(counter.tries, MAX_BOOT_COUNTING_TRIES)))}`,
    'fi',
    `if [ "${left}" = ${q(GOOD)} ]; then`,
    '\ttrue',
  ];
  for (let n = MAX_BOOT_COUNTING_TRIES; n >= 1; n--) {
    lines.push(`elif [ "${left}" = '${n}' ]; then`, `\tset ${LEFT_VAR}='${n - 1}'`);
  }
  lines.push(
    'else',
    `\tset ${LEFT_VAR}='0'`,
    '\tset default=1',
    "\techo 'ostree: the default deployment has no boot tries left: booting the previous one'",
    'fi',
    `if [ "${left}" != ${q(GOOD)} ]; then`,
    `\tsave_env --file ${q(envFile)} ${ID_VAR} ${LEFT_VAR}`,
    'fi',
  );
  return lines.join('\n') + '\n';
}
