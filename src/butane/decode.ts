/**
 * Schema-driven decoding of the parsed YAML into plain values: a struct becomes an object with
 * the keys that were set, a list an array, scalars are typed by scalars.ts. Unknown keys, keys
 * of a later version and wrong types are errors naming the YAML path; decoding goes on past
 * them so one run reports every mistake.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import type { Report, YamlPath } from './diagnostics.js';
import type { FieldType, StructSpec } from './schema.js';
import { isNullScalar, readBool, readInt, scalarText } from './scalars.js';
import { keyText, type PositionMap, type YamlSource } from './yaml-source.js';

export type Decoded = string | number | boolean | DecodedStruct | Decoded[];
export interface DecodedStruct {
  [key: string]: Decoded | undefined;
}

function kindOf(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  return JSON.stringify(isScalar(node) ? scalarText(node) : String(node));
}

/**
 * How many times aliases (`*name`) may be followed in one document. Each use decodes the
 * anchored subtree again, so aliases of aliases multiply (the "billion laughs"); real configs
 * use a handful. Past the budget decoding stops with an error instead of running for hours.
 */
export const MAX_ALIAS_EXPANSIONS = 1000;

const TYPE_NAMES: Record<string, string> = { string: 'a string', int: 'an integer', bool: 'true or false', struct: 'a mapping', list: 'a list' };

export class Decoder {
  constructor(
    private readonly source: YamlSource,
    private readonly minor: number,
    private readonly report: Report,
    private readonly positions: PositionMap,
  ) {}

  private aliasesFollowed = 0;

  decode(raw: Node | null | undefined, type: FieldType, path: YamlPath): Decoded | undefined {
    if (raw && isAlias(raw) && ++this.aliasesFollowed > MAX_ALIAS_EXPANSIONS) {
      if (this.aliasesFollowed === MAX_ALIAS_EXPANSIONS + 1) this.report.error(path, `aliases are followed more than ${MAX_ALIAS_EXPANSIONS} times: the document expands too much`);
      return undefined;
    }
    const node = this.source.resolve(raw);
    if (node === null) return undefined;
    this.positions.set(path, this.source.position(node));
    if (isScalar(node) && isNullScalar(node)) return undefined;
    if (typeof type === 'string') return this.scalar(node, type, path);
    if (type.kind === 'list') return this.list(node, type.of, path);
    return this.struct(node, type, path);
  }

  private mismatch(node: Node, expected: string, path: YamlPath): undefined {
    this.report.error(path, `expected ${TYPE_NAMES[expected]}, got ${kindOf(node)}`);
    return undefined;
  }

  private scalar(node: Node, type: 'string' | 'int' | 'bool', path: YamlPath): Decoded | undefined {
    if (!isScalar(node)) return this.mismatch(node, type, path);
    if (type === 'string') return scalarText(node);
    const result = type === 'int' ? readInt(node) : readBool(node);
    if (result.ok) return result.value;
    this.report.error(path, result.message);
    return undefined;
  }

  private list(node: Node, of: FieldType, path: YamlPath): Decoded[] | undefined {
    if (!isSeq(node)) return this.mismatch(node, 'list', path);
    const out: Decoded[] = [];
    node.items.forEach((item, i) => {
      const value = this.decode(item as Node | null, of, [...path, i]);
      // yaml.v3 keeps a null list entry as the element's zero value
      out.push(value ?? zeroOf(of));
    });
    return out;
  }

  private struct(node: Node, spec: StructSpec, path: YamlPath): DecodedStruct | undefined {
    if (!isMap(node)) return this.mismatch(node, 'struct', path);
    const out: DecodedStruct = {};
    for (const pair of this.source.pairs(node)) {
      const key = keyText(pair.key);
      if (key === undefined) {
        this.report.error(path, 'mapping keys must be plain strings');
        continue;
      }
      const fieldPath = [...path, key];
      const field = spec.fields[key];
      if (field === undefined || (field.since ?? 0) > this.minor) {
        this.positions.set(fieldPath, this.source.position(pair.key));
        const later = field ? ` (available from fcos 1.${field.since}.0)` : '';
        this.report.error(fieldPath, `unknown key${later}`);
        continue;
      }
      if (field.unsupported) {
        this.positions.set(fieldPath, this.source.position(pair.key));
        this.report.error(fieldPath, 'Butane translates this section but this translator does not (see docs/butane.md)');
        continue;
      }
      const value = this.decode(pair.value, field.type, fieldPath);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
}

function zeroOf(type: FieldType): Decoded {
  if (type === 'string') return '';
  if (type === 'int') return 0;
  if (type === 'bool') return false;
  return type.kind === 'list' ? [] : {};
}
