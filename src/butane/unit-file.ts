/**
 * The systemd unit syntax check Ignition applies to unit and drop-in contents (go-systemd's
 * unit deserializer, which Ignition's validation calls): what it rejects, with its messages,
 * and the section names, for the "enabled but no [Install]" warning. Text before the first
 * section is skipped as that parser skips it.
 */

const LINE_MAX = 2048;

export interface UnitParse {
  sections: string[];
  error?: string;
}

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  eof(): boolean {
    return this.pos >= this.text.length;
  }
  next(): string {
    return this.text[this.pos++]!;
  }
  /** The rest of the line without its line break, and whether the text ended there. */
  toEol(): { line: string; eof: boolean } {
    const nl = this.text.indexOf('\n', this.pos);
    const end = nl === -1 ? this.text.length : nl;
    const line = this.text.slice(this.pos, end).replace(/\r$/, '');
    this.pos = nl === -1 ? this.text.length : nl + 1;
    return { line, eof: nl === -1 };
  }
}

const isComment = (c: string) => c === '#' || c === ';';

function skipCommentLines(c: Cursor): void {
  for (;;) {
    const { line, eof } = c.toEol();
    if (!line.replace(/ +$/, '').endsWith('\\') || eof) return;
  }
}

function readSectionHeader(c: Cursor, sections: string[]): string | undefined {
  const close = c.text.indexOf(']', c.pos);
  if (close === -1) return 'unable to find end of section';
  sections.push(c.text.slice(c.pos, close));
  c.pos = close + 1;
  const garbage = c.toEol().line.trim();
  return garbage.length > 0 ? `found garbage after section name : ${JSON.stringify(garbage)}` : undefined;
}

function readOption(c: Cursor): string | undefined {
  for (;;) {
    if (c.eof()) return 'EOF';
    const ch = c.next();
    if (ch === '\n' || ch === '\r') return 'unexpected newline encountered while parsing option name';
    if (ch === '=') break;
  }
  for (;;) {
    const { line, eof } = c.toEol();
    if (line.trim().length === 0 || !line.endsWith('\\') || eof) return undefined;
  }
}

export function parseUnit(text: string): UnitParse {
  const sections: string[] = [];
  if (new RegExp(`[^\\r\\n]{${LINE_MAX}}`).test(text)) return { sections, error: `line too long (max ${LINE_MAX} bytes)` };
  const c = new Cursor(text);
  let inSection = false;
  while (!c.eof()) {
    const ch = c.next();
    let error: string | undefined;
    if (ch === '[') {
      error = readSectionHeader(c, sections);
      inSection = true;
    } else if (isComment(ch)) {
      skipCommentLines(c);
    } else if (inSection && !/\s/.test(ch)) {
      c.pos--;
      error = readOption(c);
    }
    if (error !== undefined) return { sections, error };
  }
  return { sections };
}
