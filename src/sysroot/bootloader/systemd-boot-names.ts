/**
 * Names the systemd-boot backend gives things on the EFI system partition, parsed and
 * formatted side by side.
 *
 * Entry files: `loader/entries/ostree-<slot>-<K>-<stateroot>[+LEFT[-DONE]].conf`.
 * - `<slot>` is `a` or `b`: the ESP holds at most two entry sets while one replaces the other
 *   (FAT has no symlinks, so upstream's `/boot/loader` swap cannot work there, ostree#3488);
 *   `default ostree-<slot>-*` in `loader/loader.conf` says which set is live.
 * - `<K>` as in /boot's `ostree-<K>-<stateroot>.conf`: the number of deployments minus the
 *   index, so the default deployment has the highest K.  systemd-boot orders entries without a
 *   `sort-key` by file name, newest (highest version-compared) first, so within a slot the
 *   default deployment is first.
 * - `+LEFT-DONE` is the Boot Loader Specification's boot counter: systemd-boot renames the file
 *   on every attempt (`+3` → `+2-1` → …) and orders entries with LEFT = 0 after all others;
 *   systemd-bless-boot renames a successful boot's entry to the name without a counter.
 */

export type Slot = 'a' | 'b';

export interface BootCounter { left: number; done?: number }

export interface EspEntryName {
  slot: Slot;
  k: number;
  stateroot: string;
  counter?: BootCounter;
}

export function otherSlot(s: Slot | null): Slot { return s === 'a' ? 'b' : 'a'; }

/** `+3`, `+2-1` (empty for no counter). */
export function formatCounter(c: BootCounter | undefined): string {
  if (!c) return '';
  return c.done === undefined ? `+${c.left}` : `+${c.left}-${c.done}`;
}

/** The entry's name without its counter (what systemd-boot and bootctl call its id). */
export function espEntryBase(n: Pick<EspEntryName, 'slot' | 'k' | 'stateroot'>): string {
  return `ostree-${n.slot}-${n.k}-${n.stateroot}`;
}

export function formatEspEntryName(n: EspEntryName): string {
  return `${espEntryBase(n)}${formatCounter(n.counter)}.conf`;
}

const NAME_RE = /^ostree-([ab])-([0-9]{1,9})-(.+?)(?:\+([0-9]{1,9})(?:-([0-9]{1,9}))?)?\.conf$/;

/** Parse one of our ESP entry names; null for anything else (other entries are left alone). */
export function parseEspEntryName(name: string): EspEntryName | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  const r: EspEntryName = { slot: m[1] as Slot, k: Number(m[2]), stateroot: m[3]! };
  if (m[4] !== undefined) r.counter = m[5] === undefined ? { left: Number(m[4]) } : { left: Number(m[4]), done: Number(m[5]) };
  return r;
}

/** The `default` pattern of loader.conf for a slot. */
export function slotPattern(slot: Slot): string { return `ostree-${slot}-*`; }

/** The slot a loader.conf text makes live (its last `default ostree-<slot>-*` line), or null. */
export function parseLiveSlot(loaderConf: string): Slot | null {
  let slot: Slot | null = null;
  for (const line of loaderConf.split('\n')) {
    const m = /^\s*default\s+ostree-([ab])-\*\s*$/.exec(line);
    if (m) slot = m[1] as Slot;
    else if (/^\s*default\s/.test(line)) slot = null;
  }
  return slot;
}

export const LOADER_CONF_HEADER = '# Written by ostree-ts: `default` names the live set of OSTree entries; other lines are kept.';

/** loader.conf naming `slot`, keeping the user's other settings of `old` (timeout 3 if none). */
export function formatLoaderConf(old: string, slot: Slot): string {
  const kept = old.split('\n').filter((l) => l.trim() !== '' && !/^\s*default(\s|$)/.test(l) && l !== LOADER_CONF_HEADER);
  if (!kept.some((l) => /^\s*timeout\s/.test(l))) kept.push('timeout 3');
  return [LOADER_CONF_HEADER, `default ${slotPattern(slot)}`, ...kept].join('\n') + '\n';
}
