/**
 * `local:` sources (and fcos 1.5's contents_local / ssh_authorized_keys_local): files read from
 * the --files-dir directory. As in Butane the name is joined under that directory, so `/etc/x`
 * means <files-dir>/etc/x; a name that climbs out with `..` is refused, and so (beyond Butane)
 * is one whose symlinks resolve outside the directory, and anything that is not a regular file
 * (a FIFO would block the read forever).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

export class LocalFileError extends Error {}

function inside(child: string, base: string): boolean {
  return child === base || child.startsWith(base.endsWith(sep) ? base : base + sep);
}

export function readLocalFile(name: string, filesDir: string | undefined): Buffer {
  if (filesDir === undefined || filesDir === '') {
    throw new LocalFileError('local file paths are relative to a files directory that must be specified with -d/--files-dir');
  }
  const base = resolve(filesDir);
  const target = resolve(join(base, name));
  if (!inside(target, base)) throw new LocalFileError('local file path traverses outside the files directory');
  let real: string;
  try {
    real = realpathSync(target);
  } catch (e) {
    throw new LocalFileError(`cannot read local file ${JSON.stringify(name)}: ${(e as Error).message}`);
  }
  if (!inside(real, realpathSync(base))) throw new LocalFileError('local file path resolves (through a symlink) outside the files directory');
  if (!statSync(real).isFile()) throw new LocalFileError(`local file ${JSON.stringify(name)} is not a regular file`);
  return readFileSync(real);
}
