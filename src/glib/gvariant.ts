/**
 * GVariant serialization (GLib's binary format), normal form, both directions.
 *
 * Value mapping (both directions):
 *   b → boolean; y n q i u h → number; x t → bigint; d → number; s o g → string;
 *   ay → Buffer; other aT → T[]; a{KV} → Array<[K, V]> (order kept); (…) → unknown[];
 *   {KV} → [K, V]; v → Variant; mT → value | null.
 *
 * Byte order: GLib writes integers in host order (little-endian here). OSTree stores its
 * objects with integer members byteswapped to big-endian; pass `{ bigEndian: true }` for that.
 * The option applies to the integers of the given type only, not to values nested inside a
 * `v` (upstream builds metadata variants in host order, e.g. `--add-metadata=K=42u`).
 * Framing offsets are always little-endian, as in GLib.
 *
 * Nesting is bounded as in GLib (G_VARIANT_MAX_RECURSION_DEPTH, 128 levels): a type string or a
 * value (containers and variants inside variants) nested deeper is refused, as EINVAL for a type
 * we are asked to use and ECORRUPT for data. Data comes from the network (summaries, commit
 * metadata), so this bound is also what keeps the recursive walks below from exhausting the stack.
 */
import { OstreeError } from '../errors.js';
import { BASIC, DepthError, GVARIANT_MAX_DEPTH, alignUp, parseType, tooDeep, typeString, type TypeNode } from './gvariant-type.js';

export { GVARIANT_MAX_DEPTH, isValidType } from './gvariant-type.js';

export class Variant {
  constructor(readonly type: string, readonly value: unknown) {}
}

export interface GVariantOptions { bigEndian?: boolean }

// Framing offsets are exported for the hand-rolled codecs of hot formats (src/repo/objects.ts).

/** Size of each framing offset in a container whose total size is `total` (GLib's rule). */
export function offsetSizeFor(total: number): number {
  if (total === 0) return 0;
  if (total <= 0xff) return 1;
  if (total <= 0xffff) return 2;
  if (total <= 0xffffffff) return 4;
  return 8;
}

/** Total container size given a body size and a number of framing offsets (GLib's rule). */
export function totalSize(body: number, nOffsets: number): number {
  if (nOffsets === 0) return body;
  if (body + nOffsets <= 0xff) return body + nOffsets;
  if (body + 2 * nOffsets <= 0xffff) return body + 2 * nOffsets;
  if (body + 4 * nOffsets <= 0xffffffff) return body + 4 * nOffsets;
  return body + 8 * nOffsets;
}

// ---------------------------------------------------------------------------------------------
// Serialization: build a list of chunks with a running offset (alignment is relative to the
// start of the outermost value, which GLib guarantees is 8-aligned).

class Writer {
  chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void { this.chunks.push(b); this.length += b.length; }
  pad(align: number): void {
    const n = alignUp(this.length, align) - this.length;
    if (n > 0) this.push(Buffer.alloc(n));
  }
  result(): Buffer { return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length); }
}

function writeOffset(n: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  writeOffsetAt(b, 0, size, n);
  return b;
}

function typeError(t: string, v: unknown, what: string): OstreeError {
  let shown: string;
  try { shown = typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v); } catch { shown = String(v); }
  if (shown.length > 60) shown = shown.slice(0, 57) + '...';
  return new OstreeError('EINVAL', `cannot serialize ${shown} as GVariant '${t}': ${what}`);
}

/**
 * Serialize one value of type `t`. `base` is the absolute offset where it starts, needed only
 * for nothing: every GVariant container starts aligned to its own alignment and children are
 * aligned relative to the container start, so we serialize each value independently.
 */
function ser(t: TypeNode, v: unknown, be: boolean, depth = 0): Buffer {
  switch (t.kind) {
    case 'basic': return serBasic(t.code, v, be);
    case 'variant': {
      if (!(v instanceof Variant)) throw typeError('v', v, 'expected a Variant');
      let inner: TypeNode;
      try { inner = parseType(v.type, GVARIANT_MAX_DEPTH - depth - 1); } catch (e) {
        if (e instanceof DepthError) throw typeError('v', v.type, tooDeep('values'));
        throw e;
      }
      const body = ser(inner, v.value, false, depth + 1);
      return Buffer.concat([body, Buffer.from([0]), Buffer.from(v.type, 'latin1')]);
    }
    case 'maybe': {
      if (v === null || v === undefined) return Buffer.alloc(0);
      const body = ser(t.elem, v, be, depth + 1);
      return t.elem.fixed ? body : Buffer.concat([body, Buffer.from([0])]);
    }
    case 'array': {
      if (t.elem.kind === 'basic' && t.elem.code === 'y') {
        if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v as Uint8Array);
        throw typeError('ay', v, 'expected a Buffer');
      }
      if (!Array.isArray(v)) throw typeError(typeString(t), v, 'expected an array');
      const w = new Writer();
      if (t.elem.fixed) {
        for (const e of v) w.push(ser(t.elem, e, be, depth + 1));
        return w.result();
      }
      const ends: number[] = [];
      for (const e of v) {
        w.pad(t.elem.align);
        w.push(ser(t.elem, e, be, depth + 1));
        ends.push(w.length);
      }
      if (ends.length === 0) return Buffer.alloc(0);
      const total = totalSize(w.length, ends.length);
      const os = offsetSizeFor(total);
      for (const e of ends) w.push(writeOffset(e, os));
      return w.result();
    }
    case 'tuple': {
      if (!Array.isArray(v) || v.length !== t.members.length) {
        throw typeError(typeString(t), v, `expected an array of ${t.members.length} members`);
      }
      const w = new Writer();
      const ends: number[] = [];
      for (let i = 0; i < t.members.length; i++) {
        const m = t.members[i]!;
        w.pad(m.align);
        w.push(ser(m, v[i], be, depth + 1));
        if (m.fixed === 0 && i < t.members.length - 1) ends.push(w.length);
      }
      if (t.fixed) {
        if (w.length < t.fixed) w.push(Buffer.alloc(t.fixed - w.length));
        return w.result();
      }
      const total = totalSize(w.length, ends.length);
      const os = offsetSizeFor(total);
      for (let i = ends.length - 1; i >= 0; i--) w.push(writeOffset(ends[i]!, os));
      return w.result();
    }
  }
}

function intRange(code: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw typeError(code, v, `expected an integer in [${lo}, ${hi}]`);
  }
  return v;
}

function serBasic(code: string, v: unknown, be: boolean): Buffer {
  let b: Buffer;
  switch (code) {
    case 'b':
      if (typeof v !== 'boolean') throw typeError(code, v, 'expected a boolean');
      return Buffer.from([v ? 1 : 0]);
    case 'y': return Buffer.from([intRange(code, v, 0, 255)]);
    case 'n': b = Buffer.alloc(2); be ? b.writeInt16BE(intRange(code, v, -0x8000, 0x7fff)) : b.writeInt16LE(intRange(code, v, -0x8000, 0x7fff)); return b;
    case 'q': b = Buffer.alloc(2); be ? b.writeUInt16BE(intRange(code, v, 0, 0xffff)) : b.writeUInt16LE(intRange(code, v, 0, 0xffff)); return b;
    case 'i': case 'h': b = Buffer.alloc(4); be ? b.writeInt32BE(intRange(code, v, -0x80000000, 0x7fffffff)) : b.writeInt32LE(intRange(code, v, -0x80000000, 0x7fffffff)); return b;
    case 'u': b = Buffer.alloc(4); be ? b.writeUInt32BE(intRange(code, v, 0, 0xffffffff)) : b.writeUInt32LE(intRange(code, v, 0, 0xffffffff)); return b;
    case 'x': case 't': {
      let big: bigint;
      if (typeof v === 'bigint') big = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
      else throw typeError(code, v, 'expected a bigint');
      b = Buffer.alloc(8);
      try {
        if (code === 'x') { be ? b.writeBigInt64BE(big) : b.writeBigInt64LE(big); }
        else { be ? b.writeBigUInt64BE(big) : b.writeBigUInt64LE(big); }
      } catch { throw typeError(code, v, 'out of range'); }
      return b;
    }
    case 'd':
      if (typeof v !== 'number') throw typeError(code, v, 'expected a number');
      b = Buffer.alloc(8); be ? b.writeDoubleBE(v) : b.writeDoubleLE(v); return b;
    case 's': case 'o': case 'g': {
      if (typeof v !== 'string') throw typeError(code, v, 'expected a string');
      if (v.includes('\0')) throw typeError(code, v, 'strings cannot contain NUL');
      const s = Buffer.from(v, 'utf8');
      const out = Buffer.alloc(s.length + 1);
      s.copy(out);
      return out;
    }
  }
  throw typeError(code, v, 'unsupported type');
}

/** Serialize `value` as GVariant `type` in normal form. */
export function serialize(type: string, value: unknown, options: GVariantOptions = {}): Buffer {
  return ser(parseType(type), value, options.bigEndian === true);
}

// ---------------------------------------------------------------------------------------------
// Deserialization

function corrupt(type: string, why: string): OstreeError {
  return new OstreeError('ECORRUPT', `malformed GVariant of type '${type}': ${why}`);
}

/** The little-endian framing offset of `size` bytes at `pos` (saturating at 2^53). */
export function readOffset(d: Buffer, pos: number, size: number): number {
  switch (size) {
    case 1: return d[pos]!;
    case 2: return d.readUInt16LE(pos);
    case 4: return d.readUInt32LE(pos);
    default: {
      const n = d.readBigUInt64LE(pos);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
      return Number(n);
    }
  }
}

/** Store framing offset `v` as `size` little-endian bytes at `pos`. */
export function writeOffsetAt(d: Buffer, pos: number, size: number, v: number): void {
  switch (size) {
    case 1: d[pos] = v; break;
    case 2: d.writeUInt16LE(v, pos); break;
    case 4: d.writeUInt32LE(v, pos); break;
    default: d.writeBigUInt64LE(BigInt(v), pos);
  }
}

// `depth` counts the containers around the value; with a type depth of at most
// GVARIANT_MAX_DEPTH - depth for every variant's contents, the recursion stays within 128 levels.
function des(t: TypeNode, d: Buffer, be: boolean, top: string, depth: number): unknown {
  switch (t.kind) {
    case 'basic': return desBasic(t.code, d, be, top);
    case 'variant': {
      const z = d.lastIndexOf(0);
      if (z < 0) throw corrupt(top, 'variant without type string separator');
      const ts = d.subarray(z + 1).toString('latin1');
      let inner: TypeNode;
      try { inner = parseType(ts, GVARIANT_MAX_DEPTH - depth - 1); } catch (e) {
        if (e instanceof DepthError) throw corrupt(top, tooDeep('values'));
        throw corrupt(top, `variant with invalid type '${ts.length > 80 ? `${ts.slice(0, 77)}...` : ts}'`);
      }
      return new Variant(ts, des(inner, d.subarray(0, z), false, top, depth + 1));
    }
    case 'maybe': {
      if (d.length === 0) return null;
      if (t.elem.fixed) {
        if (d.length !== t.elem.fixed) throw corrupt(top, 'maybe of fixed type has wrong size');
        return des(t.elem, d, be, top, depth + 1);
      }
      if (d[d.length - 1] !== 0) throw corrupt(top, 'maybe value without trailing NUL');
      return des(t.elem, d.subarray(0, d.length - 1), be, top, depth + 1);
    }
    case 'array': {
      if (t.elem.kind === 'basic' && t.elem.code === 'y') return d; // a view into the input (no copy)
      const out: unknown[] = [];
      if (d.length === 0) return out;
      if (t.elem.fixed) {
        if (d.length % t.elem.fixed !== 0) throw corrupt(top, `array size ${d.length} is not a multiple of element size ${t.elem.fixed}`);
        for (let p = 0; p < d.length; p += t.elem.fixed) out.push(des(t.elem, d.subarray(p, p + t.elem.fixed), be, top, depth + 1));
        return out;
      }
      const os = offsetSizeFor(d.length);
      const lastEnd = readOffset(d, d.length - os, os);
      if (lastEnd > d.length - os) throw corrupt(top, 'array framing offset out of range');
      const offsetsBytes = d.length - lastEnd;
      if (offsetsBytes % os !== 0) throw corrupt(top, 'array framing offsets misaligned');
      const n = offsetsBytes / os;
      let start = 0;
      for (let i = 0; i < n; i++) {
        const end = readOffset(d, lastEnd + i * os, os);
        start = alignUp(start, t.elem.align);
        if (end < start || end > lastEnd) throw corrupt(top, 'array element framing offset out of range');
        out.push(des(t.elem, d.subarray(start, end), be, top, depth + 1));
        start = end;
      }
      return out;
    }
    case 'tuple': {
      if (t.fixed && d.length !== t.fixed) throw corrupt(top, `expected ${t.fixed} bytes for '${typeString(t)}', found ${d.length}`);
      const os = t.fixed ? 0 : offsetSizeFor(d.length);
      let offsetEnd = d.length; // offsets are read backwards from the end
      let pos = 0;
      const out: unknown[] = [];
      const nOffsets = t.members.slice(0, -1).filter((m) => m.fixed === 0).length;
      const bodyEnd = d.length - nOffsets * os;
      if (bodyEnd < 0) throw corrupt(top, 'tuple too small for its framing offsets');
      for (let i = 0; i < t.members.length; i++) {
        const m = t.members[i]!;
        pos = alignUp(pos, m.align);
        let end: number;
        if (m.fixed) end = pos + m.fixed;
        else if (i === t.members.length - 1) end = bodyEnd;
        else {
          offsetEnd -= os;
          end = readOffset(d, offsetEnd, os);
        }
        if (pos > end || end > bodyEnd) throw corrupt(top, `member ${i} of '${typeString(t)}' out of range`);
        out.push(des(m, d.subarray(pos, end), be, top, depth + 1));
        pos = end;
      }
      return out;
    }
  }
}

function desBasic(code: string, d: Buffer, be: boolean, top: string): unknown {
  const need = BASIC[code]![1];
  if (need && d.length !== need) throw corrupt(top, `'${code}' needs ${need} bytes, found ${d.length}`);
  switch (code) {
    case 'b': if (d[0]! > 1) throw corrupt(top, 'boolean not 0 or 1'); return d[0] === 1;
    case 'y': return d[0];
    case 'n': return be ? d.readInt16BE(0) : d.readInt16LE(0);
    case 'q': return be ? d.readUInt16BE(0) : d.readUInt16LE(0);
    case 'i': case 'h': return be ? d.readInt32BE(0) : d.readInt32LE(0);
    case 'u': return be ? d.readUInt32BE(0) : d.readUInt32LE(0);
    case 'x': return be ? d.readBigInt64BE(0) : d.readBigInt64LE(0);
    case 't': return be ? d.readBigUInt64BE(0) : d.readBigUInt64LE(0);
    case 'd': return be ? d.readDoubleBE(0) : d.readDoubleLE(0);
    default: {
      if (d.length === 0 || d[d.length - 1] !== 0) throw corrupt(top, 'string without trailing NUL');
      const body = d.subarray(0, d.length - 1);
      if (body.includes(0)) throw corrupt(top, 'string contains an embedded NUL');
      return body.toString('utf8');
    }
  }
}

/**
 * Parse `data` as GVariant `type`. Throws OstreeError ECORRUPT on malformed data.
 * `ay` values are views into `data` (copy them if `data` is reused afterwards).
 */
export function deserialize(type: string, data: Buffer, options: GVariantOptions = {}): unknown {
  return des(parseType(type), data, options.bigEndian === true, type, 0);
}

// ---------------------------------------------------------------------------------------------
// Text form (g_variant_print with type annotations off, as `ostree show` prints metadata)

function quoteString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\x07') out += '\\a';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + q;
}

/** b'...' as GLib's g_variant_print: g_strescape (\b \f \n \r \t \v \\ \" named, other
 *  bytes below 0x20 or from 0x7f as 3-digit octal). */
function printByteString(b: Buffer): string {
  const named: Record<number, string> = { 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 92: '\\\\', 34: '\\"' };
  let out = '';
  for (const c of b) {
    if (named[c] !== undefined) out += named[c];
    else if (c < 0x20 || c >= 0x7f) out += '\\' + c.toString(8).padStart(3, '0');
    else out += String.fromCharCode(c);
  }
  return b.includes(0x27) ? `b"${out}"` : `b'${out}'`;
}

function printDouble(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
  return String(v);
}

function printNode(t: TypeNode, v: unknown, annotate: boolean): string {
  switch (t.kind) {
    case 'basic':
      switch (t.code) {
        case 'b': return v ? 'true' : 'false';
        case 's': return quoteString(v as string);
        case 'o': return 'objectpath ' + quoteString(v as string);
        case 'g': return 'signature ' + quoteString(v as string);
        case 'd': return printDouble(v as number);
        case 'y': return annotate ? `byte 0x${(v as number).toString(16).padStart(2, '0')}` : `0x${(v as number).toString(16).padStart(2, '0')}`;
        case 'n': return annotate ? `int16 ${v}` : String(v);
        case 'q': return annotate ? `uint16 ${v}` : String(v);
        case 'i': return String(v);
        case 'u': return annotate ? `uint32 ${v}` : String(v);
        case 'x': return annotate ? `int64 ${v}` : String(v);
        case 't': return annotate ? `uint64 ${v}` : String(v);
        case 'h': return annotate ? `handle ${v}` : String(v);
      }
      return String(v);
    case 'variant': {
      const vv = v as Variant;
      return '<' + printNode(parseType(vv.type), vv.value, true) + '>';
    }
    case 'maybe':
      if (v === null) return annotate ? `@${typeString(t)} nothing` : 'nothing';
      return t.elem.kind === 'maybe' ? 'just ' + printNode(t.elem, v, false) : printNode(t.elem, v, annotate);
    case 'array': {
      if (t.elem.kind === 'basic' && t.elem.code === 'y') {
        const b = v as Buffer;
        // GLib prints a byte array whose only NUL is its last byte as a bytestring, b'...'
        // (escaped as g_strescape does; double quotes when it contains a single quote).
        if (b.length > 0 && b.indexOf(0) === b.length - 1) return printByteString(b.subarray(0, -1));
        if (b.length === 0) return annotate ? '@ay []' : '[]';
        return '[' + [...b].map((c, i) => (i === 0 && annotate ? 'byte ' : '') + '0x' + c.toString(16).padStart(2, '0')).join(', ') + ']';
      }
      const arr = v as unknown[];
      if (arr.length === 0) {
        const empty = t.elem.kind === 'tuple' && t.elem.dict ? '{}' : '[]';
        return annotate ? `@${typeString(t)} ${empty}` : empty;
      }
      if (t.elem.kind === 'tuple' && t.elem.dict) {
        const e = t.elem;
        return '{' + arr.map((kv, i) => {
          const [k, val] = kv as [unknown, unknown];
          return printNode(e.members[0]!, k, annotate && i === 0) + ': ' + printNode(e.members[1]!, val, annotate && i === 0);
        }).join(', ') + '}';
      }
      return '[' + arr.map((e, i) => printNode(t.elem, e, annotate && i === 0)).join(', ') + ']';
    }
    case 'tuple': {
      const arr = v as unknown[];
      if (t.dict) return '{' + printNode(t.members[0]!, arr[0], annotate) + ', ' + printNode(t.members[1]!, arr[1], annotate) + '}';
      if (arr.length === 1) return '(' + printNode(t.members[0]!, arr[0], annotate) + ',)';
      return '(' + arr.map((e, i) => printNode(t.members[i]!, e, annotate)).join(', ') + ')';
    }
  }
}

/** GLib text form of a value (g_variant_print(value, typeAnnotate)), e.g. `'1.0'`, `['a']`. */
export function printVariant(type: string, value: unknown, typeAnnotate = false): string {
  return printNode(parseType(type), value, typeAnnotate);
}
