/**
 * The refs as roots of reachability for the maintenance verbs (fsck checks each one, prune
 * keeps what they reach): every file under refs/heads, refs/remotes/<remote> and
 * refs/mirrors/<collection>, listed in name order without following symlinks, and read without
 * ever blocking on a FIFO posing as a ref. (Ref names, writing and resolving are the refs
 * owner's; this only enumerates the files and reads them.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import { refsDir } from './layout.js';
import { preorder } from './traverse.js';

export interface RefEntry {
  /** `ref`, `remote:ref`, or (collection refs) the ref name within `collection`. */
  name: string;
  file: string;
  collection?: string;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Files under `dir` as [relative name, path], directories first visited in name order. */
function refFilesUnder(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const children = (d: string): Array<[string, string]> | null => {
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return null; }
    ents.sort((a, b) => byName(a.name, b.name));
    // A directory's entries are yielded as paths; files are told apart below.
    return ents.map((e) => [e.name, path.join(d, e.name) + (e.isDirectory() ? '/' : '')]);
  };
  const walk = preorder<string>(`${dir}/`, '', (p) => (p.endsWith('/') ? children(p.slice(0, -1)) : null), () => undefined,
    (k) => new OstreeError('ECORRUPT', `refs directory loop at ${k}`));
  for (const [rel, p] of walk) if (!p.endsWith('/')) out.push([rel.slice(1), p]);
  return out;
}

function subdirNames(dir: string): string[] {
  try { return fs.readdirSync(dir).sort(byName); } catch { return []; }
}

/** Local and remote refs (`refs`) and collection refs, each in name order. */
export function listRefFiles(repoPath: string): { refs: RefEntry[]; collectionRefs: RefEntry[] } {
  const refs: RefEntry[] = refFilesUnder(refsDir(repoPath, 'heads')).map(([name, file]) => ({ name, file }));
  const remotes = refsDir(repoPath, 'remotes');
  for (const r of subdirNames(remotes)) {
    for (const [name, file] of refFilesUnder(path.join(remotes, r))) refs.push({ name: `${r}:${name}`, file });
  }
  const collectionRefs: RefEntry[] = [];
  const mirrors = refsDir(repoPath, 'mirrors');
  for (const c of subdirNames(mirrors)) {
    for (const [name, file] of refFilesUnder(path.join(mirrors, c))) collectionRefs.push({ name, file, collection: c });
  }
  return { refs, collectionRefs };
}

/** A ref file holds 64 hex digits and a newline; more than this is never a ref. */
const REF_READ_MAX = 4096;

/**
 * The commit checksum a ref file holds, or null when it holds something else (`text`: what it
 * holds, shortened). A FIFO, device or directory posing as a ref is ECORRUPT, never opened
 * for a blocking read.
 */
export function readRefFile(e: RefEntry): { checksum: string | null; text: string } {
  let fd: number;
  try {
    fd = fs.openSync(e.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENXIO')) throw new OstreeError('ECORRUPT', `ref ${e.name}: ${e.file} is a socket, not a ref file`);
    throw new OstreeError('EIO', `Loading commit for ref ${e.name}: cannot read ref file ${e.file}: ${(err as Error).message}`);
  }
  let text: string;
  try {
    if (!fs.fstatSync(fd).isFile()) throw new OstreeError('ECORRUPT', `ref ${e.name}: ${e.file} is not a regular file; remove it (ostree refs --delete ${e.name}) or restore the ref`);
    const buf = Buffer.alloc(REF_READ_MAX);
    const n = fs.readSync(fd, buf, 0, REF_READ_MAX, 0);
    text = buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  const c = text.trim();
  if (/^[0-9a-f]{64}$/.test(c)) return { checksum: c, text };
  return { checksum: null, text: text.length > 80 ? `${text.slice(0, 80)}…` : text.replace(/\n$/, '') };
}

/** The commit every ref (local, remote, collection) points to; throws `garbage(entry)` for junk. */
export function refCommits(repoPath: string, garbage: (e: RefEntry) => Error): string[] {
  const { refs, collectionRefs } = listRefFiles(repoPath);
  const out: string[] = [];
  for (const e of [...refs, ...collectionRefs]) {
    const r = readRefFile(e);
    if (r.checksum === null) throw garbage(e);
    out.push(r.checksum);
  }
  return out;
}
