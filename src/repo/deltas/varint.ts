/**
 * The unsigned LEB128 integers of a delta part's operation stream (upstream's ostree-varint:
 * protobuf's varint, 7 bits a byte, low bits first, at most 10 bytes). Values are kept below
 * 2^53 here: anything larger cannot be an offset or size in a part held in memory.
 */
import { OstreeError } from '../../errors.js';

const MAX_VARINT_BYTES = 10;

/** The integer at `pos` in `buf` and the position after it. */
export function readVarUint(buf: Buffer, pos: number): [value: number, next: number] {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos + i >= buf.length) throw new OstreeError('ECORRUPT', 'Unexpected EOF reading varint');
    const b = buf[pos + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(value)) throw new OstreeError('ECORRUPT', `varint ${value} out of range in static delta operations`);
      return [value, pos + i + 1];
    }
  }
  throw new OstreeError('ECORRUPT', 'varint longer than 10 bytes in static delta operations');
}

/** Append `n` (a non-negative safe integer) to `out`. */
export function writeVarUint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
