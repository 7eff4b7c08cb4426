/**
 * The Butane document as the `yaml` library parses it, with every scalar kept as the text the
 * user wrote (failsafe schema): the schema decoder types scalars itself, the way Butane's Go
 * YAML decoder (gopkg.in/yaml.v3) types them for the field they land in. That is how `0644`
 * becomes octal 420 for a mode and stays the string "0644" for a name, which no single YAML
 * 1.1 or 1.2 schema does.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { ButaneError, type Diagnostic, type YamlPath } from './diagnostics.js';

export interface Position {
  line: number;
  column: number;
}

export class YamlSource {
  readonly root: Node | null;
  private readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(text: string) {
    this.doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: true, lineCounter: this.lines, prettyErrors: true });
    const problems = [...this.doc.errors].map((e): Diagnostic => {
      const pos = e.linePos?.[0];
      const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return pos ? { severity: 'error', path: [], message: `YAML syntax error: ${first}`, line: pos.line, column: pos.col } : { severity: 'error', path: [], message: `YAML syntax error: ${first}` };
    });
    if (problems.length > 0) throw new ButaneError('the input is not valid YAML', problems);
    this.root = this.resolve(this.doc.contents as Node | null);
  }

  /** Follows an alias (`*name`) to the node its anchor names. */
  resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node;
  }

  position(node: Node): Position | undefined {
    const offset = node.range?.[0];
    if (offset === undefined) return undefined;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  /**
   * The key/value pairs of a mapping, with `<<` merge keys expanded as yaml.v3 does:
   * keys written in the mapping itself win over merged ones.
   */
  pairs(map: Node): Pair<Node, Node | null>[] {
    if (!isMap(map)) return [];
    const own: Pair<Node, Node | null>[] = [];
    const merged: Pair<Node, Node | null>[] = [];
    for (const pair of map.items as Pair<Node, Node | null>[]) {
      if (isScalar(pair.key) && pair.key.type === Scalar.PLAIN && pair.key.value === '<<') {
        merged.push(...this.mergeSources(pair.value));
      } else {
        own.push(pair);
      }
    }
    const seen = new Set(own.map((p) => keyText(p.key)));
    return [...own, ...merged.filter((p) => !seen.has(keyText(p.key)))];
  }

  private mergeSources(value: Node | null): Pair<Node, Node | null>[] {
    const target = this.resolve(value);
    if (target === null) return [];
    if (isMap(target)) return this.pairs(target);
    if (isSeq(target)) return target.items.flatMap((item) => this.mergeSources(item as Node));
    return [];
  }
}

export function keyText(key: Node | null): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

/** Positions of decoded nodes by path, for diagnostics raised after decoding. */
export class PositionMap {
  private readonly byPath = new Map<string, Position>();

  set(path: YamlPath, pos: Position | undefined): void {
    if (pos) this.byPath.set(path.join('\u0000'), pos);
  }

  /** The node's own position, or its nearest ancestor's. */
  locate(path: YamlPath): Position | undefined {
    for (let n = path.length; n >= 0; n--) {
      const pos = this.byPath.get(path.slice(0, n).join('\u0000'));
      if (pos) return pos;
    }
    return undefined;
  }
}
