/**
 * syncfs(2) and fsync of a path: the durability steps of a deployment write.
 */
import * as fs from 'node:fs';
import { libc, fail, openForIoctl } from './binding.js';

const { O_RDONLY, O_DIRECTORY, O_NONBLOCK, O_NOCTTY } = fs.constants;
const O_CLOEXEC = 0o2000000;

/** syncfs(2) on the filesystem holding `path`. */
export function syncfs(path: string): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    if (l.syncfs(fd) !== 0) fail(l, 'syncfs', path);
  } finally {
    fs.closeSync(fd);
  }
}

/** syncfs(2) on an already open fd. */
export function syncfsFd(fd: number): void {
  const l = libc();
  if (l.syncfs(fd) !== 0) fail(l, 'syncfs');
}

/** Opens `path` (a directory or a regular file) read-only and fsync()s it. */
export function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
    fd = fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
