/**
 * `pull --subpath=PATH`: which entries of a commit's tree a pull fetches. A directory on the
 * way to a subpath is scanned for that one entry; a directory at or below a subpath is taken
 * whole; a file is taken when it is a subpath itself. The commit stays partial, as upstream's.
 */
import { OstreeError } from '../../errors.js';

/** How much of a directory at some path is wanted: all of it, or only the listed entries. */
export type TreeScope = { full: true; path: string } | { full: false; path: string };

export class SubpathFilter {
  private readonly paths: string[];

  /** `subpaths` as given (`/baz/deeper`, `baz/another/`); none or `/` means the whole tree. */
  constructor(subpaths: readonly string[] | undefined) {
    this.paths = (subpaths ?? []).map(normalize);
  }

  /** Whether the pull takes whole trees (no subpath, or `/`). */
  get everything(): boolean { return this.paths.length === 0 || this.paths.includes('/'); }

  /** The scope of the root directory. */
  root(): TreeScope { return this.scopeOf('/'); }

  /** The scope of directory `name` inside a directory of scope `parent`, or null if it is not wanted. */
  dir(parent: TreeScope, name: string): TreeScope | null {
    if (parent.full) return { full: true, path: join(parent.path, name) };
    const p = join(parent.path, name);
    if (!this.paths.some((s) => s === p || s.startsWith(`${p}/`))) return null;
    return this.scopeOf(p);
  }

  /** Whether file `name` inside a directory of scope `parent` is wanted. */
  file(parent: TreeScope, name: string): boolean {
    return parent.full || this.paths.includes(join(parent.path, name));
  }

  private scopeOf(p: string): TreeScope {
    const full = this.everything || this.paths.some((s) => s === p || p.startsWith(`${s}/`));
    return { full, path: p };
  }
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** `/a//b/` → `/a/b`; `..` and `.` components are refused (a subpath names a place in the tree). */
function normalize(p: string): string {
  const parts = p.split('/').filter((c) => c !== '');
  if (parts.some((c) => c === '.' || c === '..')) throw new OstreeError('EINVAL', `Invalid subpath '${p}' (no '.' or '..' components)`);
  return `/${parts.join('/')}`;
}
