/**
 * bsdiff patches as upstream's static deltas carry them (the BSDIFF40 control/diff/extra
 * triples of Colin Percival's bsdiff, streamed without compression or header, as the
 * "ENDSLEY/BSDIFF43" library used by ostree writes them): a sequence of controls, each
 * three signed 64-bit integers (sign-magnitude, little-endian), then `add` diff bytes (added
 * bytewise to the old file at the old position), then `copy` bytes copied as they are; after
 * each control the old position moves by `seek`.
 *
 * Applying is bounded: the output is exactly `newSize` bytes (the caller bounds it), every
 * length is checked against the patch and the output before use, and reads of the old file
 * outside it add nothing (as upstream).
 */
import { OstreeError } from '../../errors.js';

function badPatch(why: string): OstreeError {
  return new OstreeError('ECORRUPT', `bsdiff patch failed: ${why}`);
}

/** The sign-magnitude 64-bit integer at `pos` (bounded to safe integers). */
export function readOfft(b: Buffer, pos: number): number {
  const lo = b.readUInt32LE(pos);
  const hiRaw = b.readUInt32LE(pos + 4);
  const hi = hiRaw & 0x7fffffff;
  if (hi >= 0x200000) throw badPatch('control value out of range');
  const v = hi * 0x100000000 + lo;
  return (hiRaw & 0x80000000) !== 0 ? -v : v;
}

export function writeOfft(b: Buffer, pos: number, v: number): void {
  const m = Math.abs(v);
  b.writeUInt32LE(m % 0x100000000, pos);
  b.writeUInt32LE(Math.floor(m / 0x100000000) + (v < 0 ? 0x80000000 : 0), pos + 4);
}

/** Diff blocks of this many bytes that are all zero (the old bytes unchanged, most of a
 *  typical patch) are copied natively rather than added byte by byte. */
const ZERO_BLOCK = 4096;
const zeros = Buffer.alloc(ZERO_BLOCK);

/** out[at, at+n) = old[from, from+n) + diff[d, d+n) bytewise; old bytes outside `old` count as 0. */
function addDiff(out: Buffer, at: number, old: Buffer, from: number, diff: Buffer, d: number, n: number): void {
  for (let done = 0; done < n;) {
    const len = Math.min(ZERO_BLOCK, n - done);
    const o = from + done;
    if (o >= 0 && o + len <= old.length && diff.compare(zeros, 0, len, d + done, d + done + len) === 0) {
      old.copy(out, at + done, o, o + len);
    } else {
      for (let i = 0; i < len; i++) {
        const oi = o + i;
        out[at + done + i] = (diff[d + done + i]! + (oi >= 0 && oi < old.length ? old[oi]! : 0)) & 0xff;
      }
    }
    done += len;
  }
}

/** The file of `newSize` bytes that `patch` makes from `old`. */
export function bspatch(old: Buffer, newSize: number, patch: Buffer): Buffer {
  // not zeroed: every byte is written below before the buffer is returned (the loop runs until
  // newPos reaches newSize, each step filling what it advances over), or it is dropped on error
  const out = Buffer.allocUnsafe(newSize);
  let oldPos = 0; let newPos = 0; let p = 0;
  while (newPos < newSize) {
    if (p + 24 > patch.length) throw badPatch('truncated control');
    const add = readOfft(patch, p); const copy = readOfft(patch, p + 8); const seek = readOfft(patch, p + 16);
    p += 24;
    if (add < 0 || copy < 0 || newPos + add > newSize) throw badPatch('diff length out of range');
    if (p + add > patch.length) throw badPatch('truncated diff data');
    addDiff(out, newPos, old, oldPos, patch, p, add);
    p += add; newPos += add; oldPos += add;
    if (newPos + copy > newSize) throw badPatch('extra length out of range');
    if (p + copy > patch.length) throw badPatch('truncated extra data');
    patch.copy(out, newPos, p, p + copy);
    p += copy; newPos += copy;
    oldPos += seek;
  }
  return out;
}
