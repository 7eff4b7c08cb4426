/**
 * `/run/ostree/staged-deployment`: the record `ostree admin deploy --stage` leaves for
 * `finalize-staged`.  A plain GLib serialization (g_variant_get_data of an `a{sv}` built with
 * GVariantBuilder, host byte order — little-endian here; the record holds only strings and
 * booleans, so byte order does not actually show), not an ostree object.  Keys:
 *   target            a{sv} {name: s "<csum>.<serial>", osname: s, bootcsum: s}
 *   locked            b     (HEAD only; written only when true; 2022.7 uses a lock file)
 *   merge-deployment  a{sv} same shape, if there is a merge deployment
 *   kargs             as    the full kernel argument list, if given explicitly
 *   overlay-initrds   as    sha256 ids, if any
 * Written in that order (upstream's builder order).  Keys this module does not know (e.g.
 * HEAD's `bootconfig-extra`) are kept in `extra` and written back after the known ones.
 */
import { serialize, deserialize, Variant } from '../../glib/gvariant.js';
import { OstreeError } from '../../errors.js';
import { readFileBounded } from '../../util/fs.js';

/** The largest record read: it names two deployments and a kernel command line. */
export const STAGED_RECORD_MAX_BYTES = 1024 * 1024;

export interface StagedDeploymentRef {
  /** `<commit checksum>.<deployserial>` */
  name: string;
  osname: string;
  bootcsum: string;
}

export interface StagedRecord {
  target: StagedDeploymentRef;
  mergeDeployment?: StagedDeploymentRef;
  kargs?: string[];
  overlayInitrds?: string[];
  locked?: boolean;
  /** unknown keys, kept verbatim in file order */
  extra?: Array<[string, Variant]>;
}

const KNOWN = new Set(['target', 'merge-deployment', 'kargs', 'overlay-initrds', 'locked']);

function encodeRef(r: StagedDeploymentRef): Variant {
  return new Variant('a{sv}', [
    ['name', new Variant('s', r.name)],
    ['osname', new Variant('s', r.osname)],
    ['bootcsum', new Variant('s', r.bootcsum)],
  ]);
}

export function encodeStagedRecord(r: StagedRecord): Buffer {
  const entries: Array<[string, Variant]> = [['target', encodeRef(r.target)]];
  if (r.locked) entries.push(['locked', new Variant('b', true)]);
  if (r.mergeDeployment) entries.push(['merge-deployment', encodeRef(r.mergeDeployment)]);
  if (r.kargs) entries.push(['kargs', new Variant('as', [...r.kargs])]);
  if (r.overlayInitrds) entries.push(['overlay-initrds', new Variant('as', [...r.overlayInitrds])]);
  for (const [k, v] of r.extra ?? []) if (!KNOWN.has(k)) entries.push([k, v]);
  return serialize('a{sv}', entries);
}

function corrupt(msg: string): OstreeError {
  return new OstreeError('ECORRUPT', `Invalid staged deployment record: ${msg}`);
}

/** Last value of `key` in an a{sv} (g_variant_lookup semantics are first-match; records never
 * repeat keys, so either is fine). */
function lookup(dict: Array<[string, Variant]>, key: string): Variant | undefined {
  return dict.find(([k]) => k === key)?.[1];
}

function decodeRef(v: Variant | undefined, key: string): StagedDeploymentRef | undefined {
  if (v === undefined) return undefined;
  if (v.type !== 'a{sv}') throw corrupt(`'${key}' has type '${v.type}', expected 'a{sv}'`);
  const dict = v.value as Array<[string, Variant]>;
  const str = (k: string): string => {
    const x = lookup(dict, k);
    if (!x) throw corrupt(`'${key}' lacks '${k}'`);
    if (x.type !== 's') throw corrupt(`'${key}.${k}' has type '${x.type}', expected 's'`);
    return x.value as string;
  };
  return { name: str('name'), osname: str('osname'), bootcsum: str('bootcsum') };
}

function decodeStrv(v: Variant | undefined, key: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (v.type !== 'as') throw corrupt(`'${key}' has type '${v.type}', expected 'as'`);
  return v.value as string[];
}

/** Decode the record; malformed data or missing `target` → OstreeError ECORRUPT. */
export function decodeStagedRecord(buf: Buffer): StagedRecord {
  let dict: Array<[string, Variant]>;
  try {
    dict = deserialize('a{sv}', buf) as Array<[string, Variant]>;
  } catch (e) {
    throw new OstreeError('ECORRUPT', `Invalid staged deployment record: ${(e as Error).message}`, { cause: e });
  }
  const target = decodeRef(lookup(dict, 'target'), 'target');
  if (!target) throw corrupt("missing 'target'");
  const r: StagedRecord = { target };
  const merge = decodeRef(lookup(dict, 'merge-deployment'), 'merge-deployment');
  if (merge) r.mergeDeployment = merge;
  const kargs = decodeStrv(lookup(dict, 'kargs'), 'kargs');
  if (kargs) r.kargs = kargs;
  const initrds = decodeStrv(lookup(dict, 'overlay-initrds'), 'overlay-initrds');
  if (initrds) r.overlayInitrds = initrds;
  const locked = lookup(dict, 'locked');
  if (locked) {
    if (locked.type !== 'b') throw corrupt(`'locked' has type '${locked.type}', expected 'b'`);
    r.locked = locked.value as boolean;
  }
  const extra = dict.filter(([k]) => !KNOWN.has(k));
  if (extra.length > 0) r.extra = extra;
  return r;
}

/** Read and decode the record at `p` (size-bounded before reading); null when there is none. */
export function readStagedRecord(p: string): StagedRecord | null {
  const data = readFileBounded(p, STAGED_RECORD_MAX_BYTES, { what: 'Staged deployment record' });
  if (data === null) return null;
  try {
    return decodeStagedRecord(data);
  } catch (e) {
    if (e instanceof OstreeError) throw new OstreeError(e.code, `${p}: ${e.message}`, { path: p, cause: e });
    throw e;
  }
}
