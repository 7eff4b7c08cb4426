/** Signed summaries (src/repo/sign/summary.ts): summary.sig written by the engines, and the
 *  checks gpg-verify-summary / sign-verify-summary remotes put on fetched summaries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { Repo } from '../../../src/repo/repo.js';
import { summarySigPath } from '../../../src/repo/layout.js';
import { summarySigners, summaryVerifierFor } from '../../../src/repo/sign/summary.js';
import { readLocalSummary, readSummarySignatures } from '../../../src/repo/summary/local.js';
import { updateSummary } from '../../../src/repo/summary/summary.js';
import { tempDir } from '../../common/tmp.js';

const isErr = (code: string, re: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && re.test(e.message);

/** An ed25519 key pair in upstream's text forms: secret = base64(seed ‖ public), public = base64(public). */
function ed25519Keys(): { secret: string; pub: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { secret: Buffer.concat([seed, pub]).toString('base64'), pub: pub.toString('base64') };
}

async function repoWithSummary(): Promise<Repo> {
  const d = tempDir('sign-summary-');
  fs.mkdirSync(path.join(d, 'tree'));
  fs.writeFileSync(path.join(d, 'tree/f'), 'x');
  const repo = await Repo.create(path.join(d, 'repo'), 'archive');
  await repo.commitTree(path.join(d, 'tree'), { branch: 'main' });
  return repo;
}

test('summary -u --sign: summary.sig holds an ed25519 signature of the summary; a new update drops it', async () => {
  const repo = await repoWithSummary();
  const k = ed25519Keys();
  const signers = summarySigners(repo, { keys: [k.secret], gpgKeys: [], gpgHomedir: null });
  assert.ok(signers);
  await updateSummary(repo, signers);
  const sigs = readSummarySignatures(repo.path)!;
  assert.deepEqual(sigs.map(([key]) => key), ['ostree.sign.ed25519']);
  const sig = (sigs[0]![1].value as Buffer[])[0]!;
  const pubKey = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(k.pub, 'base64')]), format: 'der', type: 'spki' });
  assert.ok(crypto.verify(null, readLocalSummary(repo.path), pubKey, sig));
  await updateSummary(repo);
  assert.equal(fs.existsSync(summarySigPath(repo.path)), false);
  assert.throws(() => summarySigners(repo, { keys: ['x'], signType: 'nope', gpgKeys: [], gpgHomedir: null }), /Requested signature type is not implemented/);
  assert.equal(summarySigners(repo, { keys: [], gpgKeys: [], gpgHomedir: null }), null);
});

test('sign-verify-summary: a good signature passes; a changed summary, a missing or garbage summary.sig fail with upstream\'s errors', async () => {
  const repo = await repoWithSummary();
  const k = ed25519Keys();
  await updateSummary(repo, summarySigners(repo, { keys: [k.secret], gpgKeys: [], gpgHomedir: null })!);
  const summary = readLocalSummary(repo.path);
  const sig = fs.readFileSync(summarySigPath(repo.path));
  await repo.addRemote('o', 'http://example.invalid/repo', { 'gpg-verify': 'false', 'sign-verify-summary': 'true', 'verification-ed25519-key': k.pub });
  const verify = summaryVerifierFor(repo, 'o', 'pull')!;
  await verify(summary, sig);
  await assert.rejects(async () => verify(Buffer.concat([summary, Buffer.from([0])]), sig), isErr('EPERM', /couldn't be verified/));
  await assert.rejects(async () => verify(summary, null), isErr('EPERM', /^Signatures verification enabled, but no summary\.sig found/));
  await assert.rejects(async () => verify(summary, Buffer.from('invalid\n')), isErr('EPERM', /No signatures found/));
  const fetchVerify = summaryVerifierFor(repo, 'o', 'fetch')!;
  await assert.rejects(async () => fetchVerify(null, sig), isErr('ENOENT', /no summary found/));
  await repo.addRemote('plain', 'http://example.invalid/repo', { 'gpg-verify': 'false' });
  assert.equal(summaryVerifierFor(repo, 'plain', 'pull'), null);
});

test('gpg-verify-summary: no summary, no summary.sig, or a summary.sig without GPG signatures are refused', async () => {
  const repo = await repoWithSummary();
  await updateSummary(repo);
  await repo.addRemote('g', 'http://example.invalid/repo', { 'gpg-verify': 'false', 'gpg-verify-summary': 'true' });
  const verify = summaryVerifierFor(repo, 'g', 'pull')!;
  const summary = readLocalSummary(repo.path);
  await assert.rejects(async () => verify(null, null), isErr('ENOENT', /^GPG verification enabled, but no summary found/));
  await assert.rejects(async () => verify(summary, null), isErr('EPERM', /^GPG verification enabled, but no summary\.sig found/));
  await assert.rejects(async () => verify(summary, Buffer.from('invalid\n')), isErr('EPERM', /no signatures found/));
});
