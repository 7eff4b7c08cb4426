/**
 * `ostree summary` (upstream 2022.7): `-u/--update` with `-m/--add-metadata KEY=VALUE` (VALUE in
 * GVariant text), `-v/--view` and `--raw`. Parsing and printing only; the summary itself is
 * src/repo/summary.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import type { Variant } from '../../glib/gvariant.js';
import { parseVariantText } from '../../glib/gvariant-text.js';
import { Repo } from '../../repo/repo.js';
import { updateSummary, viewSummary } from '../../repo/summary/summary.js';
import { commitSigner } from '../../repo/sign/commit-sign.js';
import { summarySigner } from '../../repo/sign/summary-sign.js';
import { collect } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface SummaryFlags {
  update?: boolean; view?: boolean; raw?: boolean; addMetadata: string[];
  gpgSign: string[]; gpgHomedir?: string; sign: string[]; signType?: string;
}

/** `KEY=VALUE` options as an a{sv}, in command-line order (upstream's build_additional_metadata). */
export function additionalMetadata(args: string[]): Array<[string, Variant]> {
  return args.map((kv): [string, Variant] => {
    const i = kv.indexOf('=');
    if (i < 0) throw new OstreeError('EINVAL', `Missing '=' in KEY=VALUE metadata '${kv}'`);
    return [kv.slice(0, i), parseVariantText(kv.slice(i + 1))];
  });
}

async function runSummary(flags: SummaryFlags, cmd: Command): Promise<void> {
  if (flags.update) {
    const repo = await Repo.open(repoPath(cmd));
    const keys = { gpgKeys: flags.gpgSign, gpgHomedir: flags.gpgHomedir ?? null, keys: flags.sign, ...(flags.signType !== undefined ? { signType: flags.signType } : {}) };
    const signSummary = summarySigner(repo, keys);
    const signCommit = commitSigner(repo, keys);
    await updateSummary(repo, {
      additionalMetadata: additionalMetadata(flags.addMetadata),
      ...(signSummary ? { signSummary } : {}), ...(signCommit ? { signCommit } : {}),
    });
  } else if (flags.view || flags.raw) {
    out(viewSummary(repoPath(cmd), flags.raw === true));
  } else {
    throw new OstreeError('EINVAL', 'No option specified; use -u to update summary');
  }
}

export function register(program: Command): void {
  program.command('summary')
    .description('Manage summary metadata')
    .option('-u, --update', 'Update the summary')
    .option('-v, --view', 'View the local summary file')
    .option('--raw', 'View the raw bytes of the summary file')
    .option('-m, --add-metadata <KEY=VALUE>', 'Additional metadata field to add to the summary', collect, [])
    .option('--gpg-sign <key-id>', 'GPG Key ID to sign the summary with', collect, [])
    .option('--gpg-homedir <homedir>', 'GPG Homedir to use when looking for keyrings')
    .option('--sign <key-id>', 'Key ID to sign the summary with', collect, [])
    .option('--sign-type <name>', "Signature type to use (defaults to 'ed25519')")
    .action(runSummary);
}
