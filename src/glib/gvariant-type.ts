/**
 * GVariant type strings (GLib's type grammar): parsed once into a tree with each type's
 * alignment, fixed size (0 when variable) and nesting depth, which the serializer and parser in
 * gvariant.ts walk. Nesting is bounded at GLib's G_VARIANT_MAX_RECURSION_DEPTH (128): a type
 * nested deeper is refused, so no walk over a type or a value recurses deeper than that.
 */
import { OstreeError } from '../errors.js';

/** GLib's G_VARIANT_MAX_RECURSION_DEPTH: the deepest nesting of types and values accepted. */
export const GVARIANT_MAX_DEPTH = 128;

// `depth` is GLib's type depth: 1 for a basic type or `v`, 1 + the deepest member for containers.
export type TypeNode =
  | { kind: 'basic'; code: string; align: number; fixed: number; depth: 1 }
  | { kind: 'array'; elem: TypeNode; align: number; fixed: 0; depth: number }
  | { kind: 'maybe'; elem: TypeNode; align: number; fixed: 0; depth: number }
  | { kind: 'tuple'; members: TypeNode[]; align: number; fixed: number; dict: boolean; depth: number }
  | { kind: 'variant'; align: 8; fixed: 0; depth: 1 };

export const BASIC: Record<string, [number, number]> = {
  b: [1, 1], y: [1, 1], n: [2, 2], q: [2, 2], i: [4, 4], u: [4, 4], h: [4, 4],
  x: [8, 8], t: [8, 8], d: [8, 8], s: [1, 0], o: [1, 0], g: [1, 0],
};

const typeCache = new Map<string, TypeNode>();

function badType(type: string, why: string): OstreeError {
  return new OstreeError('EINVAL', `invalid GVariant type string '${type}': ${why}`);
}

// Recursive descent; the recursion is bounded by `limit` (at most GVARIANT_MAX_DEPTH levels).
function parseTypeAt(s: string, pos: number, whole: string, limit: number): [TypeNode, number] {
  const c = s[pos];
  if (c === undefined) throw badType(whole, 'unexpected end');
  const b = BASIC[c];
  if (b) return [{ kind: 'basic', code: c, align: b[0], fixed: b[1], depth: 1 }, pos + 1];
  if (c === 'v') return [{ kind: 'variant', align: 8, fixed: 0, depth: 1 }, pos + 1];
  if (limit <= 1 && (c === 'a' || c === 'm' || c === '(' || c === '{')) throw new DepthError();
  if (c === 'a' || c === 'm') {
    const [elem, next] = parseTypeAt(s, pos + 1, whole, limit - 1);
    return [{ kind: c === 'a' ? 'array' : 'maybe', elem, align: elem.align, fixed: 0, depth: elem.depth + 1 }, next];
  }
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    const members: TypeNode[] = [];
    let p = pos + 1;
    while (s[p] !== close) {
      if (p >= s.length) throw badType(whole, `missing '${close}'`);
      const [m, next] = parseTypeAt(s, p, whole, limit - 1);
      members.push(m);
      p = next;
    }
    if (c === '{') {
      if (members.length !== 2) throw badType(whole, 'a dict entry needs exactly two members');
      if (members[0]!.kind !== 'basic') throw badType(whole, 'dict entry keys must be basic types');
    }
    return [tupleNode(members, c === '{'), p + 1];
  }
  throw badType(whole, `unknown type character '${c}'`);
}

function tupleNode(members: TypeNode[], dict: boolean): TypeNode {
  let align = 1;
  let fixed = 0;
  let allFixed = true;
  let off = 0;
  let depth = 0;
  for (const m of members) {
    align = Math.max(align, m.align);
    depth = Math.max(depth, m.depth);
    if (m.fixed === 0) allFixed = false;
    else { off = alignUp(off, m.align) + m.fixed; }
  }
  if (allFixed) {
    fixed = alignUp(off, align);
    if (fixed === 0) fixed = 1; // the unit tuple is one zero byte
  }
  return { kind: 'tuple', members, align, fixed, dict, depth: depth + 1 };
}

/** Thrown by parseTypeAt when a type nests deeper than allowed (turned into EINVAL or ECORRUPT). */
export class DepthError extends Error {}

export function tooDeep(what: string): string { return `${what} nested deeper than ${GVARIANT_MAX_DEPTH} levels (GLib's limit)`; }

/** Parse a type string that may nest at most `limit` levels (the default: GLib's maximum). */
export function parseType(type: string, limit = GVARIANT_MAX_DEPTH): TypeNode {
  if (limit < 1) throw new DepthError();
  let t = typeCache.get(type);
  if (t) {
    if (t.depth > limit) throw new DepthError();
    return t;
  }
  let node: TypeNode;
  let end: number;
  try {
    [node, end] = parseTypeAt(type, 0, type, limit);
  } catch (e) {
    if (e instanceof DepthError && limit === GVARIANT_MAX_DEPTH) throw badType(type.length > 80 ? `${type.slice(0, 77)}...` : type, tooDeep('types'));
    throw e;
  }
  if (end !== type.length) throw badType(type, 'trailing characters (more than one complete type)');
  t = node;
  if (typeCache.size < 1000 && type.length <= 256) typeCache.set(type, t); // data may carry any number of odd types
  return t;
}

/** True when `type` is one complete, valid GVariant type string. */
export function isValidType(type: string): boolean {
  try { parseType(type); return true; } catch { return false; }
}

export function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

/** The type string of a parsed type. */
export function typeString(t: TypeNode): string {
  switch (t.kind) {
    case 'basic': return t.code;
    case 'variant': return 'v';
    case 'array': return 'a' + typeString(t.elem);
    case 'maybe': return 'm' + typeString(t.elem);
    case 'tuple': return (t.dict ? '{' : '(') + t.members.map(typeString).join('') + (t.dict ? '}' : ')');
  }
}
