/**
 * Key files of the signature engines: text, one key per line (upstream reads them line by line).
 * Bounded: a key file is small, so anything larger than KEY_FILE_MAX is refused.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import { readFileBounded } from '../../util/fs.js';

export const KEY_FILE_MAX = 16 * 1024 * 1024;

/** The lines of a key file (the last one may lack its newline); an error unless it is a regular file. */
export function readKeyLines(file: string): string[] {
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { throw new OstreeError('ENOENT', `File object '${file}' is not a regular file`); }
  if (!st.isFile()) throw new OstreeError('EINVAL', `File object '${file}' is not a regular file`);
  const data = readFileBounded(file, KEY_FILE_MAX, { what: `Key file ${file}` });
  if (data === null) throw new OstreeError('ENOENT', `File object '${file}' is not a regular file`);
  const lines = data.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
