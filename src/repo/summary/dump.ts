/**
 * The summary as text, as upstream's ot_dump_summary_bytes prints it (`ostree summary --view`,
 * `ostree remote summary`): each ref (`* REF`, or `* (COLLECTION, REF)` when the summary has a
 * collection ID, then the collection map's refs), its commit size and checksum, its metadata;
 * then every extension, the known ones with a pretty name. `--raw` prints the whole variant as
 * GLib's g_variant_print with type annotations, after upstream's dump has byteswapped it (it
 * assumes the data is big-endian, like its other objects), so integers show swapped.
 */
import { deserialize, printVariant, serialize, Variant } from '../../glib/gvariant.js';
import { formatSize } from '../../util/format-size.js';
import {
  REF_KEYS, SUMMARY_KEYS, SUMMARY_T, fromBeU64, parseSummaryFile, summaryCollectionMap, summaryExtension,
  type SummaryRefEntry,
} from './format.js';
import { OstreeError } from '../../errors.js';

/** GLib's `%FT%T%:::z` in the local time zone (as upstream prints summary times). */
export function iso8601Local(secs: bigint): string {
  const d = new Date(Number(secs) * 1000);
  if (Number.isNaN(d.getTime())) return 'invalid';
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const a = Math.abs(off);
  const tz = `${off < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${a % 60 ? `:${p2(a % 60)}` : ''}`;
  return `${local.getUTCFullYear()}-${p2(local.getUTCMonth() + 1)}-${p2(local.getUTCDate())}T${p2(local.getUTCHours())}:${p2(local.getUTCMinutes())}:${p2(local.getUTCSeconds())}${tz}`;
}

function refText(collection: string | null, r: SummaryRefEntry): string {
  let out = collection === null ? `* ${r.name}\n` : `* (${collection}, ${r.name})\n`;
  out += `    Latest Commit (${formatSize(Number(r.size))}):\n      ${r.checksum}\n`;
  for (const [k, v] of r.metadata) {
    const ts = k === REF_KEYS.timestamp ? fromBeU64(v) : undefined;
    if (ts !== undefined) out += `    Timestamp (${k}): ${iso8601Local(ts)}\n`;
    else if (k === REF_KEYS.version && v.type === 's') out += `    Version (${k}): ${v.value as string}\n`;
    else out += `    ${k}: ${printVariant(v.type, v.value)}\n`;
  }
  return `${out}\n`;
}

const PRETTY: Record<string, string> = {
  [SUMMARY_KEYS.staticDeltas]: 'Static Deltas', [SUMMARY_KEYS.lastModified]: 'Last-Modified', [SUMMARY_KEYS.expires]: 'Expires',
  [SUMMARY_KEYS.collectionId]: 'Collection ID', [SUMMARY_KEYS.collectionMap]: 'Collection Map',
  [SUMMARY_KEYS.mode]: 'Repository Mode', [SUMMARY_KEYS.tombstoneCommits]: 'Has Tombstone Commits',
};

const KNOWN_MODES = ['bare', 'bare-user', 'bare-user-only', 'archive', 'archive-z2', 'bare-split-xattrs'];

function extensionValue(k: string, v: Variant): string {
  if (k === SUMMARY_KEYS.lastModified || k === SUMMARY_KEYS.expires) {
    const t = fromBeU64(v);
    if (t !== undefined) return iso8601Local(t);
  }
  if (k === SUMMARY_KEYS.collectionId && v.type === 's') return v.value as string;
  if (k === SUMMARY_KEYS.collectionMap) return '(printed above)';
  if (k === SUMMARY_KEYS.mode && v.type === 's') {
    const m = v.value as string;
    return KNOWN_MODES.includes(m) ? m : `Invalid (‘${m}’)`;
  }
  if (k === SUMMARY_KEYS.tombstoneCommits && v.type === 'b') return v.value ? 'Yes' : 'No';
  return printVariant(v.type, v.value);
}

/** The `--view` text of a summary file. ECORRUPT if it is not one. */
export function formatSummary(data: Buffer, source = 'summary'): string {
  const s = parseSummaryFile(data, source);
  const main = summaryExtension(s, SUMMARY_KEYS.collectionId);
  const mainId = main !== undefined && main.type === 's' ? (main.value as string) : null;
  let out = s.refs.map((r) => refText(mainId, r)).join('');
  for (const [c, refs] of summaryCollectionMap(s, source)) out += refs.map((r) => refText(c, r)).join('');
  for (const [k, v] of s.extensions) {
    const value = extensionValue(k, v);
    out += PRETTY[k] !== undefined ? `${PRETTY[k]} (${k}): ${value}\n` : `${k}: ${value}\n`;
  }
  return out;
}

/** Every Variant inside `value` with its integers byteswapped (g_variant_byteswap reaches into
 *  variants; the `bigEndian` option of deserialize does not). */
function swapNested(value: unknown): unknown {
  if (value instanceof Variant) {
    const swapped = deserialize(value.type, serialize(value.type, value.value), { bigEndian: true });
    return new Variant(value.type, swapNested(swapped));
  }
  if (Array.isArray(value)) return value.map(swapNested);
  return value;
}

type RawSummary = [Array<[string, [bigint, Buffer, Array<[string, Variant]>]]>, Array<[string, Variant]>];

/** The `--raw` text of a summary file. ECORRUPT if it is not one. */
export function formatSummaryRaw(data: Buffer, source = 'summary'): string {
  parseSummaryFile(data, source); // validates
  let v: RawSummary;
  try {
    v = deserialize(SUMMARY_T, data, { bigEndian: true }) as RawSummary;
  } catch (e) {
    throw new OstreeError('ECORRUPT', `${source}: not a valid summary file: ${(e as Error).message}`, { cause: e });
  }
  return printVariant(SUMMARY_T, swapNested(v), true);
}
