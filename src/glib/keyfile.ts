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
import { readFileBounded } from '../util/fs.js';

interface Entry { key: string; value: string }
interface Group { name: string; entries: Entry[]; comments: string[] }

/**
 * The largest key file read or parsed (repo config, remotes.d, `.origin`): they are a few
 * hundred bytes; the bound keeps a hostile file from taking the process's memory.
 */
export const KEYFILE_MAX_BYTES = 1024 * 1024;

/** Why `name` cannot be a group name, or null. */
function groupNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  if (/[[\]\x00-\x1f\x7f]/.test(name)) return "it contains '[', ']' or a control character";
  return null;
}

/** Why `key` cannot be a key (the format has no escapes for keys), or null. */
function keyProblem(key: string): string | null {
  if (key === '') return 'it is empty';
  if (/[=[\]\x00-\x1f\x7f]/.test(key)) return "it contains '=', '[', ']', a newline or another control character";
  if (key !== key.trim()) return 'it starts or ends with whitespace';
  if (key.startsWith('#')) return "it starts with '#'";
  return null;
}

/** Why `value` cannot be stored, or null (tabs and a leading space are escaped). */
function valueProblem(value: string): string | null {
  if (/[\n\r\0]/.test(value)) return 'it contains a newline, carriage return or NUL';
  return null;
}

export class KeyFile {
  private groups: Group[] = [];

  /** Read and parse `p` (size-bounded before reading; never a FIFO); null when it does not exist. */
  static readFile(p: string, source = p): KeyFile | null {
    const data = readFileBounded(p, KEYFILE_MAX_BYTES, { what: 'Key file' });
    return data === null ? null : KeyFile.parse(data.toString('utf8'), source);
  }

  static parse(text: string, source = 'key file'): KeyFile {
    if (text.length > KEYFILE_MAX_BYTES) {
      throw new OstreeError('ECONFIG', `${source}: key file larger than the limit of ${KEYFILE_MAX_BYTES} bytes`);
    }
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

  /**
   * Set a value.  Group, key and value are checked first (EINVAL): a key with '=', '[' or a
   * newline, or a value with a newline or NUL, would change what the file says when read back.
   */
  set(group: string, key: string, value: string): void {
    const problem = groupNameProblem(group) ?? keyProblem(key) ?? valueProblem(value);
    if (problem !== null) {
      const what = groupNameProblem(group) !== null ? `group name ${JSON.stringify(group)}` :
        keyProblem(key) !== null ? `key ${JSON.stringify(key)}` : `value for key '${key}'`;
      throw new OstreeError('EINVAL', `Invalid key file ${what}: ${problem}`);
    }
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
