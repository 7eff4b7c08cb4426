/**
 * `ostree create-usb MOUNT-PATH COLLECTION-ID REF [COLLECTION-ID REF...]` (upstream 2022.7's
 * ot-builtin-create-usb.c arguments, messages and result line). Parsing and printing only; the
 * copy is src/repo/collections-usb.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { validateCollectionId, type CollectionRef } from '../../repo/collections.js';
import { createUsb } from '../../repo/collections-usb.js';
import { Repo, validateRefName } from '../../repo/repo.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface CreateUsbFlags { disableFsync?: boolean; destinationRepo?: string; commit?: string }

async function runCreateUsb(args: string[], o: CreateUsbFlags, cmd: Command): Promise<void> {
  if (args.length < 1) throw new OstreeError('EINVAL', 'A MOUNT-PATH must be specified');
  if (args.length < 3) throw new OstreeError('EINVAL', 'At least one COLLECTION-ID REF pair must be specified');
  if (args.length % 2 === 0) throw new OstreeError('EINVAL', 'Only complete COLLECTION-ID REF pairs may be specified');
  if (o.commit !== undefined && args.length > 3) throw new OstreeError('EINVAL', 'The --commit option can only be used when a single COLLECTION-ID REF pair is specified');
  const mount = args[0]!;
  const refs: CollectionRef[] = [];
  for (let i = 1; i < args.length; i += 2) {
    validateCollectionId(args[i]!);
    validateRefName(args[i + 1]!);
    refs.push({ collectionId: args[i]!, ref: args[i + 1]! });
  }
  const src = await Repo.open(repoPath(cmd));
  const rel = await createUsb(src, mount, refs, {
    ...(o.destinationRepo !== undefined ? { destinationRepo: o.destinationRepo } : {}),
    ...(o.commit !== undefined ? { commit: o.commit } : {}),
    disableFsync: o.disableFsync === true,
  });
  out(`Copied ${refs.length}/${refs.length} refs successfully from ‘${src.path}’ to ‘${rel}’ repository in ‘${mount}’.\n`);
}

export function register(program: Command): void {
  program.command('create-usb')
    .description('Copy the refs to a USB stick')
    .argument('[mount-path-and-refs...]', 'MOUNT-PATH COLLECTION-ID REF [COLLECTION-ID REF...]')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--destination-repo <dest>', 'Use custom repository directory within the mount')
    .option('--commit <commit>', 'Pull a specific commit (only works when a single ref is specified)')
    .action(runCreateUsb);
}
