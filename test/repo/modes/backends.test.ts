/** One backend per repository mode (src/repo/modes/): what each stores and reads back, the
 *  registry, and the refusal of special files planted as objects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { backendFor } from '../../../src/repo/modes/registry.js';
import { modeTraits, type RepoMode } from '../../../src/repo/modes/mode.js';
import { readContentDataSync, readContentHeaderSync, writeContentSync } from '../../../src/repo/content.js';
import { hardlinkCheckoutPossible } from '../../../src/repo/checkout/hardlink.js';
import { objectPath } from '../../../src/repo/layout.js';
import { tempDir } from '../../common/tmp.js';

const MODES: RepoMode[] = ['bare', 'bare-user', 'bare-user-only', 'archive'];
const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

function emptyRepo(): string {
  const d = tempDir('modes-test-');
  for (const sub of ['objects', 'tmp']) fs.mkdirSync(path.join(d, sub));
  return d;
}

test('the registry has a backend for every mode, with that mode\'s traits', () => {
  for (const m of MODES) assert.equal(backendFor(m).traits, modeTraits(m));
  // Which checkouts may hardlink objects, per mode (upstream 2022.7).
  const linkable = MODES.map((m) => [m, backendFor(m).checkoutLinkable(false), backendFor(m).checkoutLinkable(true)]);
  assert.deepEqual(linkable, [['bare', true, false], ['bare-user', false, true], ['bare-user-only', true, true], ['archive', false, false]]);
  assert.deepEqual(MODES.map((m) => hardlinkCheckoutPossible(m, false)), [true, false, true, false]);
  assert.deepEqual(MODES.map((m) => hardlinkCheckoutPossible(m, true)), [false, false, true, false]);
});

for (const mode of MODES) {
  test(`${mode}: a file and a symlink stored from a source tree read back with their headers and data`, async () => {
    const repo = emptyRepo();
    const src = tempDir('modes-src-');
    fs.writeFileSync(path.join(src, 'f'), 'content\n', { mode: 0o750 });
    fs.chmodSync(path.join(src, 'f'), 0o750);
    fs.symlinkSync('target/path', path.join(src, 'l'));
    const ctx = { repoPath: repo, mode };
    const fc = await writeContentSync(ctx, path.join(src, 'f'), 'file');
    const lc = await writeContentSync(ctx, path.join(src, 'l'), 'symlink');
    // Given the kind or the lstat fields, the checksum is the same.
    const st = fs.lstatSync(path.join(src, 'f'));
    assert.equal(await writeContentSync(ctx, path.join(src, 'f'), { mode: st.mode, uid: st.uid, gid: st.gid }), fc);
    const f = readContentHeaderSync(repo, mode, fc);
    const expectMode = modeTraits(mode).canonical ? 0o100750 & ~0o020 : 0o100750;
    assert.equal(f.header.mode, expectMode);
    assert.equal(f.size, 8);
    assert.equal(readContentDataSync(f).toString(), 'content\n');
    const l = readContentHeaderSync(repo, mode, lc);
    assert.equal(l.header.symlinkTarget, 'target/path');
    assert.equal(readContentDataSync(l).length, 0);
    assert.equal(fs.existsSync(objectPath(repo, fc, 'file', mode)), true);
    assert.deepEqual(fs.readdirSync(path.join(repo, 'tmp')).flatMap((n) => fs.readdirSync(path.join(repo, 'tmp', n))), [], 'nothing left in tmp');
  });

  test(`${mode}: a FIFO or a directory in place of a content object is refused without blocking`, () => {
    const repo = emptyRepo();
    const csum = 'ab'.repeat(32);
    const p = objectPath(repo, csum, 'file', mode);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    execFileSync('mkfifo', [p]);
    assert.throws(() => readContentHeaderSync(repo, mode, csum), isErr('ECORRUPT', new RegExp(`${csum}\\.file is a FIFO`)));
    fs.rmSync(p);
    fs.mkdirSync(p);
    assert.throws(() => readContentHeaderSync(repo, mode, csum), isErr('ECORRUPT', /is a directory/));
    fs.rmdirSync(p);
    assert.throws(() => readContentHeaderSync(repo, mode, csum), isErr('ENOENT', new RegExp(`Couldn't find file object '${csum}'`)));
  });
}

test('a source that is not a regular file or symlink is refused by the writer', () => {
  const repo = emptyRepo();
  const src = tempDir('modes-src-');
  execFileSync('mkfifo', [path.join(src, 'p')]);
  const st = fs.lstatSync(path.join(src, 'p'));
  assert.throws(() => writeContentSync({ repoPath: repo, mode: 'archive' }, path.join(src, 'p'), { mode: st.mode, uid: 0, gid: 0 }), isErr('EINVAL', /unsupported file type/));
  // Told it is a file, the writer checks what it opened (without blocking on the FIFO).
  assert.throws(() => writeContentSync({ repoPath: repo, mode: 'bare-user' }, path.join(src, 'p'), 'file'), isErr('EINVAL', /no longer a regular file/));
});
