/**
 * Hostile inputs to `ostree pull` (HTTP and file://), `pull-local`, `remote summary` and
 * `remote refs`, by class: deflate bombs, deeply nested GVariants, oversized summaries and
 * metadata, FIFOs posing as objects, and traversal names. Each is refused with a clear error
 * and a non-zero exit; the source is never changed; the destination is byte-identical, or,
 * when the refusal comes after metadata was fetched, holds only that metadata and the commit's
 * partial mark (as upstream leaves it: a later good pull completes it), never a ref, a content
 * object or a temporary name. Bombs are also measured: peak memory stays within 100 MB of the
 * CLI's own baseline (`--version`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { serialize, Variant } from '../../src/glib/gvariant.js';
import { parseArchiveHeader, serializeArchiveHeader } from '../../src/repo/objects/file-header.js';
import { serializeCommit } from '../../src/repo/objects/commit.js';
import { Repo, type RepoMode } from '../../src/repo/repo.js';
import { expectRefusal, runCliMeasured, scratch, snapshot, snapshotDiff, type CliResult } from './harness.js';
import { serveInWorker, type Behaviour, type WorkerServer } from '../repo/pull/server.js';
import { PULL_METADATA_MAX_SIZE } from '../../src/repo/pull/limits.js';

const MiB = 1024 * 1024;
/** What a server may send for one metadata object or the summary: upstream 2022.7's 10 MiB (pull/limits.ts). */
const METADATA_MAX = PULL_METADATA_MAX_SIZE;

const dirs: Array<{ cleanup(): void }> = [];
const servers: WorkerServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) d.cleanup();
});

let baselineMiB = 0;
before(() => {
  const r = runCliMeasured(['--version']);
  assert.equal(r.code, 0, r.stderr);
  baselineMiB = r.maxRssMiB;
});

// ---------------------------------------------------------------------------------------------
// Fixtures

interface Source { dir: string; repo: Repo; commit: string; file: string; tree: string }

/** A repository (archive unless said) with one commit on `main`: f (small), sub/g. */
async function source(mode: RepoMode = 'archive'): Promise<Source> {
  const s = scratch('hostile-pull-');
  dirs.push(s);
  const tree = path.join(s.dir, 'tree');
  fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'f'), 'a small file\n');
  fs.writeFileSync(path.join(tree, 'sub/g'), 'another\n');
  const repo = await Repo.create(path.join(s.dir, 'src'), mode);
  const commit = await repo.commitTree(tree, { branch: 'main', subject: 's', timestamp: 1000n });
  const root = repo.loadCommitSync(commit).rootTree;
  const file = repo.loadDirTreeSync(root).files.find((f) => f.name === 'f')!.checksum;
  return { dir: s.dir, repo, commit, file, tree: root };
}

async function dest(s: Source, mode: RepoMode, url?: string, config: Record<string, string> = {}): Promise<Repo> {
  const r = await Repo.create(path.join(s.dir, `dest-${mode}-${Math.random().toString(36).slice(2, 8)}`), mode);
  if (url !== undefined) await r.addRemote('origin', url, { 'gpg-verify': 'false' });
  for (const [k, v] of Object.entries(config)) r.config.set('core', k, v);
  if (Object.keys(config).length > 0) await r.saveConfig();
  return r;
}

function objectFile(repoPath: string, checksum: string, ext: string): string {
  return path.join(repoPath, 'objects', checksum.slice(0, 2), `${checksum.slice(2)}.${ext}`);
}

async function http(root: string, special: Record<string, Behaviour> = {}): Promise<string> {
  const s = await serveInWorker(root, special);
  servers.push(s);
  return s.url;
}

/**
 * A raw deflate stream inflating to `mib` MiB of zeros, built from one fully flushed 1 MiB
 * block repeated (instant, where compressing 2 GB would take seconds), then an empty final block.
 */
function zeroBomb(mib: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(MiB), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array<Buffer>(mib).fill(block), Buffer.from([3, 0])]);
}

/** Replace an archive object's data by a bomb; the header declares its own size, or `declared`. */
function plantBomb(repoPath: string, checksum: string, mib: number, declared?: bigint): void {
  const p = objectFile(repoPath, checksum, 'filez');
  const orig = fs.readFileSync(p);
  const { header, headerLength } = parseArchiveHeader(orig);
  const head = declared === undefined ? orig.subarray(0, headerLength) : serializeArchiveHeader(header, declared);
  fs.writeFileSync(p, Buffer.concat([head, zeroBomb(mib)]));
}

/** `levels` variants nested in one another around a byte: each level appends "\0v". */
function nestedVariants(levels: number): Buffer {
  return Buffer.concat([Buffer.from([1, 0, 0x79]), Buffer.from('\0v'.repeat(levels), 'latin1')]);
}

/**
 * Serialize `type`/`value`, where `value` holds one Variant('ay', placeholder()) standing for a
 * variant nested `levels` deep: the placeholder has exactly the nested blob's length, so
 * swapping the bytes keeps every framing offset right (the serializer itself refuses such depth).
 */
function withDeepVariant(levels: number, build: (deep: Variant) => [string, unknown], bigEndian = false): Buffer {
  const blob = nestedVariants(levels);
  const filler = Buffer.alloc(blob.length - 3, 0xab); // + "\0ay" = the blob's length
  const [type, value] = build(new Variant('ay', filler));
  const out = serialize(type, value, { bigEndian });
  const at = out.indexOf(Buffer.concat([filler, Buffer.from('\0ay', 'latin1')]));
  assert.ok(at >= 0);
  blob.copy(out, at);
  return out;
}

const SUMMARY_T = '(a(s(taya{sv}))a{sv})';

function summaryWith(refs: Array<[string, string]>, meta: Array<[string, Variant]> = []): Buffer {
  return serialize(SUMMARY_T, [refs.map(([n, c]) => [n, [1n, Buffer.from(c, 'hex'), meta]]), [['ostree.summary.mode', new Variant('s', 'archive')]]]);
}

function mkfifo(p: string): void {
  fs.rmSync(p, { force: true });
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, String(r.stderr));
}

/** A sparse regular file of `bytes` bytes in place of `p`. */
function sparse(p: string, bytes: number): void {
  fs.rmSync(p, { force: true });
  fs.writeFileSync(p, '');
  fs.truncateSync(p, bytes);
}

// ---------------------------------------------------------------------------------------------
// Assertions

const OBJECT = /^objects\/[0-9a-f]{2}(\/[0-9a-f]{62}\.(commit|commitmeta|dirtree|dirmeta|file|filez))?$/;
const PARTIAL = /^state\/[0-9a-f]{64}\.commitpartial$/;

/**
 * Differences between two snapshots of a destination other than verified objects fetched before
 * the refusal and partial marks; the refused object (`bad`) must not be among them.
 */
function beyondPartialProgress(before: Map<string, string>, afterSnap: Map<string, string>, bad: string | undefined): string[] {
  return snapshotDiff(before, afterSnap).filter((d) => {
    const m = /^added (.*)$/.exec(d);
    if (bad !== undefined && m && m[1]!.startsWith('objects/') && m[1]!.slice('objects/'.length).replace('/', '').startsWith(bad)) return true;
    return !(m && (OBJECT.test(m[1]!) || PARTIAL.test(m[1]!)));
  });
}

interface Refusal {
  stderr: Array<string | RegExp>;
  unchanged: string[];
  /** Destinations that may keep what was fetched before the refusal (never `bad`). */
  partial?: string[];
  /** The refused object's checksum. */
  bad?: string;
  measured?: boolean;
  timeoutMs?: number;
}

function checkResult(what: string, r: CliResult, exp: Refusal): void {
  assert.equal(r.timedOut, false, `${what} hung (killed after its deadline)`);
  assert.ok(r.code !== null && r.code !== 0, `${what} should fail, exited ${r.code} (signal ${r.signal}); stdout=${r.stdout.slice(0, 500)}`);
  assert.match(r.stderr, /^error: /m, `${what}: ${r.stderr.slice(0, 2000)}`);
  assert.doesNotMatch(r.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, `${what} printed a stack trace: ${r.stderr.slice(0, 2000)}`);
  for (const s of exp.stderr) {
    if (typeof s === 'string') assert.ok(r.stderr.includes(s), `${what}: stderr should contain ${JSON.stringify(s)}: ${r.stderr.slice(0, 2000)}`);
    else assert.match(r.stderr, s, `${what}: stderr`);
  }
}

/**
 * Run `ostree ARGS` on a hostile input: refused (see checkResult); `unchanged` byte-identical;
 * `partial` destinations changed by fetched metadata and partial marks only; with `measured`,
 * peak memory within 100 MB of the baseline.
 */
function refused(args: string[], exp: Refusal): CliResult {
  // repository lock files (taken by a pull before it fails) may appear, in the dirs or one level down
  const ignore = ['.lock', ...exp.unchanged.flatMap((d) => fs.readdirSync(d).map((n) => `${n}/.lock`))];
  if (!exp.measured && (exp.partial ?? []).length === 0) return expectRefusal(args, { stderr: exp.stderr, unchanged: exp.unchanged, ignore, timeoutMs: exp.timeoutMs });
  const before = exp.unchanged.map((d) => snapshot(d, ignore));
  const partialBefore = (exp.partial ?? []).map((d) => snapshot(d, ignore));
  const what = `ostree ${args.join(' ')}`;
  const r = runCliMeasured(args, { timeoutMs: exp.timeoutMs ?? 60_000 });
  checkResult(what, r, exp);
  if (exp.measured) {
    assert.ok(r.maxRssMiB - baselineMiB < 100, `${what}: peak RSS ${r.maxRssMiB.toFixed(0)} MiB, baseline ${baselineMiB.toFixed(0)} MiB`);
  }
  exp.unchanged.forEach((d, i) => assert.deepEqual(snapshotDiff(before[i]!, snapshot(d, ignore)), [], `${what} changed ${d}`));
  (exp.partial ?? []).forEach((d, i) => assert.deepEqual(beyondPartialProgress(partialBefore[i]!, snapshot(d, ignore), exp.bad), [], `${what} changed ${d} beyond fetched metadata`));
  return r;
}

const repoArg = (r: Repo): string => `--repo=${r.path}`;

// ---------------------------------------------------------------------------------------------
// Decompression

test('decompression: a .filez inflating to 2 GB of zeros (its header declaring the real size) is refused by HTTP pull into bare-user, within 100 MB', async () => {
  const s = await source();
  plantBomb(s.repo.path, s.file, 2048);
  const d = await dest(s, 'bare-user', await http(s.repo.path));
  refused([repoArg(d), 'pull', 'origin', 'main'], {
    stderr: [`${s.file}`, 'inflates to more than the 13 bytes its header declares'], unchanged: [s.repo.path], partial: [d.path], bad: s.file, measured: true,
  });
});

test('decompression: a small download (kept in memory) inflating to 512 MiB is refused by HTTP pull into archive, within 100 MB', async () => {
  const s = await source();
  plantBomb(s.repo.path, s.file, 512);
  assert.ok(fs.statSync(objectFile(s.repo.path, s.file, 'filez')).size < MiB, 'downloaded into memory');
  const d = await dest(s, 'archive', await http(s.repo.path));
  refused([repoArg(d), 'pull', 'origin', 'main'], {
    stderr: ['inflates to more than the 13 bytes its header declares'], unchanged: [s.repo.path], partial: [d.path], bad: s.file, measured: true,
  });
});

test('decompression: a .filez whose header declares 2 GB is streamed through the checksum and refused (archive destination), within 100 MB', async () => {
  const s = await source();
  plantBomb(s.repo.path, s.file, 2048, 2n ** 31n);
  const d = await dest(s, 'archive', await http(s.repo.path), { 'min-free-space-percent': '0' });
  refused([repoArg(d), 'pull', 'origin', 'main'], {
    stderr: [`Corrupted file object; checksum expected='${s.file}'`], unchanged: [s.repo.path], partial: [d.path], bad: s.file, measured: true, timeoutMs: 120_000,
  });
});

test('decompression: pull-local from an archive repository into bare-user refuses a 2 GB bomb, within 100 MB', async () => {
  const s = await source();
  plantBomb(s.repo.path, s.file, 2048);
  const d = await dest(s, 'bare-user');
  refused([repoArg(d), 'pull-local', s.repo.path, 'main'], {
    stderr: ['inflates to more than the 13 bytes its header declares'], unchanged: [s.repo.path], partial: [d.path], bad: s.file, measured: true,
  });
});

test('decompression: pull-local --untrusted between archive repositories verifies, and refuses, a 2 GB bomb within 100 MB', async () => {
  const s = await source();
  plantBomb(s.repo.path, s.file, 2048);
  const d = await dest(s, 'archive');
  refused([repoArg(d), 'pull-local', '--untrusted', s.repo.path, 'main'], {
    stderr: ['inflates to more than the 13 bytes its header declares'], unchanged: [s.repo.path], partial: [d.path], bad: s.file, measured: true,
  });
});

// ---------------------------------------------------------------------------------------------
// GVariant nesting

/** A summary whose ref metadata holds a variant nested 100,000 deep. */
function deepSummary(commit: string): Buffer {
  return withDeepVariant(100_000, (deep) => [SUMMARY_T, [[['main', [1n, Buffer.from(commit, 'hex'), [['deep', deep]]]]], []]]);
}

test('nesting: `remote summary` of a file:// remote whose summary nests 100,000 variants is a clear error', async () => {
  const s = await source();
  fs.writeFileSync(path.join(s.repo.path, 'summary'), deepSummary(s.commit));
  const d = await dest(s, 'bare-user', `file://${s.repo.path}`);
  refused([repoArg(d), 'remote', 'summary', 'origin'], { stderr: ['not a valid summary file', 'nested deeper than 128 levels'], unchanged: [s.dir] });
});

test('nesting: `remote refs` over HTTP with such a summary is a clear error', async () => {
  const s = await source();
  fs.writeFileSync(path.join(s.repo.path, 'summary'), deepSummary(s.commit));
  const d = await dest(s, 'bare-user', await http(s.repo.path));
  refused([repoArg(d), 'remote', 'refs', 'origin'], { stderr: ['not a valid summary file', 'nested deeper than 128 levels'], unchanged: [s.dir] });
});

test('nesting: `pull` over HTTP with such a summary is refused before anything is written', async () => {
  const s = await source();
  fs.writeFileSync(path.join(s.repo.path, 'summary'), deepSummary(s.commit));
  const d = await dest(s, 'archive', await http(s.repo.path));
  refused([repoArg(d), 'pull', 'origin', 'main'], { stderr: ['summary', 'nested deeper than 128 levels'], unchanged: [s.dir] });
});

/** A commit (named by its checksum, on ref `deep`) whose metadata a{sv} nests 100,000 variants. */
function plantDeepCommit(s: Source): string {
  const c = s.repo.loadCommitSync(s.commit);
  const data = withDeepVariant(100_000, (deep) => {
    const bytes = serializeCommit({ ...c, metadata: [['deep', deep]] });
    return ['ay', bytes]; // re-serialized below as it is: only the placeholder is swapped
  });
  // `data` is the commit bytes (an 'ay' serializes as the bytes themselves)
  const checksum = createHash('sha256').update(data).digest('hex');
  fs.mkdirSync(path.dirname(objectFile(s.repo.path, checksum, 'commit')), { recursive: true });
  fs.writeFileSync(objectFile(s.repo.path, checksum, 'commit'), data);
  fs.writeFileSync(path.join(s.repo.path, 'refs/heads/deep'), `${checksum}\n`);
  return checksum;
}

test('nesting: `pull` over HTTP of a commit whose metadata nests 100,000 variants is refused; nothing is stored', async () => {
  const s = await source();
  plantDeepCommit(s);
  const d = await dest(s, 'bare-user', await http(s.repo.path));
  refused([repoArg(d), 'pull', 'origin', 'deep'], { stderr: ['nested deeper than 128 levels'], unchanged: [s.dir] });
});

test('nesting: `pull-local` of that commit is refused; nothing is stored', async () => {
  const s = await source();
  plantDeepCommit(s);
  const d = await dest(s, 'archive');
  refused([repoArg(d), 'pull-local', s.repo.path, 'deep'], { stderr: ['nested deeper than 128 levels'], unchanged: [s.dir] });
});

// ---------------------------------------------------------------------------------------------
// Sizes

test('sizes: a summary whose Content-Length exceeds 10 MiB is refused at once (the server then stalls)', async () => {
  const s = await source();
  const d = await dest(s, 'archive', await http(s.repo.path, { '/summary': { kind: 'declare', length: 200 * MiB, send: 1024 } }));
  refused([repoArg(d), 'pull', 'origin', 'main'], { stderr: [`exceeded maximum size of ${METADATA_MAX} bytes`], unchanged: [s.dir], timeoutMs: 15_000 });
});

test('sizes: a summary streamed without Content-Length is cut off past 10 MiB', async () => {
  const s = await source();
  const d = await dest(s, 'archive', await http(s.repo.path, { '/summary': { kind: 'stream', bytes: 300 * MiB } }));
  refused([repoArg(d), 'remote', 'refs', 'origin'], { stderr: [`exceeded maximum size of ${METADATA_MAX} bytes`], unchanged: [s.dir] });
});

test('sizes: a dirtree whose Content-Length exceeds 10 MiB is refused; no ref, only the commit stays (partial)', async () => {
  const s = await source();
  const rel = `/objects/${s.tree.slice(0, 2)}/${s.tree.slice(2)}.dirtree`;
  const d = await dest(s, 'bare-user', await http(s.repo.path, { [rel]: { kind: 'declare', length: 200 * MiB } }));
  refused([repoArg(d), 'pull', 'origin', 'main'], { stderr: [`exceeded maximum size of ${METADATA_MAX} bytes`], unchanged: [s.repo.path], partial: [d.path], bad: s.tree, timeoutMs: 15_000 });
});

test('sizes: a file:// remote\'s 200 MiB summary is refused before it is read', async () => {
  const s = await source();
  sparse(path.join(s.repo.path, 'summary'), 200 * MiB);
  const d = await dest(s, 'bare-user', `file://${s.repo.path}`);
  refused([repoArg(d), 'remote', 'summary', 'origin'], { stderr: ['is 209.7\u00a0MB, more than the limit of 10.5\u00a0MB'], unchanged: [s.dir], measured: true });
});

test('sizes: pull-local refuses a 200 MiB source dirtree before reading it', async () => {
  const s = await source();
  sparse(objectFile(s.repo.path, s.tree, 'dirtree'), 200 * MiB);
  const d = await dest(s, 'bare-user');
  refused([repoArg(d), 'pull-local', s.repo.path, 'main'], {
    stderr: [`${s.tree}.dirtree`, 'is 209.7\u00a0MB, more than the limit of 134.2\u00a0MB'], unchanged: [s.repo.path], partial: [d.path], bad: s.tree, measured: true,
  });
});

// ---------------------------------------------------------------------------------------------
// Special files

test('special files: pull-local from archive into bare-user with a FIFO as a content object is refused, not hung', async () => {
  const s = await source();
  mkfifo(objectFile(s.repo.path, s.file, 'filez'));
  const d = await dest(s, 'bare-user');
  refused([repoArg(d), 'pull-local', s.repo.path, 'main'], { stderr: [`${s.file}.file`, 'is a FIFO, not a regular file'], unchanged: [s.repo.path], partial: [d.path], bad: s.file, timeoutMs: 15_000 });
});

test('special files: a file:// pull between bare-user repositories never hardlinks a FIFO posing as an object', async () => {
  const s = await source('bare-user');
  mkfifo(objectFile(s.repo.path, s.file, 'file'));
  const d = await dest(s, 'bare-user', `file://${s.repo.path}`);
  refused([repoArg(d), 'pull', 'origin', 'main'], { stderr: [`${s.file}.file`, 'is a FIFO, not a regular file'], unchanged: [s.repo.path], partial: [d.path], bad: s.file, timeoutMs: 15_000 });
});

test('special files: pull-local with a FIFO as a source dirtree is refused, not hung', async () => {
  const s = await source();
  mkfifo(objectFile(s.repo.path, s.tree, 'dirtree'));
  const d = await dest(s, 'archive');
  refused([repoArg(d), 'pull-local', s.repo.path, 'main'], { stderr: [`${s.tree}.dirtree`, 'is a FIFO'], unchanged: [s.repo.path], partial: [d.path], bad: s.tree, timeoutMs: 15_000 });
});

test('special files: pull-local with a FIFO as the source commit is refused before anything is written', async () => {
  const s = await source();
  mkfifo(objectFile(s.repo.path, s.commit, 'commit'));
  const d = await dest(s, 'archive');
  refused([repoArg(d), 'pull-local', s.repo.path, 'main'], { stderr: [`${s.commit}.commit`, 'is a FIFO'], unchanged: [s.dir], timeoutMs: 15_000 });
});

test('special files: `remote summary` of a file:// remote whose summary is a FIFO is refused, not hung', async () => {
  const s = await source();
  mkfifo(path.join(s.repo.path, 'summary'));
  const d = await dest(s, 'bare-user', `file://${s.repo.path}`);
  refused([repoArg(d), 'remote', 'summary', 'origin'], { stderr: ['summary', 'is a FIFO'], unchanged: [s.dir], timeoutMs: 15_000 });
});

// ---------------------------------------------------------------------------------------------
// Names

test('names: `pull --mirror` from a summary advertising ref ../../x is refused before anything is written', async () => {
  const s = await source();
  fs.writeFileSync(path.join(s.repo.path, 'summary'), summaryWith([['../../x', s.commit], ['main', s.commit]]));
  const d = await dest(s, 'archive', await http(s.repo.path));
  refused([repoArg(d), 'pull', '--mirror', 'origin'], { stderr: ['summary', 'lists an invalid ref name', '../../x'], unchanged: [s.dir] });
});

test('names: `pull origin ../../x` is refused before any request', async () => {
  const s = await source();
  const d = await dest(s, 'archive', await http(s.repo.path));
  refused([repoArg(d), 'pull', 'origin', '../../x'], { stderr: ['../../x'], unchanged: [s.dir] });
});

test('names: `pull-local --remote=../x` is refused', async () => {
  const s = await source();
  const d = await dest(s, 'archive');
  refused([repoArg(d), 'pull-local', '--remote=../x', s.repo.path, 'main'], { stderr: ['../x'], unchanged: [s.dir] });
});

test('names: a served dirtree with an entry named ../escape is refused; nothing is written outside the repository', async () => {
  const s = await source();
  const c = s.repo.loadCommitSync(s.commit);
  const tree = serialize('(a(say)a(sayay))', [[['../escape', Buffer.from(s.file, 'hex')]], []], { bigEndian: true });
  const treeSum = createHash('sha256').update(tree).digest('hex');
  fs.mkdirSync(path.dirname(objectFile(s.repo.path, treeSum, 'dirtree')), { recursive: true });
  fs.writeFileSync(objectFile(s.repo.path, treeSum, 'dirtree'), tree);
  const commit = serializeCommit({ ...c, metadata: [], rootTree: treeSum }); // no ref binding
  const commitSum = createHash('sha256').update(commit).digest('hex');
  fs.mkdirSync(path.dirname(objectFile(s.repo.path, commitSum, 'commit')), { recursive: true });
  fs.writeFileSync(objectFile(s.repo.path, commitSum, 'commit'), commit);
  fs.writeFileSync(path.join(s.repo.path, 'refs/heads/evil'), `${commitSum}\n`);
  const d = await dest(s, 'bare-user', await http(s.repo.path));
  const outside = snapshot(s.dir, [path.relative(s.dir, d.path)]);
  refused([repoArg(d), 'pull', 'origin', 'evil'], { stderr: ['../escape'], unchanged: [s.repo.path], partial: [d.path] });
  assert.deepEqual(snapshotDiff(outside, snapshot(s.dir, [path.relative(s.dir, d.path)])), []);
});
