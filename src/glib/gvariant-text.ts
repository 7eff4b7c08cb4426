/**
 * GVariant text format, the reading side (GLib's g_variant_parse), as command lines take it:
 * `--add-metadata KEY=VALUE` of `ostree summary` and `ostree commit`. printVariant in gvariant.ts
 * is the writing side.
 *
 * Covered: booleans, numbers (decimal, 0x hex, floats), '…' and "…" strings with GLib's escapes,
 * b'…' bytestrings, [arrays], (tuples), {dicts: …}, {entry, …}, <variants>, `nothing`/`just`,
 * type annotations `@TYPE value` and the type keywords (`uint64 7`, `objectpath '/a'`, …).
 * Untyped values get GLib's defaults: integers are int32, numbers with a point or exponent
 * doubles, and a container's type comes from its first element whose type is known (GLib unifies
 * all of them; the first is enough for what command lines pass). Input is bounded (TEXT_MAX) and
 * its nesting at GLib's 128 levels.
 */
import { OstreeError } from '../errors.js';
import { Variant } from './gvariant.js';
import { GVARIANT_MAX_DEPTH, parseType, typeString, type TypeNode } from './gvariant-type.js';
import { readTextNode, type TextNode } from './gvariant-text-lexer.js';

/** Longest text accepted (command-line values, not documents). */
export const TEXT_MAX = 1024 * 1024;

function fail(text: string, why: string): OstreeError {
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return new OstreeError('EINVAL', `Error parsing variant ‘${shown}’: ${why}`);
}

/** Parse GVariant text into a typed Variant (g_variant_parse with no expected type), or with
 *  `type` given, into a value of that type. EINVAL on bad syntax or a type that cannot be inferred. */
export function parseVariantText(text: string, type?: string): Variant {
  if (text.length > TEXT_MAX) throw fail(text.slice(0, 60), `text longer than ${TEXT_MAX} characters`);
  let node: TextNode;
  try { node = readTextNode(text); } catch (e) { throw fail(text, (e as Error).message); }
  const t = type ?? inferType(node, text);
  try {
    return new Variant(t, build(node, parseType(t), 0));
  } catch (e) {
    if (e instanceof OstreeError && e.message.startsWith('Error parsing')) throw e;
    throw fail(text, (e as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// Type inference: the type a node has on its own, or null when it cannot say (`[]`, `nothing`).

function infer(n: TextNode): string | null {
  switch (n.k) {
    case 'typed': return n.type;
    case 'bool': return 'b';
    case 'string': return 's';
    case 'bytes': return 'ay';
    case 'number': return /[.eEn]/.test(n.text.replace(/^-?0x[0-9a-fA-F]+$/, '')) ? 'd' : 'i';
    case 'variant': return 'v';
    case 'nothing': return null;
    case 'just': { const t = infer(n.inner); return t === null ? null : `m${t}`; }
    case 'tuple': {
      const ts = n.items.map(infer);
      return ts.every((t) => t !== null) ? `(${ts.join('')})` : null;
    }
    case 'entry': {
      const k = infer(n.key); const v = infer(n.value);
      return k !== null && v !== null ? `{${k}${v}}` : null;
    }
    case 'array': {
      for (const it of n.items) { const t = infer(it); if (t !== null) return `a${t}`; }
      return null;
    }
    case 'dict': {
      let k: string | null = null; let v: string | null = null;
      for (const [a, b] of n.entries) { k ??= infer(a); v ??= infer(b); }
      return k !== null && v !== null ? `a{${k}${v}}` : null;
    }
  }
}

function inferType(n: TextNode, text: string): string {
  const t = infer(n);
  if (t === null) throw fail(text, 'unable to infer type (add a type annotation such as @as [])');
  return t;
}

// ---------------------------------------------------------------------------------------------
// Building the value of a node for a known type (the value mapping of gvariant.ts).

const INT_RANGE: Record<string, [bigint, bigint]> = {
  y: [0n, 255n], n: [-32768n, 32767n], q: [0n, 65535n], i: [-(2n ** 31n), 2n ** 31n - 1n],
  u: [0n, 2n ** 32n - 1n], h: [-(2n ** 31n), 2n ** 31n - 1n], x: [-(2n ** 63n), 2n ** 63n - 1n], t: [0n, 2n ** 64n - 1n],
};

function mismatch(n: TextNode, t: TypeNode): Error {
  return new Error(`a ${n.k} cannot be a value of type '${typeString(t)}'`);
}

function buildNumber(text: string, code: string): number | bigint {
  if (code === 'd') {
    const d = Number(text);
    if (Number.isNaN(d)) throw new Error(`invalid number ${text}`);
    return d;
  }
  if (!/^-?(0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(text)) throw new Error(`invalid integer ${text}`);
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  let v = body.startsWith('0x') ? BigInt(body) : body.length > 1 && body.startsWith('0') ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
  if (neg) v = -v;
  const [lo, hi] = INT_RANGE[code]!;
  if (v < lo || v > hi) throw new Error(`number ${text} out of range for type '${code}'`);
  return code === 'x' || code === 't' ? v : Number(v);
}

function buildBasic(n: TextNode, code: string): unknown {
  if (n.k === 'bool' && code === 'b') return n.v;
  if (n.k === 'string' && (code === 's' || code === 'o' || code === 'g')) return n.v;
  if (n.k === 'number' && INT_RANGE[code] !== undefined) return buildNumber(n.text, code);
  if (n.k === 'number' && code === 'd') return buildNumber(n.text, 'd');
  return undefined;
}

function build(n: TextNode, t: TypeNode, depth: number): unknown {
  if (depth > GVARIANT_MAX_DEPTH) throw new Error(`values nested deeper than ${GVARIANT_MAX_DEPTH} levels`);
  if (n.k === 'typed') {
    if (n.type !== typeString(t)) throw new Error(`type annotation '${n.type}' where '${typeString(t)}' is expected`);
    return build(n.inner, t, depth + 1);
  }
  switch (t.kind) {
    case 'basic': {
      const v = buildBasic(n, t.code);
      if (v === undefined) throw mismatch(n, t);
      return v;
    }
    case 'variant': {
      if (n.k !== 'variant') throw mismatch(n, t);
      const it = infer(n.inner);
      if (it === null) throw new Error('unable to infer the type of a variant’s value');
      return new Variant(it, build(n.inner, parseType(it), depth + 1));
    }
    case 'maybe':
      if (n.k === 'nothing') return null;
      return build(n.k === 'just' ? n.inner : n, t.elem, depth + 1);
    case 'array':
      return buildArray(n, t, depth);
    case 'tuple':
      if (t.dict) {
        if (n.k !== 'entry') throw mismatch(n, t);
        return [build(n.key, t.members[0]!, depth + 1), build(n.value, t.members[1]!, depth + 1)];
      }
      if (n.k !== 'tuple' || n.items.length !== t.members.length) throw mismatch(n, t);
      return n.items.map((it, i) => build(it, t.members[i]!, depth + 1));
  }
}

function buildArray(n: TextNode, t: Extract<TypeNode, { kind: 'array' }>, depth: number): unknown {
  const e = t.elem;
  if (e.kind === 'basic' && e.code === 'y') {
    if (n.k === 'bytes') return n.v;
    if (n.k !== 'array') throw mismatch(n, t);
    return Buffer.from(n.items.map((it) => build(it, e, depth + 1) as number));
  }
  if (e.kind === 'tuple' && e.dict && n.k === 'dict') {
    return n.entries.map(([k, v]) => [build(k, e.members[0]!, depth + 1), build(v, e.members[1]!, depth + 1)]);
  }
  if (n.k === 'dict' && n.entries.length === 0) return [];
  if (n.k !== 'array') throw mismatch(n, t);
  return n.items.map((it) => build(it, e, depth + 1));
}
