/**
 * The commander-free `admin status` path of src/cli/main.ts (admin-status.ts): which argument
 * vectors take it, and that it prints exactly what the commander path prints (text and JSON),
 * including errors; plus program.ts's verbOf.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePlainStatus } from '../../src/cli/admin-status.js';
import { verbOf } from '../../src/cli/program.js';
import { tmpfsScratch, newSysroot, ours, ok, type Scratch } from '../common/sysroot-helpers.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-status-cli-'); });
after(() => { scratch.cleanup(); });

test('parsePlainStatus: plain forms only', () => {
  assert.deepEqual(parsePlainStatus(['status']), {});
  assert.deepEqual(parsePlainStatus(['status', '--json']), { json: true });
  assert.deepEqual(parsePlainStatus(['status', '--sysroot=/x']), { sysroot: '/x' });
  assert.deepEqual(parsePlainStatus(['status', '--sysroot', '/x', '--json']), { sysroot: '/x', json: true });
  assert.deepEqual(parsePlainStatus(['--sysroot=/x', 'status']), { sysroot: '/x' });
  for (const bad of [
    [], ['status', '-v'], ['status', '--help'], ['status', 'extra'], ['status', '--sysroot'],
    ['--json', 'status'], ['status', '--json', '--json'], ['--sysroot=/a', 'status', '--sysroot=/b'],
    ['status', '--'], ['deploy'], ['status', 'status'],
  ]) assert.equal(parsePlainStatus(bad), null, JSON.stringify(bad));
});

test('verbOf skips global options', () => {
  assert.equal(verbOf(['admin', 'status']), 'admin');
  assert.equal(verbOf(['--repo', '/r', 'log', 'x']), 'log');
  assert.equal(verbOf(['--repo=/r', 'admin']), 'admin');
  assert.equal(verbOf(['--version']), null);
});

test('fast and commander paths print the same status (text, JSON, errors)', async () => {
  const r = path.join(scratch.dir, 'same');
  fs.mkdirSync(r);
  const { sysroot } = await newSysroot(r);
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', 'testos/stable']));
  const fast = ok(ours(['admin', 'status', `--sysroot=${sysroot}`]));
  const viaCommander = ok(ours(['admin', 'status', '-v', `--sysroot=${sysroot}`])); // -v is not a plain form
  assert.equal(fast.stdout, viaCommander.stdout);
  assert.match(fast.stdout, /^ {2}testos [0-9a-f]{64}\.0\n {4}Version: 1\.0\n {4}origin refspec: testos\/stable\n$/);
  const fastJson = ok(ours(['admin', 'status', '--json', `--sysroot=${sysroot}`]));
  const cmdJson = ok(ours(['admin', 'status', '--json', '-v', `--sysroot=${sysroot}`]));
  assert.equal(fastJson.stdout, cmdJson.stdout);
  assert.equal(JSON.parse(fastJson.stdout).deployments[0].version, '1.0');
  // Through $OSTREE_SYSROOT and the admin-level --sysroot too.
  assert.equal(ok(ours(['admin', 'status'], { OSTREE_SYSROOT: sysroot })).stdout, fast.stdout);
  assert.equal(ok(ours(['admin', `--sysroot=${sysroot}`, 'status'])).stdout, fast.stdout);
  // Errors: same message and exit status.
  const missing = path.join(r, 'nope');
  const e1 = ours(['admin', 'status', `--sysroot=${missing}`]);
  const e2 = ours(['admin', 'status', '-v', `--sysroot=${missing}`]);
  assert.equal(e1.status, 1);
  assert.equal(e2.status, 1);
  assert.equal(e1.stderr, e2.stderr);
  assert.match(e1.stderr, /^error: Sysroot .*nope does not exist/);
});


test('status on a corrupt commit object: an error naming the commit, on both paths', async () => {
  const r = path.join(scratch.dir, 'corrupt');
  fs.mkdirSync(r);
  const { sysroot, c1 } = await newSysroot(r);
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', 'testos/stable']));
  const obj = path.join(sysroot, 'ostree/repo/objects', c1.slice(0, 2), `${c1.slice(2)}.commit`);
  fs.chmodSync(obj, 0o644);
  fs.writeFileSync(obj, 'garbage');
  for (const args of [['admin', 'status', `--sysroot=${sysroot}`], ['admin', 'status', '-v', `--sysroot=${sysroot}`]]) {
    const e = ours(args);
    assert.equal(e.status, 1, args.join(' '));
    assert.match(e.stderr, new RegExp(`^error: commit ${c1}: `));
  }
});
