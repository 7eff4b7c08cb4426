/**
 * Open user login sessions, as logind keeps them: `/run/systemd/sessions/ID` files whose
 * `CLASS=user` (greeters, lock screens and background sessions do not hold a reboot back) and
 * whose `STATE` is not `closing`. Read directly: no D-Bus and no `loginctl` process per check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function countUserSessions(dir = '/run/systemd/sessions'): number {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return 0; }
  let n = 0;
  for (const name of names) {
    if (name.includes('.')) continue; // ID.ref FIFOs
    let text: string;
    try { text = fs.readFileSync(path.join(dir, name), 'utf8'); } catch { continue; }
    const kv = new Map(text.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    if (kv.get('CLASS') === 'user' && kv.get('STATE') !== 'closing') n++;
  }
  return n;
}
