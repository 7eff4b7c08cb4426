/**
 * A repository's own summary files, read and written: REPO/summary (what `summary --view`
 * prints and signers sign) and REPO/summary.sig, the signatures over those exact bytes (an
 * a{sv}: `ostree.gpgsigs`, `ostree.sign.ed25519`, ...; see format.ts). Both are read bounded
 * and replaced atomically. Signing itself is the sign code's: it reads the summary and the old
 * signatures here, adds its own, and writes them back here.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import type { Variant } from '../../glib/gvariant.js';
import { readFileBounded, writeFileAtomic } from '../../util/fs.js';
import { summaryPath, summarySigPath } from '../layout.js';
import { fsyncEnabled, type RepoCore } from '../store.js';
import { parseSummarySignatures, serializeSummarySignatures } from './format.js';
import { LOCAL_SUMMARY_MAX_SIZE } from './limits.js';

/** REPO/summary's bytes, or null when the repository has none. */
export function readLocalSummaryIfPresent(repoPath: string): Buffer | null {
  return readFileBounded(summaryPath(repoPath), LOCAL_SUMMARY_MAX_SIZE, { what: 'Summary file', advice: "regenerate it with 'ostree summary -u'" });
}

/** REPO/summary's bytes; ENOENT (upstream's wording, which scripts match) when it is missing. */
export function readLocalSummary(repoPath: string): Buffer {
  const data = readLocalSummaryIfPresent(repoPath);
  if (data === null) {
    throw new OstreeError('ENOENT', `openat(summary): No such file or directory (create it with 'ostree summary -u')`, { path: summaryPath(repoPath) });
  }
  return data;
}

/** REPO/summary.sig parsed, or null when there is none. */
export function readSummarySignatures(repoPath: string): Array<[string, Variant]> | null {
  const p = summarySigPath(repoPath);
  const data = readFileBounded(p, LOCAL_SUMMARY_MAX_SIZE, { what: 'Summary signature file', advice: "regenerate it with 'ostree summary -u' and the signing options" });
  return data === null ? null : parseSummarySignatures(data, p);
}

/** Replace REPO/summary.sig. */
export function writeSummarySignatures(repo: RepoCore, sigs: Array<[string, Variant]>): void {
  writeFileAtomic(summarySigPath(repo.path), serializeSummarySignatures(sigs), { mode: 0o644, sync: fsyncEnabled(repo) });
}

/** Replace REPO/summary and REPO/summary.sig with a remote's (`pull --mirror`). Without `sig`
 *  an old summary.sig is removed: it signed other bytes. */
export function installSummary(repo: RepoCore, summary: Buffer, sig: Buffer | null): void {
  const sync = fsyncEnabled(repo);
  writeFileAtomic(summaryPath(repo.path), summary, { mode: 0o644, sync });
  if (sig !== null) writeFileAtomic(summarySigPath(repo.path), sig, { mode: 0o644, sync });
  else fs.rmSync(summarySigPath(repo.path), { force: true });
}
