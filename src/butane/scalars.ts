/**
 * Typing of YAML scalars as Butane's decoder (gopkg.in/yaml.v3) types them for the Go field
 * they are decoded into:
 * - an integer field takes an unquoted integer in Go's base-prefix syntax with `_` ignored:
 *   `420`, `0644` (a leading zero means octal, as in YAML 1.1), `0o644`, `0x1a4`, `0b110100100`;
 *   an unquoted float is truncated (`4.7` → 4); a quoted value is a string and is refused;
 * - a boolean field takes unquoted true/false in any of YAML's three spellings, and also the
 *   YAML 1.1 words y/yes/on and n/no/off in the same spellings, even quoted;
 * - a string field takes any scalar as written: `name: 0644` is the string "0644";
 * - unquoted `~`, `null` (Null, NULL) and nothing at all mean "not set".
 */
import { Scalar } from 'yaml';

export type ScalarResult<T> = { ok: true; value: T } | { ok: false; message: string };

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUE_WORDS = new Set(['true', 'True', 'TRUE']);
const FALSE_WORDS = new Set(['false', 'False', 'FALSE']);
const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
const GO_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

export function isPlain(node: Scalar): boolean {
  return node.type === Scalar.PLAIN || node.type === undefined;
}

export function isNullScalar(node: Scalar): boolean {
  return isPlain(node) && NULLS.has(String(node.value)) && node.tag !== 'tag:yaml.org,2002:str';
}

export function scalarText(node: Scalar): string {
  return String(node.value);
}

function describe(node: Scalar): string {
  return isPlain(node) ? JSON.stringify(scalarText(node)) : `the quoted string ${JSON.stringify(scalarText(node))}`;
}

/** Go's strconv.ParseInt(s, 0, 64) after yaml.v3 removed the underscores. */
function parseGoInt(text: string): number | undefined {
  if (!GO_INT.test(text)) return undefined;
  const negative = text.startsWith('-');
  const digits = text.replace(/^[-+]/, '');
  let value: bigint;
  if (/^0[xX]/.test(digits)) value = BigInt(digits);
  else if (/^0[oO]/.test(digits)) value = BigInt(`0o${digits.slice(2)}`);
  else if (/^0[bB]/.test(digits)) value = BigInt(digits);
  else if (digits.length > 1 && digits.startsWith('0')) value = BigInt(`0o${digits.slice(1)}`);
  else value = BigInt(digits);
  if (negative) value = -value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(value);
}

export function readInt(node: Scalar): ScalarResult<number> {
  const refused: ScalarResult<number> = { ok: false, message: `expected an integer, got ${describe(node)}` };
  if (!isPlain(node) || node.tag === 'tag:yaml.org,2002:str') return refused;
  const plain = scalarText(node).replace(/_/g, '');
  const int = parseGoInt(plain);
  if (int !== undefined) return { ok: true, value: int };
  if (YAML_FLOAT.test(plain)) {
    const float = Number(plain);
    if (Number.isFinite(float) && Math.abs(float) <= Number.MAX_SAFE_INTEGER) return { ok: true, value: Math.trunc(float) };
  }
  return refused;
}

export function readBool(node: Scalar): ScalarResult<boolean> {
  const text = scalarText(node);
  const plain = isPlain(node) && node.tag !== 'tag:yaml.org,2002:str';
  if (plain && TRUE_WORDS.has(text)) return { ok: true, value: true };
  if (plain && FALSE_WORDS.has(text)) return { ok: true, value: false };
  if (YAML11_TRUE.has(text)) return { ok: true, value: true };
  if (YAML11_FALSE.has(text)) return { ok: true, value: false };
  return { ok: false, message: `expected true or false, got ${describe(node)}` };
}
