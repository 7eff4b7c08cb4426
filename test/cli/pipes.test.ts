/**
 * The CLI's standard streams (src/cli/output.ts): a reader that closes the pipe early ends the
 * command quietly with upstream's exit code (0 for listing verbs; `cat` fails with one line, as
 * upstream's), a closed stdout or stdin is harmless, and a write error such as ENOSPC is one
 * `error:` line and exit 1, never Node's unhandled-'error' trace.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI } from '../hostile/harness.js';
import { smallRepo } from './fixtures.js';
import { tempDir } from '../common/tmp.js';

let dir: string;
let repo: string;

before(async () => {
  dir = tempDir('cli-pipes-');
  const r = await smallRepo(dir);
  repo = r.repo.path;
  // Enough output to overflow a pipe buffer (64 KiB): 3,000 refs, a 3,000-file tree, a 1 MiB
  // file, a 400-commit history.
  const big = path.join(dir, 'big');
  fs.mkdirSync(big);
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(big, `file-with-a-longish-name-${i}`), `${i}\n`);
  fs.writeFileSync(path.join(big, 'blob'), Buffer.alloc(1 << 20, 0x61));
  const c = await r.repo.commitTree(big, { branch: 'big', subject: 'big' });
  for (let i = 0; i < 3000; i++) await r.repo.setRef(`many/ref-number-${i}`, c);
  const root = await r.repo.loadCommit(c);
  for (let i = 0; i < 400; i++) await r.repo.writeCommit(root.rootTree, root.rootMeta, { branch: 'long', subject: `commit number ${i} of a long history`, timestamp: BigInt(1_700_000_000 + i) });
});
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const NO_TRACE = /^\s+at |node:events|Unhandled 'error'|EPIPE/m;

/** `ostree ARGS | reader` under bash with pipefail: the pipeline's status is ours. */
function piped(args: string[], reader: string): { status: number | null; stderr: string } {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `'${process.execPath}' '${CLI}' ${quoted} | ${reader} >/dev/null`], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

for (const args of [['refs'], ['ls', '-R', 'big'], ['log', 'long'], ['refs', '--list', 'many']]) {
  for (const reader of ['head -1', 'true']) {
    test(`ostree ${args.join(' ')} | ${reader}: exit 0, nothing on stderr (as upstream)`, () => {
      const r = piped([`--repo=${repo}`, ...args], reader);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
    });
  }
}

test('ostree cat | head -c 10: one error line and exit 1 (upstream fails too), no trace', () => {
  const r = piped([`--repo=${repo}`, 'cat', 'big', '/blob'], 'head -c 10');
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'error: Writing to standard output: Broken pipe (the reader closed it before the end of the file)\n');
});

test('a pipe closed before the first write (reader gone at once): exit 0, silent', async () => {
  const child = spawn(process.execPath, [CLI, `--repo=${repo}`, 'refs'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, NO_TRACE);
  assert.equal(stderr, '');
});

test('closed stdout and closed stdin: the command still succeeds (as upstream)', () => {
  for (const redirect of ['>&-', '<&-', '>&- <&-']) {
    const r = spawnSync('bash', ['-c', `'${process.execPath}' '${CLI}' --repo='${repo}' refs ${redirect}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${redirect}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, NO_TRACE);
  }
  const withInput = spawnSync('bash', ['-c', `'${process.execPath}' '${CLI}' --repo='${repo}' rev-parse main <&-`], { encoding: 'utf8' });
  assert.match(withInput.stdout, /^[0-9a-f]{64}\n$/);
});

test('stdout on a full device (/dev/full): one error line naming the problem, exit 1', () => {
  const r = spawnSync('bash', ['-c', `'${process.execPath}' '${CLI}' --repo='${repo}' refs >/dev/full`], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'error: Writing to standard output: No space left on device\n');
});
