/**
 * `ostree static-delta list|show|delete|generate|apply-offline|verify|indexes|reindex`
 * (upstream 2022.7 syntax and output). Parsing and printing only; the deltas are
 * src/repo/deltas, their listing and indexes src/repo/summary/delta-index.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import { applyOffline } from '../../repo/deltas/apply.js';
import { deleteDelta, deltaExists, deltaNameString, listDeltaNames } from '../../repo/deltas/catalog.js';
import { generateDelta, type GenerateOptions } from '../../repo/deltas/generate.js';
import { describeDelta } from '../../repo/deltas/show.js';
import { listIndexedTargets } from '../../repo/summary/delta-index.js';
import { reindex } from '../../repo/summary/generate.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';
import { collect } from '../args.js';
import { signingKeys, superblockSigner, verifyDelta, verifySignedSuperblock } from '../../repo/deltas/sign.js';
import type { SignEngine } from '../../repo/sign/engine.js';
import { DEFAULT_SIGN_TYPE, signEngine } from '../../repo/sign/registry.js';

interface GenerateFlags {
  from?: string; to?: string; empty?: boolean; inline?: boolean; disableBsdiff?: boolean; ifNotExists?: boolean;
  setEndianness?: string; swapEndianness?: boolean; minFallbackSize?: string; maxBsdiffSize?: string;
  maxChunkSize?: string; filename?: string; sign: string[]; signType?: string; keysFile?: string;
}

/** Megabytes as upstream parses them (g_ascii_strtoull: leading digits, else 0). */
function megabytes(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)/.exec(v);
  return (m ? Number(m[1]) : 0) * 1000 * 1000;
}

function endianness(f: GenerateFlags): 'big' | 'little' | undefined {
  let e: 'big' | 'little' | undefined;
  if (f.setEndianness !== undefined) {
    if (f.setEndianness === 'l') e = 'little';
    else if (f.setEndianness === 'B') e = 'big';
    else throw new OstreeError('EINVAL', `Invalid endianness '${f.setEndianness}'`);
  }
  if (f.swapEndianness) e = (e ?? 'little') === 'little' ? 'big' : 'little';
  return e;
}

async function generate(toArg: string | undefined, f: GenerateFlags, cmd: Command): Promise<void> {
  const repo = await Repo.open(repoPath(cmd));
  const toRev = f.to ?? toArg;
  if (toRev === undefined) throw new OstreeError('EINVAL', 'TO revision must be specified');
  if (f.empty && f.from !== undefined) throw new OstreeError('EINVAL', 'Cannot specify both --empty and --from=REV');
  const from = f.empty ? null : await repo.resolveRev(f.from ?? `${toRev}^`);
  const to = await repo.resolveRev(toRev);
  if (f.ifNotExists && deltaExists(repo.path, { from, to })) {
    out(`Delta ${deltaNameString({ from, to })} already exists.\n`);
    return;
  }
  const keys = signingKeys(f.sign, f.keysFile);
  const options: GenerateOptions = {
    minFallbackSize: megabytes(f.minFallbackSize), maxBsdiffSize: megabytes(f.maxBsdiffSize), maxChunkSize: megabytes(f.maxChunkSize),
    bsdiff: f.disableBsdiff !== true, inline: f.inline === true, filename: f.filename, endianness: endianness(f),
    log: (line) => process.stderr.write(`${line}\n`),
    ...(keys.length > 0 ? { sign: superblockSigner(signEngine(f.signType ?? DEFAULT_SIGN_TYPE), keys) } : {}),
  };
  for (const k of Object.keys(options) as Array<keyof GenerateOptions>) if (options[k] === undefined) delete options[k];
  out(`Generating static delta:\n  From: ${from ?? 'empty'}\n  To:   ${to}\n`);
  generateDelta(repo, from, to, options);
}

function registerGenerate(group: Command): void {
  group.command('generate').description('Generate static delta files')
    .argument('[TO]')
    .option('--from <REV>', 'Create delta from revision REV')
    .option('--empty', 'Create delta from scratch')
    .option('--inline', 'Inline delta parts into main delta')
    .option('--to <REV>', 'Create delta to revision REV')
    .option('--disable-bsdiff', 'Disable use of bsdiff')
    .option('-n, --if-not-exists', 'Only generate if a delta does not already exist')
    .option('--set-endianness <ENDIAN>', "Choose metadata endianness ('l' or 'B')")
    .option('--swap-endianness', 'Swap metadata endianness from host order')
    .option('--min-fallback-size <N>', 'Minimum uncompressed size in megabytes for individual HTTP request')
    .option('--max-bsdiff-size <N>', 'Maximum size in megabytes to consider bsdiff compression for input files')
    .option('--max-chunk-size <N>', 'Maximum size of delta chunks in megabytes')
    .option('--filename <PATH>', 'Write the delta content to PATH (a directory).  If not specified, the OSTree repository is used')
    .option('--sign <KEY_ID>', 'Sign the delta with', collect, [])
    .option('--sign-type <NAME>', "Signature type to use (defaults to 'ed25519')")
    .option('--keys-file <NAME>', 'Read key(s) from file')
    .action(generate);
}

function registerQueries(group: Command): void {
  group.command('list').description('List static delta files').action((_o: unknown, cmd: Command) => {
    const names = listDeltaNames(repoPath(cmd));
    out(names.length === 0 ? '(No static deltas)\n' : names.map((n) => `${n}\n`).join(''));
  });
  group.command('show').description('Dump information on a delta').argument('[DELTA]')
    .action((id: string | undefined, _o: unknown, cmd: Command) => {
      if (id === undefined) throw new OstreeError('EINVAL', 'DELTA must be specified');
      describeDelta(repoPath(cmd), id, (line) => out(`${line}\n`));
    });
}

function registerDelete(group: Command): void {
  group.command('delete').description('Remove a delta').argument('[DELTA]')
    .action((id: string | undefined, _o: unknown, cmd: Command) => {
      if (id === undefined) throw new OstreeError('EINVAL', 'DELTA must be specified');
      deleteDelta(repoPath(cmd), id);
    });
}

function registerIndexes(group: Command): void {
  group.command('indexes').description('List static delta indexes').action((_o: unknown, cmd: Command) => {
    const names = listIndexedTargets(repoPath(cmd));
    out(names.length === 0 ? '(No static deltas indexes)\n' : names.map((n) => `${n}\n`).join(''));
  });
  group.command('reindex').description('Regenerate static delta indexes')
    .option('--to <REV>', 'Only update delta index to revision REV')
    .action(async (o: { to?: string }, cmd: Command) => {
      if (o.to !== undefined && !/^[0-9a-f]{64}$/.test(o.to)) throw new OstreeError('EINVAL', `Invalid rev ${o.to}`);
      await reindex(await Repo.open(repoPath(cmd)), o.to);
    });
}

function registerSigned(group: Command): void {
  group.command('apply-offline').description('Apply static delta file').argument('[PATH]').argument('[KEY_ID...]')
    .option('--sign-type <NAME>', "Signature type to use (defaults to 'ed25519')")
    .option('--keys-file <NAME>', 'Read key(s) from file')
    .option('--keys-dir <NAME>', 'Redefine system-wide directories with public and revoked keys for verification')
    .action(async (p: string | undefined, keys: string[], o: KeyFlags, cmd: Command) => {
      if (p === undefined) throw new OstreeError('EINVAL', 'PATH must be specified');
      const repo = await Repo.open(repoPath(cmd));
      const engine = verifier(o, keys, true);
      applyOffline(repo, p, engine === null ? {} : { verifySignature: (signed) => { verifySignedSuperblock(signed, engine); } });
    });
  group.command('verify').description('Verify static delta signatures').argument('[DELTA]').argument('[KEY_ID...]')
    .option('--sign-type <NAME>', "Signature type to use (defaults to 'ed25519')")
    .option('--keys-file <NAME>', 'Read key(s) from file')
    .option('--keys-dir <NAME>', 'Redefine system-wide directories with public and revoked keys for verification')
    .action((id: string | undefined, keys: string[], o: KeyFlags, cmd: Command) => {
      if (id === undefined) throw new OstreeError('EINVAL', 'DELTA must be specified');
      const engine = verifier(o, keys, false)!;
      try { verifyDelta(repoPath(cmd), id, engine); } catch (e) { out('Verification fails\n'); throw e; }
      out('Verification OK\n');
    });
}

interface KeyFlags { signType?: string; keysFile?: string; keysDir?: string }

/**
 * The engine that checks signatures, with the public keys given or loaded (upstream's order);
 * null when `optional` and no key could be loaded from the system's directories (apply-offline
 * then applies without checking, unless the repository requires it).
 */
function verifier(o: KeyFlags, keys: string[], optional: boolean): SignEngine | null {
  const engine = signEngine(o.signType ?? DEFAULT_SIGN_TYPE);
  for (const k of keys) engine.addPublicKey(k);
  if (keys.length === 0 || o.keysFile !== undefined) {
    try {
      engine.loadPublicKeys({ ...(o.keysDir !== undefined ? { basedir: o.keysDir } : {}), ...(o.keysFile !== undefined ? { filename: o.keysFile } : {}) });
    } catch (e) {
      if (optional && o.keysDir === undefined && o.keysFile === undefined) return null;
      throw e;
    }
  }
  return engine;
}

export function register(program: Command): void {
  const group = program.command('static-delta').description('Static delta related commands')
    .helpCommand(true).allowExcessArguments(true)
    .action((_o: unknown, cmd: Command) => {
      cmd.outputHelp({ error: true });
      const verb = cmd.args[0];
      if (verb === undefined) throw new OstreeError('EINVAL', 'No command specified');
      throw new OstreeError('EINVAL', `Unknown "static-delta" subcommand '${verb}'`);
    });
  // upstream's order: list show delete generate apply-offline verify indexes reindex
  registerQueries(group);
  registerDelete(group);
  registerGenerate(group);
  registerSigned(group);
  registerIndexes(group);
}
