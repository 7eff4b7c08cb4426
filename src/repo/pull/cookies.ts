/**
 * A remote's cookie jar, REPO/REMOTE.cookies.txt, in the Netscape format upstream's
 * `remote add-cookie` writes and its HTTP client reads: one cookie a line,
 * `DOMAIN<TAB>SUBDOMAINS<TAB>PATH<TAB>SECURE<TAB>EXPIRES<TAB>NAME<TAB>VALUE`. Parsed and written
 * here (the `remote add-cookie/delete-cookie/list-cookies` verbs and the pull's Cookie header).
 * Fields may not hold tabs, line breaks or NUL, so one cookie can never forge another line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { readFileBounded, writeFileAtomic } from '../../util/fs.js';
import { validateRemoteName } from '../refs.js';

export interface Cookie {
  domain: string;
  /** `TRUE` when the domain starts with '.' (subdomains match too). */
  subdomains: boolean;
  path: string;
  secure: boolean;
  /** Seconds since the epoch. */
  expires: number;
  name: string;
  value: string;
}

/** A jar is small; anything larger is not one of ours. */
const COOKIE_JAR_MAX_SIZE = 1024 * 1024;

/** REPO/REMOTE.cookies.txt (the remote name is checked: it is one path component). */
export function cookieJarPath(repoPath: string, remote: string): string {
  validateRemoteName(remote);
  return path.join(repoPath, `${remote}.cookies.txt`);
}

function checkField(what: string, v: string): void {
  if (v === '' || /[\t\r\n\0]/.test(v)) throw new OstreeError('EINVAL', `invalid cookie ${what} ${JSON.stringify(v)} (it must be non-empty, without tabs or line breaks)`);
}

export function serializeCookie(c: Cookie): string {
  return [c.domain, c.subdomains ? 'TRUE' : 'FALSE', c.path, c.secure ? 'TRUE' : 'FALSE', String(c.expires), c.name, c.value].join('\t') + '\n';
}

/** One line of a jar, or null for comments, blank and malformed lines (skipped, as upstream). */
export function parseCookieLine(line: string): Cookie | null {
  const f = line.split('\t');
  if (f.length !== 7 || line.startsWith('#')) return null;
  const expires = Number(f[4]);
  if (!/^[0-9]+$/.test(f[4]!) || !Number.isSafeInteger(expires)) return null;
  return { domain: f[0]!, subdomains: f[1] === 'TRUE', path: f[2]!, secure: f[3] === 'TRUE', expires, name: f[5]!, value: f[6]! };
}

/** The lines of a jar (none when it does not exist). */
function readJarLines(jar: string): string[] {
  const data = readFileBounded(jar, COOKIE_JAR_MAX_SIZE, { what: 'cookie jar' });
  return data === null ? [] : data.toString('utf8').split('\n').filter((l) => l !== '');
}

export function readCookies(jar: string): Cookie[] {
  return readJarLines(jar).map(parseCookieLine).filter((c): c is Cookie => c !== null);
}

/** `remote add-cookie`: appended, expiring in 25 years (as upstream). */
export function addCookie(repoPath: string, remote: string, domain: string, cookiePath: string, name: string, value: string): void {
  for (const [w, v] of [['domain', domain], ['path', cookiePath], ['name', name], ['value', value]] as const) checkField(w, v);
  const now = new Date();
  const expires = Math.floor(Date.UTC(now.getUTCFullYear() + 25, now.getUTCMonth(), now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds()) / 1000);
  const c: Cookie = { domain, subdomains: domain.startsWith('.'), path: cookiePath, secure: false, expires, name, value };
  fs.appendFileSync(cookieJarPath(repoPath, remote), serializeCookie(c), { mode: 0o644 });
}

/** `remote delete-cookie`: every cookie with that domain, path and name (ENOENT when none). */
export function deleteCookie(repoPath: string, remote: string, domain: string, cookiePath: string, name: string): void {
  const jar = cookieJarPath(repoPath, remote);
  let found = false;
  const kept = readJarLines(jar).filter((l) => {
    const c = parseCookieLine(l);
    const hit = c !== null && c.domain === domain && c.path === cookiePath && c.name === name;
    found ||= hit;
    return !hit;
  });
  writeFileAtomic(jar, kept.map((l) => `${l}\n`).join(''), { mode: 0o644 });
  if (!found) throw new OstreeError('ENOENT', 'Cookie not found in jar');
}

/** The `Cookie:` header value for a request to `url`, or null when no cookie applies. */
export function cookieHeader(cookies: readonly Cookie[], url: URL, now = Date.now() / 1000): string | null {
  const host = url.hostname;
  const pairs = cookies.filter((c) => {
    const d = c.domain.replace(/^\./, '');
    const domainOk = host === d || ((c.subdomains || c.domain.startsWith('.')) && host.endsWith(`.${d}`));
    const pathOk = url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
    return domainOk && pathOk && (!c.secure || url.protocol === 'https:') && (c.expires === 0 || c.expires > now);
  }).map((c) => `${c.name}=${c.value}`);
  return pairs.length > 0 ? pairs.join('; ') : null;
}
