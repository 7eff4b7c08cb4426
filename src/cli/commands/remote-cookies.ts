/**
 * `ostree remote add-cookie|delete-cookie|list-cookies` (upstream 2022.7 syntax and output).
 * Parsing and printing only; the jar is src/repo/pull/cookies.ts.
 */
import type { Command } from 'commander';
import { addCookie, cookieJarPath, deleteCookie, readCookies } from '../../repo/pull/cookies.js';
import { Repo } from '../../repo/repo.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

/** `%Y-%m-%d %H:%M:%S +0000`, as upstream lists an expiry. */
function utcStamp(secs: number): string {
  return `${new Date(secs * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}

export function registerCookies(remote: Command): void {
  remote.command('add-cookie').description('Add a cookie to remote')
    .argument('<NAME>').argument('<DOMAIN>').argument('<PATH>').argument('<COOKIE_NAME>').argument('<VALUE>')
    .action(async (name: string, domain: string, p: string, cookie: string, value: string, _o: unknown, cmd: Command) => {
      addCookie((await Repo.open(repoPath(cmd))).path, name, domain, p, cookie, value);
    });

  remote.command('delete-cookie').description('Remove one cookie from remote')
    .argument('<NAME>').argument('<DOMAIN>').argument('<PATH>').argument('<COOKIE_NAME>')
    .allowExcessArguments(true) // as upstream, which ignores a value given after the name
    .action(async (name: string, domain: string, p: string, cookie: string, _o: unknown, cmd: Command) => {
      deleteCookie((await Repo.open(repoPath(cmd))).path, name, domain, p, cookie);
    });

  remote.command('list-cookies').description('Show remote repository cookies')
    .argument('<NAME>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      for (const c of readCookies(cookieJarPath((await Repo.open(repoPath(cmd))).path, name))) {
        out(`--\nDomain: ${c.domain}\nPath: ${c.path}\nName: ${c.name}\nSecure: ${c.secure ? 'TRUE' : 'FALSE'}\nExpires: ${utcStamp(c.expires)}\nValue: ${c.value}\n`);
      }
    });
}
