/** `admin status --json`: upstream's keys (refspec, finalization-locked, soft-reboot-target,
 * source-title) next to ours, and the soft-reboot record they come from. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Deployment, Sysroot } from '../../src/sysroot/sysroot.js';
import { statusJson } from '../../src/sysroot/status.js';
import { Origin } from '../../src/sysroot/formats/origin.js';
import { readNextrootDevIno } from '../../src/sysroot/soft-reboot.js';
import { Variant, serialize } from '../../src/glib/gvariant.js';
import { tempDir } from '../common/tmp.js';

const C = (c: string): string => c.repeat(64);

async function sysrootWith(root: string, list: Deployment[]): Promise<Sysroot> {
  const s = await Sysroot.open(root);
  for (const d of list) fs.mkdirSync(s.deploymentDirectory(d), { recursive: true });
  s.deployments = list;
  list.forEach((d, i) => { d.index = i; });
  s.loaded = true;
  return s;
}

test('status --json: upstream keys next to ours, spelled as upstream', async (t) => {
  const root = tempDir('status-json');
  const run = tempDir('status-run');
  process.env['OSTREE_TS_RUN_DIR'] = run;
  t.after(() => { delete process.env['OSTREE_TS_RUN_DIR']; });
  const staged = new Deployment('os', C('1'), 0, C('b'));
  staged.staged = true;
  staged.origin = Origin.forRefspec('remote:os/stable');
  const plain = new Deployment('os', C('2'), 0, C('b'));
  const s = await sysrootWith(root, [staged, plain]);
  s.stagedDeployment = staged;
  s.stagedLocked = true;

  let j = await statusJson(s);
  const [a, b] = j.deployments;
  assert.equal(a!.refspec, 'remote:os/stable');
  assert.equal(a!.origin, 'remote:os/stable');
  assert.equal(a!['finalization-locked'], true);
  assert.equal(b!['finalization-locked'], false);
  assert.equal(b!.refspec, null);
  assert.equal(a!['soft-reboot-target'], false);
  assert.ok(!('source-title' in a!), 'no source-title key without the metadata, as upstream');
  assert.deepEqual(Object.keys(b!).filter((k) => k.includes('-')).sort(), ['finalization-locked', 'soft-reboot-target']);

  // a soft reboot prepared for the second deployment (its directory's device and inode)
  const st = fs.statSync(s.deploymentDirectory(plain), { bigint: true });
  fs.mkdirSync(path.join(run, 'ostree'));
  fs.writeFileSync(path.join(run, 'ostree/nextroot-booted'),
    serialize('a{sv}', [['backing-root-device-inode', new Variant('(tt)', [st.dev, st.ino])]]));
  assert.deepEqual(readNextrootDevIno(), [st.dev, st.ino]);
  j = await statusJson(s);
  assert.deepEqual(j.deployments.map((d) => d['soft-reboot-target']), [false, true]);

  // a record without the key is refused with upstream's words
  fs.writeFileSync(path.join(run, 'ostree/nextroot-booted'), serialize('a{sv}', []));
  assert.throws(() => readNextrootDevIno(), /Missing backing-root-device-inode key/);
});
