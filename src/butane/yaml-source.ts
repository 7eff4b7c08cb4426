/**
 * The Butane document as the `yaml` library parses it, with every scalar kept as the text the
 * user wrote (failsafe schema): the schema decoder types scalars itself, the way Butane's Go
 * YAML decoder (gopkg.in/yaml.v3) types them for the field they land in. That is how `0644`
 * becomes octal 420 for a mode and stays the string "0644" for a name, which no single YAML
 * 1.1 or 1.2 schema does.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit } from 'yaml';
import type { Alias, Document, Node, Pair } from 'yaml';
import { ButaneError, type Diagnostic, type YamlPath } from './diagnostics.js';

export interface Position {
  line: number;
  column: number;
}

export class YamlSource {
  readonly root: Node | null;
  private readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();
  /** What each alias names: the latest node before it with that anchor (computed once). */
  private readonly aliasTargets = new Map<Alias, Node>();

  constructor(text: string) {
    this.doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: true, lineCounter: this.lines, prettyErrors: true });
    const problems = [...this.doc.errors].map((e): Diagnostic => {
      const pos = e.linePos?.[0];
      const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return pos ? { severity: 'error', path: [], message: `YAML syntax error: ${first}`, line: pos.line, column: pos.col } : { severity: 'error', path: [], message: `YAML syntax error: ${first}` };
    });
    if (problems.length > 0) throw new ButaneError('the input is not valid YAML', problems);
    this.indexAnchors();
    this.root = this.resolve(this.doc.contents as Node | null);
  }

  // The library's Alias.resolve walks the whole document on every call; one walk here keeps a
  // document with many aliases linear.
  private indexAnchors(): void {
    const anchors = new Map<string, Node>();
    visit(this.doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const target = anchors.get(node.source);
          if (target) this.aliasTargets.set(node, target);
        } else if (node.anchor) {
          anchors.set(node.anchor, node);
        }
      },
    });
  }

  /** Follows an alias (`*name`) to the node its anchor names. */
  resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.aliasTargets.get(node) ?? null;
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
  pairs(map: Node, seen = new Set<Node>()): Pair<Node, Node | null>[] {
    // a mapping merged into itself (directly or through others) adds nothing the second time
    if (!isMap(map) || seen.has(map)) return [];
    seen.add(map);
    const own: Pair<Node, Node | null>[] = [];
    const merged: Pair<Node, Node | null>[] = [];
    for (const pair of map.items as Pair<Node, Node | null>[]) {
      if (isScalar(pair.key) && pair.key.type === Scalar.PLAIN && pair.key.value === '<<') {
        merged.push(...this.mergeSources(pair.value, seen));
      } else {
        own.push(pair);
      }
    }
    const written = new Set(own.map((p) => keyText(p.key)));
    return [...own, ...merged.filter((p) => !written.has(keyText(p.key)))];
  }

  private mergeSources(value: Node | null, seen: Set<Node>): Pair<Node, Node | null>[] {
    const target = this.resolve(value);
    if (target === null) return [];
    if (isMap(target)) return this.pairs(target, seen);
    if (isSeq(target)) return target.items.flatMap((item) => this.mergeSources(item as Node, seen));
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
