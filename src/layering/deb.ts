/**
 * A .deb file as apt-ostree sees it: name, version, architecture (read by the real dpkg-deb,
 * which also validates the archive) and the sha256 of the file, which names a local package
 * in the origin (`requested-local=`).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { OstreeError } from '../errors.js';
import { run, tail } from './exec.js';

export interface DebInfo {
  name: string;
  version: string;
  arch: string;
  path: string;
  sha256: string;
}

/** `name-version.arch`, the form rpm-ostree prints in status and diffs (its NEVRA). */
export function nevra(p: { name: string; version: string; arch: string }): string {
  return `${p.name}-${p.version}.${p.arch}`;
}

function sha256File(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** Read a .deb; ENOENT when missing, ECORRUPT when dpkg-deb cannot read it. */
export async function readDeb(p: string): Promise<DebInfo> {
  let st: fs.Stats;
  try { st = fs.statSync(p); } catch { throw new OstreeError('ENOENT', `Package file ${p}: No such file or directory`, { path: p }); }
  if (!st.isFile()) throw new OstreeError('EINVAL', `Package file ${p} is not a regular file`, { path: p });
  const r = await run('dpkg-deb', ['--show', '--showformat=${Package}\\t${Version}\\t${Architecture}\\n', p], { timeoutMs: 60_000 });
  const f = r.stdout.trim().split('\t');
  if (r.code !== 0 || f.length !== 3 || f.some((x) => x === '')) {
    throw new OstreeError('ECORRUPT', `${p} is not a valid .deb package: ${tail(r.stderr) || 'no control fields'}`, { path: p });
  }
  return { name: f[0]!, version: f[1]!, arch: f[2]!, path: p, sha256: sha256File(p) };
}
