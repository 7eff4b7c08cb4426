/**
 * The operation stream of a delta part (upstream's OstreeStaticDeltaOpCode), executed against
 * a repository. Each op is one byte, then varint arguments (varint.ts):
 *
 *   'S' open-splice-and-close  metadata: LENGTH OFFSET; content: MODE XATTR SIZE OFFSET
 *   'o' open                   MODE XATTR SIZE          (start the next content object)
 *   'w' write                  SIZE OFFSET              (from the payload, or the read source)
 *   'r' set-read-source        OFFSET                   (a 32-byte checksum in the payload)
 *   'R' unset-read-source
 *   'c' close                                           (finish and store the open object)
 *   'B' bspatch                OFFSET LENGTH            (patch the read source into the object)
 *
 * Objects are produced in the order of the part header's object list. Every object is verified
 * against its checksum before it is stored (import.ts / store.ts), every offset and size is
 * checked against the payload and the declared object size, and the object being built never
 * exceeds its declared size (itself bounded by PART_MAX_SIZE).
 */
import { OstreeError } from '../../errors.js';
import type { FileHeader } from '../objects/file-header.js';
import { isRegularMode, isSymlinkMode } from '../objects/common.js';
import { readVarUint } from './varint.js';
import { bspatch } from './bspatch.js';
import { PART_MAX_SIZE, type PartPayload } from './part.js';
import { isMetadataType, type DeltaObject } from './superblock.js';

/** What executing a part writes to; `null` members make a dry run (show's statistics). */
export interface PartSink {
  /** Whether the object is already stored (then it is not rebuilt). */
  has(o: DeltaObject): boolean;
  writeMetadata(o: DeltaObject, data: Buffer): void;
  /** `data`: the object's bytes in pieces, as the part's writes produced them (never copied
   *  into one buffer here: most are slices of the part or of a read source). */
  writeContent(o: DeltaObject, header: FileHeader, data: Buffer[]): void;
  /** The plain data of a stored regular content object (a read source). */
  readContent(checksum: string): Buffer;
}

export const OP_NAMES = ['openspliceclose', 'open', 'write', 'setread', 'unsetread', 'close', 'bspatch'] as const;
const OP_CODES = 'SowrRcB';

export type OpStats = number[];

/** The object being built: its bytes are collected as they are written (never allocated
 *  up front from the declared size, which a hostile part could inflate); null: not built. */
interface Open { obj: DeltaObject; header: FileHeader; size: number; chunks: Buffer[] | null; filled: number }

class Executor {
  pos = 0;
  index = 0;
  open: Open | null = null;
  readSource: Buffer | null = null;
  readonly stats: OpStats = OP_NAMES.map(() => 0);

  constructor(readonly part: PartPayload, readonly objects: DeltaObject[], readonly sink: PartSink | null) {}

  arg(): number { const [v, next] = readVarUint(this.part.ops, this.pos); this.pos = next; return v; }

  payload(offset: number, length: number): Buffer {
    if (offset + length > this.part.data.length) throw new OstreeError('ECORRUPT', `Invalid offset/length ${offset}/${length}`);
    return this.part.data.subarray(offset, offset + length);
  }

  nextObject(): DeltaObject {
    const o = this.objects[this.index];
    if (o === undefined) throw new OstreeError('ECORRUPT', `operation on object ${this.index}, but the part lists ${this.objects.length}`);
    return o;
  }

  header(symlinkTarget: string): FileHeader {
    const mi = this.arg(); const xi = this.arg();
    const m = this.part.modes[mi]; const x = this.part.xattrs[xi];
    if (m === undefined || x === undefined) throw new OstreeError('ECORRUPT', `mode ${mi} or xattrs ${xi} not in the part`);
    return { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget, xattrs: x };
  }

  run(): OpStats {
    if (this.objects.length === 0) return this.stats;
    while (this.pos < this.part.ops.length) {
      const code = this.part.ops[this.pos++]!;
      const i = OP_CODES.indexOf(String.fromCharCode(code));
      if (i < 0) throw new OstreeError('ECORRUPT', `Unknown opcode ${code} at offset ${this.stats.reduce((a, b) => a + b, 0)}`);
      this.dispatch(i);
      this.stats[i]!++;
    }
    if (this.open !== null) throw new OstreeError('ECORRUPT', `the part ends with object ${this.open.obj.checksum} still open`);
    return this.stats;
  }

  dispatch(i: number): void {
    switch (i) {
      case 0: this.spliceAndClose(); break;
      case 1: this.openObject(); break;
      case 2: this.write(); break;
      case 3: this.setReadSource(); break;
      case 4: this.readSource = null; break;
      case 5: this.close(); break;
      default: this.bspatchOp();
    }
  }

  spliceAndClose(): void {
    if (this.open !== null) throw new OstreeError('ECORRUPT', 'opcode open-splice-and-close: an object is already open');
    const obj = this.nextObject();
    if (isMetadataType(obj.type)) {
      const length = this.arg(); const offset = this.arg();
      const data = this.payload(offset, length);
      if (this.sink && !this.sink.has(obj)) this.sink.writeMetadata(obj, data);
    } else {
      const h = this.header('');
      const size = this.arg(); const offset = this.arg();
      const data = this.payload(offset, size);
      if (this.sink && !this.sink.has(obj)) {
        if (isSymlinkMode(h.mode)) this.sink.writeContent(obj, { ...h, symlinkTarget: data.toString('utf8') }, []);
        else if (isRegularMode(h.mode)) this.sink.writeContent(obj, h, [data]);
        else throw new OstreeError('ECORRUPT', `object ${obj.checksum}: mode 0${h.mode.toString(8)} is neither a file nor a symlink`);
      }
    }
    this.index++;
    this.readSource = null;
  }

  openObject(): void {
    if (this.open !== null) throw new OstreeError('ECORRUPT', 'opcode open: an object is already open');
    const obj = this.nextObject();
    if (isMetadataType(obj.type)) throw new OstreeError('ECORRUPT', `opcode open: object ${obj.checksum} is not a content object`);
    const header = this.header('');
    const size = this.arg();
    if (!isRegularMode(header.mode)) throw new OstreeError('ECORRUPT', `opcode open: object ${obj.checksum} is not a regular file`);
    if (size > PART_MAX_SIZE) throw new OstreeError('ECORRUPT', `opcode open: object size ${size} exceeds the ${PART_MAX_SIZE} allowed`);
    const build = this.sink !== null && !this.sink.has(obj);
    this.open = { obj, header, size, chunks: build ? [] : null, filled: 0 };
  }

  requireOpen(op: string): Open {
    if (this.open === null) throw new OstreeError('ECORRUPT', `opcode ${op}: no object is open`);
    return this.open;
  }

  write(): void {
    const size = this.arg(); const offset = this.arg();
    const o = this.requireOpen('write');
    if (o.filled + size > o.size) throw new OstreeError('ECORRUPT', `opcode write: object ${o.obj.checksum} would exceed its size ${o.size}`);
    if (o.chunks === null) { o.filled += size; return; }
    const src = this.readSource !== null ? this.readSource : this.part.data;
    if (offset + size > src.length) {
      throw new OstreeError('ECORRUPT', this.readSource !== null ? `opcode write: Unexpected EOF reading the read source of ${o.obj.checksum}` : `Invalid offset/length ${offset}/${size}`);
    }
    o.chunks.push(src.subarray(offset, offset + size));
    o.filled += size;
  }

  setReadSource(): void {
    const offset = this.arg();
    const csum = this.payload(offset, 32).toString('hex');
    this.readSource = this.sink && !(this.open && this.open.chunks === null) ? this.sink.readContent(csum) : null;
  }

  close(): void {
    const o = this.requireOpen('close');
    if (o.chunks !== null) {
      if (o.filled !== o.size) throw new OstreeError('ECORRUPT', `opcode close: object ${o.obj.checksum} has ${o.filled} of its ${o.size} bytes`);
      this.sink!.writeContent(o.obj, o.header, o.chunks);
    }
    this.open = null;
    this.readSource = null;
    this.index++;
  }

  bspatchOp(): void {
    const offset = this.arg(); const length = this.arg();
    const patch = this.payload(offset, length);
    const o = this.requireOpen('bspatch');
    // every byte a bsdiff patch produces is stored in it (as a diff or an extra byte)
    if (o.size > patch.length) throw new OstreeError('ECORRUPT', `opcode bspatch: object ${o.obj.checksum} of ${o.size} bytes cannot come from a ${patch.length}-byte patch`);
    if (o.chunks === null) { o.filled = o.size; return; }
    if (this.readSource === null) throw new OstreeError('ECORRUPT', 'opcode bspatch: no read source');
    if (o.filled !== 0) throw new OstreeError('ECORRUPT', 'opcode bspatch: the object already has data');
    o.chunks = [bspatch(this.readSource, o.size, patch)];
    o.filled = o.size;
  }
}

/** Execute `part`, producing `objects` into `sink` (null: only count the operations). */
export function executePart(part: PartPayload, objects: DeltaObject[], sink: PartSink | null): OpStats {
  return new Executor(part, objects, sink).run();
}
