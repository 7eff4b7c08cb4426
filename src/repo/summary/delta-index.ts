/**
 * What the summary knows of static deltas: the delta names found under REPO/deltas (the
 * `ostree.static-deltas` extension maps each to the SHA-256 of its superblock) and the delta
 * indexes, REPO/delta-indexes/XX/REST.index, one per target commit: an a{sv} holding the same
 * `ostree.static-deltas` map for the deltas that lead to it (upstream's reindex, run on every
 * summary update). The delta files themselves belong to the static-delta code; this module
 * only reads their directory layout and superblocks.
 *
 *   deltas/XX/REST/superblock            a delta from scratch to XXREST
 *   deltas/XX/REST-TO/superblock         a delta from XXREST to TO
 *
 * (checksums in OSTree's modified base64: '/' is '_', no padding; see layout.ts)
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { Variant, serialize } from '../../glib/gvariant.js';
import { glibDictOrder } from '../../glib/ghash-order.js';
import { readFileBounded, writeFileAtomic, mkdirp } from '../../util/fs.js';
import { MAX_METADATA_SIZE } from '../objects/common.js';
import { deltaIndexPath, deltaSuperblockPath } from '../layout.js';
import { SUMMARY_KEYS } from './format.js';

/** A static delta: from (null: from scratch) and to, both hex checksums. */
export interface DeltaName { from: string | null; to: string }

const B64_CSUM = /^[A-Za-z0-9+_]{43}$/;

/** OSTree's modified base64 of a checksum → hex (null when it is not one). */
function b64ToHex(b64: string): string | null {
  if (!B64_CSUM.test(b64)) return null;
  const buf = Buffer.from(b64.replace(/_/g, '/'), 'base64');
  return buf.length === 32 ? buf.toString('hex') : null;
}

/** `FROM-TO` or `TO`, as upstream names deltas. */
export function deltaNameString(d: DeltaName): string {
  return d.from === null ? d.to : `${d.from}-${d.to}`;
}

function dirEntries(dir: string): fs.Dirent[] {
  const out: fs.Dirent[] = [];
  let dh: fs.Dir;
  try { dh = fs.opendirSync(dir); } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return out;
    throw e;
  }
  // opendir keeps the filesystem's order, as upstream enumerates (the order reaches the output
  // through GHashTable insertion order)
  try { for (let e = dh.readSync(); e !== null; e = dh.readSync()) out.push(e); } finally { dh.closeSync(); }
  return out;
}

/** Every delta under REPO/deltas that has a superblock, in directory order. Entries whose names
 *  are not checksums are skipped. */
export function listStaticDeltas(repoPath: string): DeltaName[] {
  const out: DeltaName[] = [];
  const root = path.join(repoPath, 'deltas');
  for (const d1 of dirEntries(root)) {
    if (!d1.isDirectory()) continue;
    for (const d2 of dirEntries(path.join(root, d1.name))) {
      if (!d2.isDirectory()) continue;
      if (!fs.existsSync(path.join(root, d1.name, d2.name, 'superblock'))) continue;
      const whole = d1.name + d2.name;
      const dash = whole.indexOf('-');
      const first = b64ToHex(dash < 0 ? whole : whole.slice(0, dash));
      const second = dash < 0 ? null : b64ToHex(whole.slice(dash + 1));
      if (first === null || (dash >= 0 && second === null)) continue;
      out.push(second === null ? { from: null, to: first } : { from: first, to: second });
    }
  }
  return out;
}

/** SHA-256 of a delta's superblock as the `ay` the summary and the indexes hold. */
export function superblockDigest(repoPath: string, d: DeltaName): Variant {
  const p = path.join(repoPath, deltaSuperblockPath(d.from, d.to));
  const data = readFileBounded(p, MAX_METADATA_SIZE, { what: `static delta ${deltaNameString(d)}: superblock`, advice: 'delete the delta (ostree static-delta delete)' });
  if (data === null) throw new OstreeError('ENOENT', `static delta ${deltaNameString(d)}: ${p} is missing; delete the delta (ostree static-delta delete) or regenerate it`, { path: p });
  return new Variant('ay', crypto.createHash('sha256').update(data).digest());
}

/** The `ostree.static-deltas` map for these deltas (a GVariantDict, so in GHashTable order). */
export function staticDeltasVariant(repoPath: string, deltas: DeltaName[]): Variant {
  return new Variant('a{sv}', glibDictOrder(deltas.map((d): [string, Variant] => [deltaNameString(d), superblockDigest(repoPath, d)])));
}

/** Target commits that have an index file now. */
export function listIndexedTargets(repoPath: string): string[] {
  const out: string[] = [];
  const root = path.join(repoPath, 'delta-indexes');
  for (const d1 of dirEntries(root)) {
    if (!d1.isDirectory() || d1.name.length !== 2) continue;
    for (const f of dirEntries(path.join(root, d1.name))) {
      if (!f.isFile() || f.name.length !== 41 + '.index'.length || !f.name.endsWith('.index')) continue;
      const hex = b64ToHex(d1.name + f.name.slice(0, 41));
      if (hex !== null) out.push(hex);
    }
  }
  return out;
}

/**
 * Rewrite REPO/delta-indexes from REPO/deltas (upstream's ostree_repo_static_delta_reindex for
 * all targets): one index per target, stale ones removed, unchanged ones left untouched.
 */
export function reindexStaticDeltas(repoPath: string, sync: boolean, only?: string): void {
  const byTarget = new Map<string, Array<string | null>>();
  if (only === undefined) for (const to of listIndexedTargets(repoPath)) byTarget.set(to, []);
  else byTarget.set(only, []); // `static-delta reindex --to`: that index only, rewritten or removed
  for (const d of listStaticDeltas(repoPath)) {
    if (only !== undefined && d.to !== only) continue;
    const froms = byTarget.get(d.to) ?? [];
    froms.push(d.from);
    byTarget.set(d.to, froms);
  }
  for (const [to, froms] of byTarget) {
    const file = path.join(repoPath, deltaIndexPath(to));
    if (froms.length === 0) { fs.rmSync(file, { force: true }); continue; }
    // sorted so the index is reproducible; from-scratch (null) first, as g_strcmp0 sorts NULL
    froms.sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
    const deltas = staticDeltasVariant(repoPath, froms.map((from) => ({ from, to })));
    const data = serialize('a{sv}', [[SUMMARY_KEYS.staticDeltas, deltas]]);
    mkdirp(path.dirname(file));
    const old = readFileBounded(file, data.length + 1, { what: 'delta index', truncate: true });
    if (old !== null && old.equals(data)) continue;
    writeFileAtomic(file, data, { mode: 0o644, sync });
  }
}
