/**
 * Running GnuPG. Signatures are made and checked by the real `gpg` binary (package gnupg), as
 * upstream does through GPGME, which itself drives `gpg`: OpenPGP packet parsing, key
 * validity, expiry and revocation are GnuPG's, so our verdicts are GnuPG's. Verification and
 * key imports run in a throw-away home directory (mode 0700, under the system temporary
 * directory) holding only the keyrings that apply, so the user's own keyring and trust
 * database never decide what a repository trusts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OstreeError } from '../../../errors.js';

/**
 * execa, loaded when gpg first runs: its ~140 modules are most of what `ostree log`, `show` and
 * `ls` would load otherwise (they reach this file through repo.ts and never run gpg unless asked).
 */
function loadExeca(): Promise<typeof import('execa')> {
  return import('execa');
}

export const GPG_BINARY = process.env['OSTREE_GPG_BINARY'] ?? 'gpg';
/** Largest output read from gpg (signatures, key listings, exported keys). */
const GPG_OUTPUT_MAX = 64 * 1024 * 1024;
/** gpg never needs this long for our operations; a hung agent must not hang us. */
const GPG_TIMEOUT_MS = 120_000;

export interface GpgRun { exitCode: number; stdout: Buffer; stderr: string }

/**
 * Run gpg (batch mode, no terminal) with `homedir` (null: GnuPG's default home) and the
 * arguments; never throws for gpg's own failures (callers read the status output).
 */
export async function runGpg(homedir: string | null, args: string[], input?: Buffer): Promise<GpgRun> {
  const base = ['--batch', '--no-tty', '--no-permission-warning', '--no-auto-key-locate', '--no-auto-check-trustdb'];
  if (homedir !== null) base.unshift('--homedir', homedir);
  const { execa } = await loadExeca();
  try {
    const r = await execa(GPG_BINARY, [...base, ...args], {
      input: input ?? Buffer.alloc(0), encoding: 'buffer', reject: false, timeout: GPG_TIMEOUT_MS, maxBuffer: GPG_OUTPUT_MAX,
      env: { LC_ALL: 'C' }, extendEnv: true,
    });
    if (r.timedOut) throw new OstreeError('EIO', `GPG: ${GPG_BINARY} did not finish within ${GPG_TIMEOUT_MS / 1000} seconds`);
    if (r.exitCode === undefined) throw new OstreeError('EIO', `GPG: running ${GPG_BINARY} failed: ${r.message}`);
    return { exitCode: r.exitCode, stdout: Buffer.from(r.stdout as Uint8Array), stderr: Buffer.from(r.stderr as Uint8Array).toString('utf8') };
  } catch (e) {
    if (e instanceof OstreeError) throw e;
    throw new OstreeError('EIO', `GPG: cannot run ${GPG_BINARY} (install the gnupg package): ${(e as Error).message}`, { cause: e });
  }
}

/** A fresh private GnuPG home for `fn`, removed afterwards (with its agent, if one started). */
export async function withTempHome<T>(fn: (home: string) => Promise<T>): Promise<T> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ostree-gpg-'));
  try {
    return await fn(home);
  } finally {
    if (fs.existsSync(path.join(home, 'S.gpg-agent'))) {
      try { await (await loadExeca()).execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false, timeout: 10_000 }); } catch { /* best effort */ }
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
}
