/**
 * Hostile static deltas through the CLI (`static-delta apply-offline`, `show`,
 * `pull-local --require-static-deltas`): a truncated part, a part whose bytes do not match
 * its checksum, a superblock that lies about a part's size, an operation stream writing past
 * its payload, garbage superblocks. Each is a clear `error:` line, a non-zero exit, no hang,
 * and a destination repository left byte-identical (no commit, no ref, no unverified object).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../src/repo/repo.js';
import { generateDelta } from '../../src/repo/deltas/generate.js';
import { encodePart, serializePartPayload } from '../../src/repo/deltas/part.js';
import { parseSuperblock, serializeSuperblock } from '../../src/repo/deltas/superblock.js';
import { sha256hex } from '../../src/repo/objects/checksum.js';
import { expectRefusal, runCli, scratch } from './harness.js';

const work = scratch('hostile-delta-');
after(() => work.cleanup());
let src: Repo;
let c1 = '';
let c2 = '';
let counter = 0;

before(async () => {
  const tree = path.join(work.dir, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'a'), 'a\n'.repeat(1000));
  src = await Repo.create(path.join(work.dir, 'src'), 'archive');
  c1 = await src.commitTree(tree, { branch: 'main', timestamp: 1n });
  fs.writeFileSync(path.join(tree, 'b'), 'b\n'.repeat(1000));
  c2 = await src.commitTree(tree, { branch: 'main', timestamp: 2n });
});

/** A copy of the delta c1 → c2 in its own directory, and a destination holding c1. */
async function setup(inline = false): Promise<{ delta: string; dest: string }> {
  const n = counter++;
  const delta = path.join(work.dir, `delta${n}`, 'd');
  fs.mkdirSync(delta, { recursive: true });
  generateDelta(src, c1, c2, { filename: path.join(delta, 'superblock'), inline });
  const dest = path.join(work.dir, `dest${n}`);
  await Repo.create(dest, 'bare-user');
  assert.equal(runCli([`--repo=${dest}`, 'pull-local', src.path, c1]).code, 0);
  return { delta, dest };
}

function rewriteSuperblock(delta: string, edit: (sb: ReturnType<typeof parseSuperblock>) => void): void {
  const p = path.join(delta, 'superblock');
  const sb = parseSuperblock(fs.readFileSync(p));
  edit(sb);
  fs.writeFileSync(p, serializeSuperblock(sb));
}

test('a truncated part is refused by its checksum', async () => {
  const { delta, dest } = await setup();
  const part = path.join(delta, '0');
  fs.writeFileSync(part, fs.readFileSync(part).subarray(0, 40));
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: ['Checksum mismatch in static delta part'], unchanged: [dest] });
});

test('a part whose bytes do not match its checksum is refused before it is decompressed', async () => {
  const { delta, dest } = await setup();
  const part = path.join(delta, '0');
  const b = fs.readFileSync(part); b[b.length - 10]! ^= 0xff;
  fs.writeFileSync(part, b);
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: ['Checksum mismatch in static delta part'], unchanged: [dest] });
});

test('a missing part is an error naming it', async () => {
  const { delta, dest } = await setup();
  fs.rmSync(path.join(delta, '0'));
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: ["Opening deltapart '0'"], unchanged: [dest] });
});

test('a part rebuilding an object that does not match its checksum writes nothing', async () => {
  const { delta, dest } = await setup();
  // a well-formed part (valid checksum) whose object bytes are wrong
  const payload = serializePartPayload({ modes: [{ uid: 0, gid: 0, mode: 0o100644 }], xattrs: [[]], data: Buffer.from('evil'), ops: Buffer.from([0x53, 0, 0, 4, 0]) });
  const stored = encodePart(payload, 'xz');
  fs.writeFileSync(path.join(delta, '0'), stored);
  rewriteSuperblock(delta, (sb) => {
    sb.parts = [{ version: 0, checksum: sha256hex(stored), size: BigInt(stored.length), usize: 4n, objects: [{ type: 'file', checksum: 'ab'.repeat(32) }] }];
  });
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: ['Corrupted file object', 'Executing delta part 0'], unchanged: [dest] });
});

test('operations reading past the payload are refused', async () => {
  const { delta, dest } = await setup();
  const payload = serializePartPayload({ modes: [{ uid: 0, gid: 0, mode: 0o100644 }], xattrs: [[]], data: Buffer.alloc(4), ops: Buffer.from([0x53, 0, 0, 0xff, 0xff, 0x7f, 0]) });
  const stored = encodePart(payload, 'none');
  fs.writeFileSync(path.join(delta, '0'), stored);
  rewriteSuperblock(delta, (sb) => {
    sb.parts = [{ version: 0, checksum: sha256hex(stored), size: BigInt(stored.length), usize: 4n, objects: [{ type: 'file', checksum: 'ab'.repeat(32) }] }];
  });
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: ['Invalid offset/length'], unchanged: [dest] });
});

test('garbage and oversized superblocks are refused; a delta from a missing commit too', async () => {
  const { delta, dest } = await setup();
  const sbPath = path.join(delta, 'superblock');
  const good = fs.readFileSync(sbPath);
  fs.writeFileSync(sbPath, Buffer.from('not a superblock at all'));
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: [/malformed GVariant|Invalid/], unchanged: [dest] });
  fs.writeFileSync(sbPath, Buffer.alloc(0)); fs.truncateSync(sbPath, 200 * 1024 * 1024); // sparse, larger than the bound
  expectRefusal([`--repo=${dest}`, 'static-delta', 'apply-offline', delta], { stderr: ['more than the limit'], unchanged: [dest] });
  fs.writeFileSync(sbPath, good);
  const empty = path.join(work.dir, `empty${counter++}`);
  await Repo.create(empty, 'bare-user');
  expectRefusal([`--repo=${empty}`, 'static-delta', 'apply-offline', delta], { stderr: ['which is the delta source, is not in repository'], unchanged: [empty] });
});

test('a pull through a corrupted delta moves no ref', async () => {
  const served = path.join(work.dir, 'served');
  fs.cpSync(src.path, served, { recursive: true });
  const srv = await Repo.open(served);
  generateDelta(srv, c1, c2);
  assert.equal(runCli([`--repo=${served}`, 'summary', '-u']).code, 0);
  const deltas = path.join(served, 'deltas');
  const a = fs.readdirSync(deltas)[0]!;
  const part = path.join(deltas, a, fs.readdirSync(path.join(deltas, a))[0]!, '0');
  const b = fs.readFileSync(part); b[b.length - 5]! ^= 0xff; fs.writeFileSync(part, b);
  const dest = path.join(work.dir, 'pulldest');
  await Repo.create(dest, 'bare-user');
  assert.equal(runCli([`--repo=${dest}`, 'pull-local', served, c1]).code, 0);
  expectRefusal([`--repo=${dest}`, 'pull-local', '--require-static-deltas', served, 'main'], { stderr: ['Checksum mismatch in static delta part'], unchanged: [dest] });
});
