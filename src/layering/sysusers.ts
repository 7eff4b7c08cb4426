/**
 * Users and groups that maintainer scripts add (tcpdump's postinst runs adduser). The scripts
 * see the merge deployment's own /etc/passwd, group, shadow and gshadow (seeded into the
 * sandbox), so a new id never collides with one the machine already uses. The tree keeps the
 * base's files plus only the new entries; the names go in commit metadata, and after the
 * deployment's three-way /etc merge (where an administrator's edited /etc/passwd wins whole)
 * the missing entries are appended to the deployment's /etc files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { rmrf } from '../util/tree.js';

export const ACCOUNT_FILES = ['passwd', 'group', 'shadow', 'gshadow'] as const;

function entries(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split('\n')) {
    const name = l.split(':')[0]!;
    if (l !== '' && !l.startsWith('#') && name !== '' && !m.has(name)) m.set(name, l);
  }
  return m;
}

function readOr(p: string): string | null {
  try { return fs.readFileSync(p, 'utf8'); } catch { return null; }
}

/** Copy the merge deployment's account files into `seedDir` (what the sandbox starts from). */
export function seedAccounts(mergeEtc: string | null, seedDir: string): void {
  if (mergeEtc === null) return;
  for (const f of ACCOUNT_FILES) {
    const t = readOr(path.join(mergeEtc, f));
    if (t !== null) fs.writeFileSync(path.join(seedDir, f), t, { mode: 0o600 });
  }
}

/** The shell lines that put the seed in place inside the sandbox (keeping the tree's modes). */
export function seedScript(seedMount: string): string {
  return ACCOUNT_FILES.map((f) => `if [ -e ${seedMount}/${f} ] && [ -e /etc/${f} ]; then cat ${seedMount}/${f} > /etc/${f}; fi`).join('\n');
}

/**
 * After the scripts: each account file of the tree becomes the base's plus the entries the
 * scripts added. Returns `file:name` for each added entry.
 */
export function foldAccounts(upper: string, lower: string, seedDir: string): string[] {
  const added: string[] = [];
  for (const f of ACCOUNT_FILES) {
    const up = path.join(upper, 'usr/etc', f);
    const result = readOr(up);
    if (result === null) continue;
    const seeded = entries(readOr(path.join(seedDir, f)) ?? readOr(path.join(lower, 'usr/etc', f)) ?? '');
    const fresh = [...entries(result)].filter(([name]) => !seeded.has(name));
    if (fresh.length === 0) { rmrf(up); continue; }
    const base = readOr(path.join(lower, 'usr/etc', f)) ?? '';
    const st = fs.statSync(up);
    const text = (base === '' || base.endsWith('\n') ? base : base + '\n') + fresh.map(([, l]) => l + '\n').join('');
    writeFileAtomic(up, text, { mode: st.mode & 0o7777 });
    fs.chownSync(up, st.uid, st.gid);
    for (const [name] of fresh) added.push(`${f}:${name}`);
  }
  return added;
}

/** Append to the deployment's /etc files the added entries its merged /etc lacks. */
export function applyAccounts(deployDir: string, added: string[]): void {
  for (const f of ACCOUNT_FILES) {
    const names = added.filter((a) => a.startsWith(`${f}:`)).map((a) => a.slice(f.length + 1));
    if (names.length === 0) continue;
    const etcFile = path.join(deployDir, 'etc', f);
    const cur = readOr(etcFile);
    const tree = entries(readOr(path.join(deployDir, 'usr/etc', f)) ?? '');
    if (cur === null) continue;
    const have = entries(cur);
    const lines = names.filter((n) => !have.has(n) && tree.has(n)).map((n) => tree.get(n)! + '\n');
    if (lines.length === 0) continue;
    const st = fs.statSync(etcFile);
    writeFileAtomic(etcFile, (cur.endsWith('\n') || cur === '' ? cur : cur + '\n') + lines.join(''), { mode: st.mode & 0o7777 });
    fs.chownSync(etcFile, st.uid, st.gid);
  }
}
