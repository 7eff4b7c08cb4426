/**
 * Parsers for argument values shared by several verbs: repeated options, integers, deployment
 * indexes, KEY=VALUE pairs, timestamps and dates. Each refuses anything that is not exactly
 * the documented form, with a message naming the argument.
 */
import { OstreeError } from '../errors.js';

/** Commander reducer for repeatable options (`--karg A --karg B`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A signed decimal integer option (`--depth=-1`), as GLib's option parser accepts it. */
export function parseIntArg(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw new OstreeError('EINVAL', `Cannot parse integer value '${v}' for ${flag}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new OstreeError('EINVAL', `Integer value '${v}' for ${flag} is out of range`);
  return n;
}

/** Commander parser for an integer option. */
export function intOption(flag: string): (v: string) => number {
  return (v: string) => parseIntArg(flag, v);
}

/** Largest deployment index accepted (upstream parses indexes into a C int). */
const MAX_INDEX = 0x7fffffff;

/**
 * A deployment index: plain decimal digits only. Upstream's undeploy reads it with atoi(), so
 * `abc` silently means deployment 0; here `abc`, `1.5`, ` 1`, `0x1`, `+1`, `-1` and the empty
 * string are all errors. Whether the index exists is checked against the sysroot later.
 */
export function parseDeploymentIndex(s: string): number {
  if (!/^[0-9]+$/.test(s)) {
    const shown = /^\S+$/.test(s) ? s : `'${s}'`;
    throw new OstreeError('EINVAL', `Invalid index: ${shown}`);
  }
  const n = Number(s);
  if (n > MAX_INDEX) throw new OstreeError('EINVAL', `Index too large: ${s}`);
  return n;
}

/** `KEY=VALUE` → [key, value]; the key must be non-empty. */
export function splitKeyValue(kv: string, what: string): [string, string] {
  const i = kv.indexOf('=');
  if (i <= 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE for ${what}: '${kv}'`);
  return [kv.slice(0, i), kv.slice(i + 1)];
}

/** `SECTION.KEY` → [section, key], split at the first dot as upstream (`remote "x".url`). */
export function splitConfigKey(k: string): [string, string] {
  const i = k.indexOf('.');
  if (i <= 0 || i === k.length - 1) throw new OstreeError('EINVAL', 'Key must be of the form "sectionname.keyname"');
  return [k.slice(0, i), k.slice(i + 1)];
}

/** Parse `--timestamp`: `@SECONDS`, plain seconds, or a date string (ISO 8601 etc.). */
export function parseTimestamp(s: string): bigint {
  if (/^@?-?\d+$/.test(s)) return BigInt(s.replace(/^@/, ''));
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new OstreeError('EINVAL', `Could not parse '${s}'`);
  return BigInt(Math.floor(ms / 1000));
}

const UNIT_SECONDS: Record<string, number> = {
  second: 1, minute: 60, hour: 3600, day: 86400, week: 604800, month: 2592000, year: 31536000,
};

/** `--keep-younger-than`: "N days ago" style relative dates, or anything Date.parse accepts; ms since the epoch. */
export function parseDateArg(s: string, now = Date.now()): number | null {
  const m = /^\s*(\d+)\s+(second|minute|hour|day|week|month|year)s?\s+ago\s*$/.exec(s);
  if (m) return now - Number(m[1]) * UNIT_SECONDS[m[2]!]! * 1000;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}
