/**
 * Building the parts of a delta: each part collects objects as operations over its raw data
 * (ops.ts's format), with its modes and xattr sets stored once each, and is finished into its
 * stored form (xz-compressed payload) and its header for the superblock.
 */
import { sha256hex } from '../objects/checksum.js';
import type { FileHeader } from '../objects/file-header.js';
import { xattrsToWire } from '../objects/xattrs.js';
import { serialize } from '../../glib/gvariant.js';
import { writeVarUint } from './varint.js';
import { encodePart, serializePartPayload, type Compression, type PartMode, type PartPayload } from './part.js';
import { DELTAPART_VERSION, type DeltaObject, type PartHeader } from './superblock.js';
import type { Xattr } from '../objects/xattrs.js';

export class PartBuilder {
  readonly objects: DeltaObject[] = [];
  readonly modes: PartMode[] = [];
  readonly xattrs: Xattr[][] = [];
  private readonly modeIndex = new Map<string, number>();
  private readonly xattrIndex = new Map<string, number>();
  private readonly chunks: Buffer[] = [];
  private dataLength = 0;
  private tablesSize = 0;
  readonly ops: number[] = [];
  uncompressedSize = 0;

  /** Bytes this part would hold now (a lower bound of its payload's size). */
  sizeEstimate(): number { return this.dataLength + this.ops.length + this.tablesSize; }

  /** Append raw data; returns its offset. */
  appendData(b: Buffer): number {
    const at = this.dataLength;
    this.chunks.push(b);
    this.dataLength += b.length;
    return at;
  }

  op(code: string, ...args: number[]): void {
    this.ops.push(code.charCodeAt(0));
    for (const a of args) writeVarUint(this.ops, a);
  }

  /** The indexes of a file's mode and xattrs in this part's tables (added once each). */
  modeAndXattrs(h: FileHeader): [number, number] {
    const mk = `${h.uid}:${h.gid}:${h.mode}`;
    let mi = this.modeIndex.get(mk);
    if (mi === undefined) {
      mi = this.modes.length; this.modes.push({ uid: h.uid, gid: h.gid, mode: h.mode }); this.modeIndex.set(mk, mi);
      this.tablesSize += 12;
    }
    const wire = serialize('a(ayay)', xattrsToWire(h.xattrs));
    const xk = wire.toString('base64');
    let xi = this.xattrIndex.get(xk);
    if (xi === undefined) {
      xi = this.xattrs.length; this.xattrs.push(h.xattrs); this.xattrIndex.set(xk, xi);
      this.tablesSize += wire.length;
    }
    return [mi, xi];
  }

  payload(): PartPayload {
    return { modes: this.modes, xattrs: this.xattrs, data: Buffer.concat(this.chunks, this.dataLength), ops: Buffer.from(this.ops) };
  }

  /** The stored part and its header (sizes in host order; the superblock swaps if asked). */
  finish(compression: Compression): { stored: Buffer; header: PartHeader } {
    const stored = encodePart(serializePartPayload(this.payload()), compression);
    return {
      stored,
      header: {
        version: DELTAPART_VERSION, checksum: sha256hex(stored), size: BigInt(stored.length),
        usize: BigInt(this.uncompressedSize), objects: this.objects,
      },
    };
  }
}
