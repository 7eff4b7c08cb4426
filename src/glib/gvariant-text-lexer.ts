/**
 * GVariant text format, the syntax half: text → a tree of untyped nodes (TextNode), which
 * gvariant-text.ts types and turns into values. Recursive descent bounded at GLib's nesting
 * limit (G_VARIANT_MAX_RECURSION_DEPTH), so hostile text cannot exhaust the stack.
 */
import { GVARIANT_MAX_DEPTH, isValidType } from './gvariant-type.js';

export type TextNode =
  | { k: 'bool'; v: boolean }
  | { k: 'number'; text: string }
  | { k: 'string'; v: string }
  | { k: 'bytes'; v: Buffer }
  | { k: 'array'; items: TextNode[] }
  | { k: 'tuple'; items: TextNode[] }
  | { k: 'dict'; entries: Array<[TextNode, TextNode]> }
  | { k: 'entry'; key: TextNode; value: TextNode }
  | { k: 'variant'; inner: TextNode }
  | { k: 'typed'; type: string; inner: TextNode }
  | { k: 'nothing' }
  | { k: 'just'; inner: TextNode };

/** GLib's type keywords: `uint64 7` is `@t 7`. */
const KEYWORD_TYPES: Record<string, string> = {
  boolean: 'b', byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', handle: 'h',
  int64: 'x', uint64: 't', double: 'd', string: 's', objectpath: 'o', signature: 'g',
};

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

class Reader {
  pos = 0;
  constructor(readonly s: string) {}

  ws(): void { while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++; }
  peek(): string | undefined { this.ws(); return this.s[this.pos]; }
  expect(c: string): void {
    if (this.peek() !== c) throw new Error(`expected '${c}' at offset ${this.pos}`);
    this.pos++;
  }
  eat(c: string): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }
  word(): string {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos));
    return m ? m[0] : '';
  }

  value(depth: number): TextNode {
    if (depth > GVARIANT_MAX_DEPTH) throw new Error(`values nested deeper than ${GVARIANT_MAX_DEPTH} levels`);
    const c = this.peek();
    if (c === undefined) throw new Error('expected a value at the end of the text');
    if (c === '@') return this.annotated(depth);
    if (c === '[') return { k: 'array', items: this.list(']', depth) };
    if (c === '(') return this.tuple(depth);
    if (c === '{') return this.braces(depth);
    if (c === '<') { this.pos++; const inner = this.value(depth + 1); this.expect('>'); return { k: 'variant', inner }; }
    if (c === "'" || c === '"') return { k: 'string', v: this.quoted() };
    if (c === 'b' && (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"')) {
      this.pos++;
      return { k: 'bytes', v: Buffer.concat([Buffer.from(this.quoted(), 'utf8'), Buffer.from([0])]) };
    }
    if (/[-+0-9.]/.test(c)) return this.number();
    return this.keyword(depth);
  }

  annotated(depth: number): TextNode {
    this.pos++;
    const m = /^[a-z{}()?*]+/.exec(this.s.slice(this.pos)) ?? [''];
    // the longest prefix that is one complete type (`@a{sv} {}`, `@t 1`)
    let type = '';
    for (let n = m[0].length; n > 0; n--) if (isValidType(m[0].slice(0, n))) { type = m[0].slice(0, n); break; }
    if (type === '') throw new Error(`invalid type annotation at offset ${this.pos}`);
    this.pos += type.length;
    return { k: 'typed', type, inner: this.value(depth + 1) };
  }

  keyword(depth: number): TextNode {
    const w = this.word();
    if (w === '') throw new Error(`unexpected character '${this.s[this.pos]}' at offset ${this.pos}`);
    this.pos += w.length;
    if (w === 'true' || w === 'false') return { k: 'bool', v: w === 'true' };
    if (w === 'nothing') return { k: 'nothing' };
    if (w === 'just') return { k: 'just', inner: this.value(depth + 1) };
    if (w === 'inf' || w === 'nan') return { k: 'number', text: w === 'inf' ? 'Infinity' : 'NaN' };
    const t = KEYWORD_TYPES[w];
    if (t === undefined) throw new Error(`unknown keyword '${w}'`);
    return { k: 'typed', type: t, inner: this.value(depth + 1) };
  }

  number(): TextNode {
    this.ws();
    const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|[0-9]+\.)/.exec(this.s.slice(this.pos));
    if (!m) throw new Error(`invalid number at offset ${this.pos}`);
    this.pos += m[0].length;
    return { k: 'number', text: m[0].replace(/^\+/, '') };
  }

  list(close: string, depth: number): TextNode[] {
    this.pos++;
    const items: TextNode[] = [];
    if (this.eat(close)) return items;
    for (;;) {
      items.push(this.value(depth + 1));
      if (this.eat(close)) return items;
      this.expect(',');
    }
  }

  tuple(depth: number): TextNode {
    this.pos++;
    const items: TextNode[] = [];
    if (this.eat(')')) return { k: 'tuple', items };
    for (;;) {
      items.push(this.value(depth + 1));
      if (this.eat(')')) {
        if (items.length === 1) throw new Error("a one-element tuple needs a trailing comma: '(x,)'");
        return { k: 'tuple', items };
      }
      this.expect(',');
      if (this.eat(')')) return { k: 'tuple', items };
    }
  }

  /** `{}`, `{k: v, …}` (a dictionary) or `{k, v}` (one dict entry). */
  braces(depth: number): TextNode {
    this.pos++;
    if (this.eat('}')) return { k: 'dict', entries: [] };
    const key = this.value(depth + 1);
    if (this.eat(',')) {
      const value = this.value(depth + 1);
      this.expect('}');
      return { k: 'entry', key, value };
    }
    const entries: Array<[TextNode, TextNode]> = [];
    let k = key;
    for (;;) {
      this.expect(':');
      entries.push([k, this.value(depth + 1)]);
      if (this.eat('}')) return { k: 'dict', entries };
      this.expect(',');
      k = this.value(depth + 1);
    }
  }

  /** A quoted string with GLib's escapes (\n \t … \uXXXX \UXXXXXXXX; any other escaped
   *  character stands for itself). */
  quoted(): string {
    const q = this.s[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) throw new Error('unterminated string');
      this.pos++;
      if (c === q) return out;
      if (c !== '\\') { out += c; continue; }
      const e = this.s[this.pos];
      if (e === undefined) throw new Error('unterminated string');
      this.pos++;
      if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const hex = this.s.slice(this.pos, this.pos + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new Error(`invalid \\${e} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        this.pos += n;
      } else if (e === '\n') {
        // a line continuation
      } else out += SIMPLE_ESCAPES[e] ?? e;
    }
  }
}

/** Parse text into its node tree (throws Error with the reason on bad syntax). */
export function readTextNode(text: string): TextNode {
  const r = new Reader(text);
  const node = r.value(0);
  r.ws();
  if (r.pos !== text.length) throw new Error(`unexpected text after the value at offset ${r.pos}: '${text.slice(r.pos, r.pos + 20)}'`);
  return node;
}
