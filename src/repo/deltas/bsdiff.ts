/**
 * Making bsdiff patches (the format bspatch.ts applies) for static deltas. This is not
 * upstream's suffix-sorting bsdiff: it finds exact matches of at least 2×BLOCK-1 bytes
 * between the files with a rolling hash over the new file and a table of the old file's
 * blocks, extends each match both ways, and emits one control per match (the matched bytes
 * as an all-zero diff, the bytes up to the next match as extra data). Inserted, removed or
 * moved regions cost their own size; the zero runs compress to almost nothing with xz.
 */
import { writeOfft } from './bspatch.js';

const BLOCK = 16;
const WINDOW = 2 * BLOCK;
const BASE = 0x01000193;

interface Match { newStart: number; oldStart: number; length: number }

function windowHash(b: Buffer, pos: number): number {
  let h = 0;
  for (let i = 0; i < WINDOW; i++) h = (Math.imul(h, BASE) + b[pos + i]!) >>> 0;
  return h;
}

function indexOld(old: Buffer): Map<number, number> {
  const table = new Map<number, number>();
  for (let p = 0; p + WINDOW <= old.length; p += BLOCK) {
    const h = windowHash(old, p);
    if (!table.has(h)) table.set(h, p);
  }
  return table;
}

function sameWindow(a: Buffer, ap: number, b: Buffer, bp: number): boolean {
  return a.compare(b, bp, bp + WINDOW, ap, ap + WINDOW) === 0;
}

function findMatches(old: Buffer, neu: Buffer): Match[] {
  const matches: Match[] = [];
  if (old.length < WINDOW || neu.length < WINDOW) return matches;
  const table = indexOld(old);
  let outFactor = 1; // BASE^(WINDOW-1): the weight of the byte leaving the window
  for (let i = 0; i < WINDOW - 1; i++) outFactor = Math.imul(outFactor, BASE) >>> 0;
  let covered = 0; // new bytes before this are in a match already
  let i = 0;
  let h = windowHash(neu, 0);
  while (i + WINDOW <= neu.length) {
    const q = table.get(h);
    if (q !== undefined && sameWindow(neu, i, old, q)) {
      let start = i; let oldStart = q;
      while (start > covered && oldStart > 0 && neu[start - 1] === old[oldStart - 1]) { start--; oldStart--; }
      let end = i + WINDOW; let oldEnd = q + WINDOW;
      while (end < neu.length && oldEnd < old.length && neu[end] === old[oldEnd]) { end++; oldEnd++; }
      matches.push({ newStart: start, oldStart, length: end - start });
      covered = end; i = end;
      if (i + WINDOW <= neu.length) h = windowHash(neu, i);
      continue;
    }
    if (i + WINDOW < neu.length) h = (Math.imul(h - Math.imul(neu[i]!, outFactor), BASE) + neu[i + WINDOW]!) >>> 0;
    i++;
  }
  return matches;
}

function control(add: number, copy: number, seek: number): Buffer {
  const b = Buffer.alloc(24);
  writeOfft(b, 0, add); writeOfft(b, 8, copy); writeOfft(b, 16, seek);
  return b;
}

/** A patch that turns `old` into `neu`. */
export function bsdiff(old: Buffer, neu: Buffer): Buffer {
  const matches = findMatches(old, neu);
  const chunks: Buffer[] = [];
  const firstNew = matches.length > 0 ? matches[0]!.newStart : neu.length;
  const firstOld = matches.length > 0 ? matches[0]!.oldStart : 0;
  if (firstNew > 0 || matches.length === 0) {
    chunks.push(control(0, firstNew, firstOld), neu.subarray(0, firstNew));
  }
  for (let k = 0; k < matches.length; k++) {
    const m = matches[k]!;
    const next = matches[k + 1];
    const gapEnd = next ? next.newStart : neu.length;
    const seek = next ? next.oldStart - (m.oldStart + m.length) : 0;
    chunks.push(control(m.length, gapEnd - (m.newStart + m.length), seek), Buffer.alloc(m.length), neu.subarray(m.newStart + m.length, gapEnd));
  }
  return Buffer.concat(chunks);
}
