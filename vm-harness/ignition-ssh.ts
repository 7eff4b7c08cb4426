/**
 * SSH from the host into an Ignition guest, as the walkthrough's user does: a fresh ed25519 key
 * made with ssh-keygen for each run, `ssh -p PORT core@127.0.0.1` through QEMU's host-only port
 * forward.  The guest's host key is new on every first boot: it is not pinned.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { rmrf, run, sleep } from './common.js';
import { freePort } from './ports.js';
export { freePort };

export interface SshKey { privateKey: string; publicKey: string }

export async function makeSshKey(dir: string): Promise<SshKey> {
  const privateKey = path.join(dir, 'id_ed25519');
  rmrf(privateKey);
  rmrf(`${privateKey}.pub`);
  fs.mkdirSync(dir, { recursive: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ostree-ts-vm-test', '-f', privateKey]);
  return { privateKey, publicKey: fs.readFileSync(`${privateKey}.pub`, 'utf8').trim() };
}

/** `out`: the command's stdout; `all`: stdout and stderr interleaved (for failure details). */
export interface SshResult { rc: number; out: string; all: string }

export class Ssh {
  constructor(readonly port: number, readonly key: SshKey, readonly user = 'core') {}

  /** Run a command in the guest (through the user's login shell); never throws on a non-zero exit. */
  async run(command: string, timeoutMs = 120_000): Promise<SshResult> {
    const r = await execa('ssh', [
      '-i', this.key.privateKey, '-p', String(this.port), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'ConnectTimeout=10', '-o', 'ServerAliveInterval=10', `${this.user}@127.0.0.1`, command,
    ], { reject: false, all: true, timeout: timeoutMs, stdin: 'ignore', stripFinalNewline: false });
    return { rc: r.exitCode ?? -1, out: String(r.stdout ?? ''), all: `${String(r.all ?? '')}${r.timedOut ? '\n(timed out)' : ''}` };
  }

  /** Wait until a login works (sshd up, key accepted), or `deadline` (epoch ms) passes. */
  async waitForLogin(deadline: number, stillRunning: () => boolean): Promise<SshResult> {
    let last: SshResult = { rc: -1, out: '', all: 'no attempt' };
    while (Date.now() < deadline && stillRunning()) {
      last = await this.run('true', 30_000);
      if (last.rc === 0) return last;
      await sleep(2000);
    }
    return last;
  }
}
