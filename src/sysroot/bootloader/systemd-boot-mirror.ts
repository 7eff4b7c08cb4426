/**
 * Make the ESP mirror `/boot/loader/entries` for systemd-boot, with a switch that is crash-safe
 * on FAT (no symlinks, no atomic directory swap).
 *
 * The ESP holds entry sets in two slots, `ostree-a-*` and `ostree-b-*` (systemd-boot-names.ts);
 * `default ostree-<slot>-*` in loader/loader.conf names the live one.  From live slot S to T:
 *   1. remove what a crash left: temporary files, any slot-T entries      (S stays live)
 *   2. copy the kernels/initrds the new set needs, under their /boot names (`/ostree/<os>-<bootcsum>/…`:
 *      content-addressed, so an existing name already holds the right bytes)  (nothing names them yet)
 *   3. write every slot-T entry (temp, fsync, rename)           (S still live: loader.conf names S)
 *   4. loader.conf naming T (temp, fsync, rename over): the commit point on the ESP
 *   5. remove the slot-S entries                                   (T is live and complete)
 *   6. remove kernels no slot-T entry names
 * Whatever step a crash interrupts, loader.conf names a slot whose entries are all present,
 * each naming files that are present and complete; running the mirror again converges (it is a
 * function of /boot/loader and the ESP, and redoes only what is missing).
 *
 * Why step 4 is safe on FAT: Linux vfat renames over an existing name by pointing the target's
 * one 32-byte directory entry at the new file's clusters, then dropping the source's entry.  A
 * crash leaves the target entry old or new (a sector write), both complete since the data was
 * fsync'ed first; at worst the temporary name also remains (removed by step 1 next time).
 * Before the first commit there is no old set: a crash leaves no loader.conf `default`, and
 * systemd-boot then boots the first entry in its order.
 *
 * Boot counting: a deployment already on the ESP keeps the counter of its live entry (none once
 * systemd-bless-boot has blessed it; `+0-N` stays last: a failed deployment stays failed); a
 * deployment new to the ESP gets `+<tries>` when `sysroot.boot-counting-tries` is set.  The
 * pattern default then picks the first slot-T entry in systemd-boot's order, which puts entries
 * with no tries left after all others: the previous deployment boots.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { BlsEntry, compareBlsEntriesDescending, parseBlsEntryFile, BLS_ENTRY_MAX_BYTES } from '../formats/bls.js';
import { readFileBounded } from '../../util/fs.js';
import {
  type BootCounter, type EspEntryName, type Slot, espEntryBase, formatEspEntryName, formatLoaderConf, otherSlot, parseEspEntryName, parseLiveSlot,
} from './systemd-boot-names.js';
import { copyDurable, fsyncDir, isEspTmpName, listFiles, removeIfPresent, writeDurable } from './systemd-boot-esp.js';

/** The comment line that ties an ESP entry to its deployment (for carrying counters forward). */
const DEPLOYMENT_TAG = '# ostree-deployment ';

export interface MirrorOptions {
  /** tries for deployments new to the ESP (0: no counter) */
  tries: number;
  /** called after each durable step (fault injection: a throw here is a crash) */
  step?: (name: string) => void;
}

export interface MirrorResult { slot: Slot; changed: boolean }

/** One entry of the set the ESP should hold, default first. */
interface WantedEntry { k: number; stateroot: string; deployment: string; text: string; files: string[] }

/** Mirror `<sysroot>/boot/loader/entries` onto `esp` (see the file comment). */
export function mirrorEntries(sysrootPath: string, esp: string, opts: MirrorOptions): MirrorResult {
  const step = opts.step ?? (() => {});
  const wanted = wantedEntries(sysrootPath);
  const entriesDir = path.join(esp, 'loader/entries');
  fs.mkdirSync(entriesDir, { recursive: true });
  const confPath = path.join(esp, 'loader/loader.conf');
  const oldConf = fs.existsSync(confPath) ? fs.readFileSync(confPath, 'utf8') : '';
  const live = parseLiveSlot(oldConf);
  const current = readSlotEntries(entriesDir);
  const liveEntries = live ? current.filter((e) => e.name.slot === live) : [];

  if (live && sameSet(liveEntries, wanted)) {
    removeStrays(esp, entriesDir, current, otherSlot(live), step);
    collectKernels(esp, liveEntries.map((e) => e.text), step);
    return { slot: live, changed: false };
  }
  const target = otherSlot(live);
  removeStrays(esp, entriesDir, current, target, step);
  step('esp-strays-removed');
  for (const w of wanted) ensureFiles(sysrootPath, esp, w.files, step);
  const counters = new Map(liveEntries.map((e) => [e.deployment, e.name.counter]));
  for (const w of wanted) {
    const counter = counters.has(w.deployment) ? counters.get(w.deployment) : (opts.tries > 0 ? { left: opts.tries } : undefined);
    const name: EspEntryName = { slot: target, k: w.k, stateroot: w.stateroot, ...(counter ? { counter } : {}) };
    writeDurable(path.join(entriesDir, formatEspEntryName(name)), w.text, () => step('esp-entry-tmp-written'));
    step('esp-entry-written');
  }
  writeDurable(confPath, formatLoaderConf(oldConf, target), () => step('esp-loader-conf-tmp-written'));
  step('esp-loader-conf-written');
  for (const e of liveEntries) {
    removeIfPresent(path.join(entriesDir, e.file));
    step('esp-old-entry-removed');
  }
  fsyncDir(entriesDir);
  collectKernels(esp, wanted.map((w) => w.text), step);
  step('esp-kernels-collected');
  return { slot: target, changed: true };
}

/** Whether loader.conf names a live slot: some switch has been committed on this ESP. */
export function hasLiveSlot(esp: string): boolean {
  const confPath = path.join(esp, 'loader/loader.conf');
  return fs.existsSync(confPath) && parseLiveSlot(fs.readFileSync(confPath, 'utf8')) !== null;
}

/** The entries of /boot/loader, default first, as the ESP entries' text. */
function wantedEntries(sysrootPath: string): WantedEntry[] {
  const dir = path.join(sysrootPath, 'boot/loader/entries');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('ostree-') && n.endsWith('.conf')) : [];
  const files = names.map((n) => {
    const p = path.join(dir, n);
    return parseBlsEntryFile(readFileBounded(p, BLS_ENTRY_MAX_BYTES, { what: 'BLS entry' }) ?? '', p);
  });
  files.sort((x, y) => compareBlsEntriesDescending(x.entry, y.entry));
  return files.map((f, i) => {
    const refs = [f.entry.linux, f.entry.initrd, ...f.entry.overlayInitrds, f.entry.devicetree].filter((x): x is string => !!x);
    for (const r of refs) {
      if (!/^\/ostree\/[^/]+\/[^/]+$/.test(r) || r.includes('/../')) {
        throw new OstreeError('ECORRUPT', `${f.path}: '${r}' is not a file under /ostree/ of /boot; the systemd-boot backend copies only those to the ESP`, { path: f.path });
      }
    }
    const deployment = deploymentOf(sysrootPath, f.ostreeArg);
    return { k: files.length - i, stateroot: f.bootlink.stateroot, deployment, text: espEntryText(f.entry, deployment), files: refs };
  });
}

/** `<stateroot>/<csum>.<serial>` that an `ostree=` bootlink resolves to (else the bootlink). */
function deploymentOf(sysrootPath: string, ostreeArg: string): string {
  try {
    const real = fs.realpathSync(path.join(sysrootPath, ostreeArg));
    const m = /\/ostree\/deploy\/([^/]+)\/deploy\/([^/]+)$/.exec(real);
    if (m) return `${m[1]}/${m[2]}`;
  } catch { /* a dangling bootlink: identify the entry by its argument */ }
  return ostreeArg;
}

function espEntryText(entry: BlsEntry, deployment: string): string {
  return `${DEPLOYMENT_TAG}${deployment}\n${entry.serialize()}`;
}

interface SlotEntry { file: string; name: EspEntryName; text: string; deployment: string }

function readSlotEntries(entriesDir: string): SlotEntry[] {
  const out: SlotEntry[] = [];
  for (const file of fs.readdirSync(entriesDir)) {
    const name = parseEspEntryName(file);
    if (!name) continue;
    const text = fs.readFileSync(path.join(entriesDir, file), 'utf8');
    const tag = text.split('\n').find((l) => l.startsWith(DEPLOYMENT_TAG));
    out.push({ file, name, text, deployment: tag ? tag.slice(DEPLOYMENT_TAG.length) : file });
  }
  return out;
}

/** The live slot already holds exactly these entries (counters aside). */
function sameSet(live: SlotEntry[], wanted: WantedEntry[]): boolean {
  if (live.length !== wanted.length) return false;
  const byBase = new Map(live.map((e) => [espEntryBase(e.name), e.text]));
  return wanted.every((w) => byBase.get(espEntryBase({ slot: live[0]!.name.slot, k: w.k, stateroot: w.stateroot })) === w.text);
}

/** Temporary files anywhere in our parts of the ESP, and every entry of slot `stale`. */
function removeStrays(esp: string, entriesDir: string, current: SlotEntry[], stale: Slot, step: (s: string) => void): void {
  let removed = false;
  for (const e of current) if (e.name.slot === stale) removed = removeIfPresent(path.join(entriesDir, e.file)) || removed;
  for (const dir of [entriesDir, path.join(esp, 'loader')]) {
    for (const n of fs.readdirSync(dir)) if (isEspTmpName(n)) removed = removeIfPresent(path.join(dir, n)) || removed;
  }
  for (const rel of listFiles(esp, 'ostree')) if (isEspTmpName(path.basename(rel))) removed = removeIfPresent(path.join(esp, rel)) || removed;
  if (removed) { fsyncDir(entriesDir); step('esp-stray-removed'); }
}

/** Copy the files `refs` (paths in /boot) to the same paths on the ESP, when missing. */
export function ensureFiles(sysrootPath: string, esp: string, refs: string[], step: (s: string) => void): void {
  for (const r of refs) {
    const dst = path.join(esp, r);
    if (fs.existsSync(dst)) continue;
    copyDurable(path.join(sysrootPath, 'boot', r), dst, () => step('esp-file-tmp-written'));
    step('esp-file-copied');
  }
}

/** Remove files under the ESP's ostree/ that none of these entry texts names. */
function collectKernels(esp: string, texts: string[], step: (s: string) => void): void {
  const keep = new Set<string>();
  for (const t of texts) {
    for (const line of t.split('\n')) {
      const m = /^(linux|initrd|devicetree)\s+(\S+)/.exec(line);
      if (m) keep.add(m[2]!.replace(/^\//, ''));
    }
  }
  for (const rel of listFiles(esp, 'ostree')) {
    if (keep.has(rel)) continue;
    removeIfPresent(path.join(esp, rel));
    step('esp-file-removed');
  }
  const root = path.join(esp, 'ostree');
  if (!fs.existsSync(root)) return;
  for (const d of fs.readdirSync(root)) {
    const p = path.join(root, d);
    if (fs.statSync(p).isDirectory() && fs.readdirSync(p).length === 0) fs.rmdirSync(p);
  }
  fsyncDir(root);
}

export type { BootCounter };
