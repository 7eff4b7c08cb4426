/**
 * `ostree static-delta show`: upstream's description of a delta (_ostree_repo_static_delta_dump):
 * name, signature, endpoints, byte order, timestamp, fallbacks, each part's header, payload
 * and operation counts (the part's operations are walked without writing anything), totals.
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { deserialize } from '../../glib/gvariant.js';
import { formatSize } from '../../util/format-size.js';
import { readFileBounded } from '../../util/fs.js';
import { deltaPartPath } from '../layout.js';
import { parseDeltaName, readSuperblockFile } from './catalog.js';
import { deltaSuperblockPath } from '../layout.js';
import { inlinePart } from './apply.js';
import { OP_NAMES, executePart } from './ops.js';
import { PART_MAX_SIZE, openPart } from './part.js';
import { SUPERBLOCK_T, deltaEndianness, readSuperblockBytes, type Superblock } from './superblock.js';

function sizeLine(label: string, n: bigint): string {
  return `${label}: ${n} (${formatSize(Number(n))})`;
}

function endiannessLine(bytes: Buffer): string {
  const raw = deserialize(SUPERBLOCK_T, bytes) as [Parameters<typeof deltaEndianness>[0], unknown, unknown, unknown, unknown, unknown, Parameters<typeof deltaEndianness>[1]];
  const { endian, heuristic } = deltaEndianness(raw[0], raw[6]);
  return `Endianness: ${endian}${heuristic && endian !== 'invalid' ? ' (heuristic)' : ''}`;
}

function partLines(repoPath: string, sb: Superblock, i: number): string[] {
  const h = sb.parts[i]!;
  const lines = [`PartMeta${i}: nobjects=${h.objects.length} size=${h.size} usize=${h.usize}`];
  const p = path.join(repoPath, deltaPartPath(sb.from, sb.to, i));
  const stored = readFileBounded(p, PART_MAX_SIZE, { what: 'static delta part', follow: true }) ?? inlinePart(sb, i);
  if (stored === null) throw new OstreeError('ENOENT', `openat(${deltaPartPath(sb.from, sb.to, i)}): No such file or directory`);
  const part = openPart(stored, null, `delta part ${i}`);
  lines.push(`PartPayload${i}: nmodes=${part.modes.length} nxattrs=${part.xattrs.length} blobsize=${part.data.length} opsize=${part.ops.length}`);
  const n = executePart(part, h.objects, null);
  lines.push(`PartPayloadOps${i}: ${OP_NAMES.map((name, k) => `${name}=${n[k]}`).join(' ')}`);
  return lines;
}

/** Emit the lines `static-delta show ID` prints, as they are known (an error stops them where
 *  upstream's would). ID is a delta name or a superblock path (has '/'). */
export function describeDelta(repoPath: string, id: string, emit: (line: string) => void): void {
  let file: Buffer;
  if (id.includes('/')) file = readSuperblockFile(id);
  else {
    const n = parseDeltaName(id);
    file = readSuperblockFile(path.join(repoPath, deltaSuperblockPath(n.from, n.to)));
  }
  const { superblock: sb, bytes, signed } = readSuperblockBytes(file);
  const lines = { push: (...l: string[]): void => { for (const x of l) emit(x); } };
  lines.push(`Delta: ${id}`, `Signed: ${signed ? 'yes' : 'no'}`);
  lines.push(sb.from !== null ? `From: ${sb.from}` : 'From <scratch>', `To: ${sb.to}`);
  lines.push(endiannessLine(bytes), `Timestamp: ${sb.timestamp}`, 'Number of parents: 0');
  lines.push(`Number of fallback entries: ${sb.fallbacks.length}`);
  let fsize = 0n; let fusize = 0n;
  for (const f of sb.fallbacks) { lines.push(`  ${f.checksum}`); fsize += f.size; fusize += f.usize; }
  lines.push(sizeLine('Total Fallback Size', fsize), sizeLine('Total Fallback Uncompressed Size', fusize));
  lines.push(`Number of parts: ${sb.parts.length}`);
  let size = 0n; let usize = 0n;
  sb.parts.forEach((h, i) => { size += h.size; usize += h.usize; lines.push(...partLines(repoPath, sb, i)); });
  lines.push(sizeLine('Total Part Size', size), sizeLine('Total Part Uncompressed Size', usize));
  lines.push(sizeLine('Total Size', size + fsize), sizeLine('Total Uncompressed Size', usize + fusize));
}
