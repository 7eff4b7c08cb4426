/**
 * `ostree summary` (upstream 2022.7): `-u/--update` with `-m/--add-metadata KEY=VALUE` (VALUE in
 * GVariant text) and the signing options (`--gpg-sign`, `--gpg-homedir`, `--sign`,
 * `--sign-type`), `-v/--view` and `--raw`. Parsing and printing only; the summary itself is
 * src/repo/summary, its signatures src/repo/sign/summary.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import type { Variant } from '../../glib/gvariant.js';
import { parseVariantText } from '../../glib/gvariant-text.js';
import { Repo } from '../../repo/repo.js';
import { summarySigners } from '../../repo/sign/summary.js';
import { updateSummary, viewSummary } from '../../repo/summary/summary.js';
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
    const signers = summarySigners(repo, {
      keys: flags.sign, gpgKeys: flags.gpgSign, gpgHomedir: flags.gpgHomedir ?? null,
      ...(flags.signType !== undefined ? { signType: flags.signType } : {}),
    });
    await updateSummary(repo, { additionalMetadata: additionalMetadata(flags.addMetadata), ...(signers ?? {}) });
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
    .option('--gpg-sign <KEY-ID>', 'GPG Key ID to sign the summary with', collect, [])
    .option('--gpg-homedir <HOMEDIR>', 'GPG Homedir to use when looking for keyrings')
    .option('--sign <KEY-ID>', 'Key ID to sign the summary with', collect, [])
    .option('--sign-type <NAME>', "Signature type to use (defaults to 'ed25519')")
    .option('-m, --add-metadata <KEY=VALUE>', 'Additional metadata field to add to the summary', collect, [])
    .action(runSummary);
}
