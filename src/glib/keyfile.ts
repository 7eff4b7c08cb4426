/**
 * GLib GKeyFile text format (repo `config`, deployment `.origin` files, remotes.d).
 *
 * Written by hand rather than with the `ini` package: `ini` splits section names on dots
 * (`[remote "a.b"]` becomes nested objects), rewrites quoted values and turns `true` into a
 * boolean, so a config round-tripped through it is no longer the file upstream wrote.
 * This model keeps group and key order and comment lines, and serializes the way
 * g_key_file_to_data does: `[group]`, `key=value` lines, one blank line between groups.
 */
import { OstreeError } from '../errors.js';

interface Entry { key: string; value: string }
interface Group { name: string; entries: Entry[]; comments: string[] }

export class KeyFile {
  private groups: Group[] = [];

  static parse(text: string, source = 'key file'): KeyFile {
    const kf = new KeyFile();
    let current: Group | undefined;
    let pendingComments: string[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.replace(/\r$/, '');
      const line = raw.replace(/^\s+/, '');
      if (line === '') continue;
      if (line.startsWith('#')) { pendingComments.push(raw); continue; }
      if (line.startsWith('[')) {
        const end = line.lastIndexOf(']');
        if (end < 0 || line.slice(end + 1).trim() !== '') {
          throw new OstreeError('ECONFIG', `${source}:${i + 1}: malformed group header '${raw}'`);
        }
        const name = line.slice(1, end);
        if (name === '' || /[[\]\x00-\x1f]/.test(name)) {
          throw new OstreeError('ECONFIG', `${source}:${i + 1}: invalid group name '${name}'`);
        }
        current = kf.groups.find((g) => g.name === name);
        if (!current) { current = { name, entries: [], comments: pendingComments }; kf.groups.push(current); }
        pendingComments = [];
        continue;
      }
      const eq = line.indexOf('=');
      if (eq <= 0) throw new OstreeError('ECONFIG', `${source}:${i + 1}: expected 'key=value', found '${raw}'`);
      if (!current) throw new OstreeError('ECONFIG', `${source}:${i + 1}: key '${line.slice(0, eq).trim()}' is outside any [group]`);
      const key = line.slice(0, eq).trimEnd();
      const value = unescapeValue(line.slice(eq + 1).replace(/^\s+/, ''), `${source}:${i + 1}`);
      const existing = current.entries.find((e) => e.key === key);
      if (existing) existing.value = value; else current.entries.push({ key, value });
      pendingComments = [];
    }
    return kf;
  }

  toString(): string {
    const parts: string[] = [];
    for (const g of this.groups) {
      let s = '';
      for (const c of g.comments) s += c + '\n';
      s += `[${g.name}]\n`;
      for (const e of g.entries) s += `${e.key}=${escapeValue(e.value)}\n`;
      parts.push(s);
    }
    return parts.join('\n');
  }

  groupNames(): string[] { return this.groups.map((g) => g.name); }
  hasGroup(group: string): boolean { return this.groups.some((g) => g.name === group); }
  keys(group: string): string[] { return this.groups.find((g) => g.name === group)?.entries.map((e) => e.key) ?? []; }

  get(group: string, key: string): string | undefined {
    return this.groups.find((g) => g.name === group)?.entries.find((e) => e.key === key)?.value;
  }

  getBoolean(group: string, key: string, fallback: boolean): boolean {
    const v = this.get(group, key);
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new OstreeError('ECONFIG', `key '${key}' in group '${group}' must be true or false, not '${v}'`);
  }

  /** GKeyFile string lists: `a;b;c;` (a `\;` is a literal semicolon). */
  getList(group: string, key: string): string[] | undefined {
    const v = this.get(group, key);
    if (v === undefined) return undefined;
    const out: string[] = [];
    let cur = '';
    for (let i = 0; i < v.length; i++) {
      if (v[i] === '\\' && v[i + 1] === ';') { cur += ';'; i++; continue; }
      if (v[i] === ';') { out.push(cur); cur = ''; continue; }
      cur += v[i];
    }
    if (cur !== '') out.push(cur);
    return out;
  }

  set(group: string, key: string, value: string): void {
    let g = this.groups.find((x) => x.name === group);
    if (!g) { g = { name: group, entries: [], comments: [] }; this.groups.push(g); }
    const e = g.entries.find((x) => x.key === key);
    if (e) e.value = value; else g.entries.push({ key, value });
  }

  setList(group: string, key: string, values: string[]): void {
    this.set(group, key, values.map((v) => v.replace(/;/g, '\\;') + ';').join(''));
  }

  removeKey(group: string, key: string): void {
    const g = this.groups.find((x) => x.name === group);
    if (g) g.entries = g.entries.filter((e) => e.key !== key);
  }

  removeGroup(group: string): void {
    this.groups = this.groups.filter((g) => g.name !== group);
  }

  clone(): KeyFile { return KeyFile.parse(this.toString()); }
}

function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (c === ' ' && i === 0) out += '\\s';
    else out += c;
  }
  return out;
}

function unescapeValue(v: string, where: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c !== '\\') { out += c; continue; }
    const n = v[++i];
    switch (n) {
      case 's': out += ' '; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case ';': out += '\\;'; break; // kept escaped: only list parsing gives it meaning
      default: throw new OstreeError('ECONFIG', `${where}: invalid escape sequence '\\${n ?? ''}'`);
    }
  }
  return out;
}
