import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as libc from '../../src/native/libc.js';
import { OstreeError } from '../../src/errors.js';
import { Repo } from '../../src/repo/repo.js';
import { serializeFileHeader } from '../../src/repo/objects/file-header.js';
import { sha256hex } from '../../src/repo/objects/checksum.js';
import { tempDir } from '../common/tmp.js';

function tmp(): string { return tempDir('repo-crash-'); }
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

for (const mode of ['bare-user', 'archive'] as const) {
  test(`${mode}: a commit killed mid-way leaves only complete objects at final names`, async () => {
    const d = tmp();
    const src = path.join(d, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 400; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(256 * 1024, i % 251));
    const r = await Repo.create(path.join(d, 'repo'), mode);
    const child = spawn(process.execPath, [CLI, `--repo=${r.path}`, 'commit', '-b', 'main', src, '-s', 'x'], { stdio: 'ignore' });
    // Kill as soon as some objects exist.
    const start = Date.now();
    for (;;) {
      await new Promise((res) => setTimeout(res, 5));
      const n = fs.readdirSync(path.join(r.path, 'objects')).length;
      if (n >= 5 || Date.now() - start > 20000) break;
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    let checked = 0;
    for (const o of await r.listObjects()) {
      const csum = o.slice(0, 64);
      if (!o.endsWith('.file')) continue;
      const { header, data } = r.readFileContentSync(csum);
      assert.equal(sha256hex(serializeFileHeader(header), data), csum, `object ${o} is complete`);
      checked++;
    }
    assert.ok(checked > 0, 'the commit was interrupted after writing some objects');
    assert.equal(await r.resolveRevOptional('main'), null, 'no ref for an interrupted commit');
    // A retry completes and reuses what is there.
    const c = await r.commitTree(src, { branch: 'main' });
    assert.equal(await r.resolveRev('main'), c);
    assert.deepEqual(fs.readdirSync(path.join(r.path, 'tmp')).filter((n) => n !== 'cache'), [], 'stale temporary files of the killed process were removed');
  });
}

test('repo lock (OFD, as upstream): an exclusive holder blocks a commit (EBUSY after lock-timeout-secs); shared holders do not', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'f'), 'x');
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  r.config.set('core', 'lock-timeout-secs', '1');
  const fd = fs.openSync(path.join(r.path, '.lock'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    libc.ofdLock(fd, { exclusive: false, wait: true });
    await r.commitTree(src, { branch: 'a' }); // shared + shared
    libc.ofdLock(fd, { exclusive: true, wait: true });
    const t0 = Date.now();
    await assert.rejects(r.commitTree(src, { branch: 'b' }), (e: unknown) => e instanceof OstreeError && e.code === 'EBUSY' && /locked/.test(e.message));
    assert.ok(Date.now() - t0 >= 900);
    libc.ofdUnlock(fd);
    await r.commitTree(src, { branch: 'b' });
    // while we hold a shared lock inside withLock, an exclusive attempt elsewhere fails
    await r.withLock(false, async () => {
      assert.throws(() => libc.ofdLock(fd, { exclusive: true, wait: false }), (e: unknown) => ['EWOULDBLOCK', 'EAGAIN'].includes((e as { code: string }).code));
    });
    libc.ofdLock(fd, { exclusive: true, wait: false }); // released afterwards
  } finally {
    fs.closeSync(fd);
  }
});
