/**
 * Paths longer than the kernel takes in one system call (PATH_MAX, 4096 bytes), as a tree
 * thousands of directories deep has: such a path is reached through a chain of anchors —
 * directories held open with O_PATH, each at most SEGMENT bytes below the previous one — and
 * handed to the fs API as `/proc/self/fd/N/rest`, with `rest` short.
 *
 * The chain of the last path resolved is kept and reused for the next one as far as it is a
 * prefix of it, which is what a depth-first walk asks for: going down extends the chain, going
 * back up closes its end. Paths under DIRECT_MAX bytes (all but very deep ones) cost one
 * length test.
 *
 * A resolver belongs to one walk (one commit, one checkout) and is closed at its end: an anchor
 * pins a directory, so it must not outlive the tree it was made for.
 */
import * as fs from 'node:fs';

/** Paths up to this many bytes are used as they are. */
const DIRECT_MAX = 3800;
/** Anchors are at most this many bytes apart (a name is at most 255 bytes): short, because
 *  the kernel walks every component of `rest` on each call. */
const SEGMENT = 256;
const O_PATH = 0o10000000;
const O_ANCHOR = O_PATH | fs.constants.O_DIRECTORY | 0o2000000 /* O_CLOEXEC */;

interface Anchor { prefix: string; fd: number }

export class LongPaths {
  private readonly chain: Anchor[] = [];

  /** `p`, or an equivalent path the kernel accepts when `p` is too long. Valid until the next
   *  call (a later path may close anchors this one goes through) or close(). */
  short(p: string): string {
    if (p.length * 3 <= DIRECT_MAX || (p.length <= DIRECT_MAX && Buffer.byteLength(p) <= DIRECT_MAX)) return p;
    // Keep the anchors that are directories above `p` (each anchor's prefix is a prefix of the
    // next one's, so the deepest that fits decides), close the others.
    let keep = this.chain.length;
    while (keep > 0) {
      const a = this.chain[keep - 1]!.prefix;
      if (p.length > a.length && p.charCodeAt(a.length) === 0x2f && p.slice(0, a.length) === a) break; // (faster than startsWith on long strings)
      keep--;
    }
    while (this.chain.length > keep) fs.closeSync(this.chain.pop()!.fd);
    let start = keep === 0 ? 0 : this.chain[keep - 1]!.prefix.length;
    for (;;) {
      const rest = p.slice(start);
      if (rest.length * 3 <= SEGMENT || Buffer.byteLength(rest) <= SEGMENT) break;
      const cut = lastSlashWithin(p, start);
      const seg = p.slice(this.chain.length === 0 ? 0 : start + 1, cut);
      const at = this.chain.length === 0 ? seg : `/proc/self/fd/${this.chain[this.chain.length - 1]!.fd}/${seg}`;
      this.chain.push({ prefix: p.slice(0, cut), fd: fs.openSync(at, O_ANCHOR) });
      start = cut;
    }
    if (this.chain.length === 0) return p; // (long only in code units, short in bytes)
    return `/proc/self/fd/${this.chain[this.chain.length - 1]!.fd}/${p.slice(start + 1)}`;
  }

  close(): void {
    while (this.chain.length > 0) fs.closeSync(this.chain.pop()!.fd);
  }
}

/** The last '/' after `start` such that p[start, cut) is at most SEGMENT bytes. */
function lastSlashWithin(p: string, start: number): number {
  let cut = -1;
  let bytes = 0;
  for (let i = start + 1; i < p.length; i++) {
    const c = p.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
    if (bytes > SEGMENT) break;
    if (c === 0x2f) cut = i;
  }
  if (cut <= start) throw Object.assign(new Error(`ENAMETOOLONG: a name in '${p.slice(start, start + 300)}…' is too long`), { code: 'ENAMETOOLONG' });
  return cut;
}
