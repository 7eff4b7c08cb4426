/**
 * `ostree sign` (signature engines: ed25519, dummy) and `ostree gpg-sign` (GPG), upstream
 * 2022.7's options and output. Parsing and printing only; signing and verifying are
 * src/repo/sign/.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import { signCommitWithKeys, verifyCommitWithKeys } from '../../repo/sign/commit-sign.js';
import { gpgDeleteSignatures, gpgSignCommit } from '../../repo/sign/gpg/commit.js';
import { DEFAULT_SIGN_TYPE, signEngine } from '../../repo/sign/registry.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface SignFlags { delete?: boolean; verify?: boolean; signType?: string; keysFile?: string; keysDir?: string }

async function runSign(commit: string, keys: string[], o: SignFlags, cmd: Command): Promise<void> {
  if (!o.verify && o.keysFile === undefined && keys.length === 0) throw new OstreeError('EINVAL', 'Need at least one KEY-ID to sign with');
  const repo = await Repo.open(repoPath(cmd));
  const checksum = await repo.resolveRev(commit);
  const engine = signEngine(o.signType ?? DEFAULT_SIGN_TYPE);
  if (!o.verify) {
    signCommitWithKeys(repo, checksum, engine, keys, o.keysFile);
    return;
  }
  const fromFiles = keys.length === 0 || o.keysFile !== undefined;
  const source = fromFiles ? { ...(o.keysDir !== undefined ? { basedir: o.keysDir } : {}), ...(o.keysFile !== undefined ? { filename: o.keysFile } : {}) } : null;
  out(`${verifyCommitWithKeys(repo, checksum, engine, keys, source)}\n`);
}

async function runGpgSign(commit: string, keys: string[], o: { delete?: boolean; gpgHomedir?: string }, cmd: Command): Promise<void> {
  if (keys.length === 0) throw new OstreeError('EINVAL', 'Need at least one GPG KEY-ID to sign with');
  const repo = await Repo.open(repoPath(cmd));
  const checksum = await repo.resolveRev(commit);
  if (o.delete) {
    out(`Signatures deleted: ${await gpgDeleteSignatures(repo, checksum, keys)}\n`);
    return;
  }
  for (const k of keys) await gpgSignCommit(repo, checksum, k, o.gpgHomedir ?? null);
}

export function register(program: Command): void {
  program.command('sign').description('Sign a commit')
    .argument('<commit>', 'COMMIT').argument('[keys...]', 'KEY-ID...')
    .option('-d, --delete', 'Delete signatures having any of the KEY-IDs (accepted, as upstream: no effect)')
    .option('--verify', 'Verify signatures')
    .option('-s, --sign-type <name>', "Signature type to use (defaults to 'ed25519')")
    .option('--keys-file <name>', 'Read key(s) from file')
    .option('--keys-dir <name>', 'Redefine system-wide directories with public and revoked keys for verification')
    .action(runSign);

  program.command('gpg-sign').description('Sign a commit')
    .argument('<commit>', 'COMMIT').argument('[keys...]', 'KEY-ID...')
    .option('-d, --delete', 'Delete signatures having any of the GPG KEY-IDs')
    .option('--gpg-homedir <homedir>', 'GPG Homedir to use when looking for keyrings')
    .action(runGpgSign);
}
