/**
 * Bad input to apt-ostree: each case fails with a clear error and a non-zero exit, writes no
 * deployment, leaves the bootloader entries as they were and no scratch directory behind.
 * The packages are real .debs made by dpkg-deb (a postinst that fails, a dependency nothing
 * provides, a file a base package owns), plus a file that is no .deb at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { aptOstree, buildDeb, leftovers, makeAptRepo, makeWorld, snapshot, type World } from './fixture.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';

let w: World;
let debs: string;

before(async () => {
  w = await makeWorld();
  debs = path.join(w.dir, 'debs');
  fs.mkdirSync(debs);
  const etc = w.deployEtc();
  fs.rmSync(path.join(etc, 'apt/sources.list'), { force: true });
  fs.writeFileSync(path.join(etc, 'apt/sources.list.d/local.list'), makeAptRepo(path.join(w.dir, 'aptrepo'), [buildDeb(debs, 'hello-layer', {})]));
});
after(() => w?.cleanup());

function refused(args: string[], message: RegExp): void {
  const before = snapshot(w);
  const r = aptOstree(w.sysroot, args);
  assert.equal(r.status, 1, `expected failure, got: ${r.stdout}`);
  assert.match(r.stderr, /^error: /);
  assert.match(r.stderr, message);
  assert.equal(snapshot(w), before, 'no deployment written, entries unchanged');
  assert.deepEqual(leftovers(w), []);
}

test('a corrupt .deb', () => {
  const bad = path.join(debs, 'corrupt.deb');
  fs.writeFileSync(bad, '!<arch>\nthis is not a debian package\n');
  refused(['install', bad], /corrupt\.deb is not a valid \.deb package/);
});

test('an unknown package', () => {
  refused(['install', 'no-such-package-anywhere'], /Packages not found: no-such-package-anywhere/);
});

test('a file that a base package owns', () => {
  const deb = buildDeb(debs, 'steals-dpkg', { files: { 'usr/bin/dpkg-query': 'not dpkg\n' } });
  refused(['install', deb], /dpkg failed in the sandbox[\s\S]*trying to overwrite '\/usr\/bin\/dpkg-query'/);
});

test('a failing postinst', () => {
  const deb = buildDeb(debs, 'bad-postinst', { postinst: '#!/bin/sh\necho postinst-refuses >&2\nexit 3\n' });
  refused(['install', deb], /dpkg failed in the sandbox[\s\S]*postinst-refuses/);
});

test('an unsatisfiable dependency', () => {
  const deb = buildDeb(debs, 'needs-ghost', { depends: 'ghost-package (>= 99)' });
  refused(['install', deb], /Cannot satisfy the dependencies[\s\S]*ghost-package/);
});

test('two transactions at once: the second is refused while the first holds the sysroot', async () => {
  const s = await Sysroot.open(w.sysroot);
  await s.load();
  await s.lock({ wait: false });
  try {
    refused(['install', 'hello-layer'], /Another transaction is in progress/);
  } finally {
    s.unlock();
  }
  // and once it is released, the same install goes through
  const r = aptOstree(w.sysroot, ['install', 'hello-layer']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Added:\n {2}hello-layer-1\.0\.all\n/);
});

test('sandbox: no network and no view of the host', () => {
  const deb = buildDeb(debs, 'probe-host', {
    postinst: '#!/bin/sh\nset -e\n[ ! -e /work ] && [ ! -e /tmp/apt-ostree-probe ] || { echo sees-host >&2; exit 1; }\n'
      + 'ip=$(cat /proc/net/dev | grep -c : || true)\n[ "$ip" -le 1 ] || { echo has-network >&2; exit 1; }\n',
  });
  fs.writeFileSync('/tmp/apt-ostree-probe', 'host file\n');
  try {
    const r = aptOstree(w.sysroot, ['install', deb]);
    assert.equal(r.status, 0, r.stderr);
  } finally {
    fs.rmSync('/tmp/apt-ostree-probe', { force: true });
  }
});

test('local .deb: LocalPackages in status; --dry-run writes nothing; cancel without a transaction', () => {
  const st = aptOstree(w.sysroot, ['status', '--json']);
  const j = JSON.parse(st.stdout) as { deployments: Array<Record<string, string[]>> };
  assert.deepEqual(j.deployments[0]!['requested-local-packages'], ['probe-host-1.0.all']);
  assert.match(aptOstree(w.sysroot, ['status']).stdout, / {13}LocalPackages: probe-host-1\.0\.all\n/);
  const before = snapshot(w);
  const d = aptOstree(w.sysroot, ['uninstall', '--dry-run', 'hello-layer']);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /Exiting because of '--dry-run' option/);
  assert.equal(snapshot(w), before);
  assert.equal(aptOstree(w.sysroot, ['cancel']).stdout, 'No active transaction.\n');
});

test('upgrade --check, deploy VERSION, cleanup -r', () => {
  assert.equal(aptOstree(w.sysroot, ['upgrade', '--check']).stdout, 'No updates available.\n');
  const ostree = (args: string[]): string => execFileSync('ostree', [`--repo=${w.repoDir}`, ...args], { encoding: 'utf8' });
  const v1 = ostree(['rev-parse', 'debian/stable']).trim();
  ostree(['commit', '-b', 'debian/stable', '--tree=ref=debian/stable', '-s', 'next', '--add-metadata-string=version=12.9']);
  const c = aptOstree(w.sysroot, ['upgrade', '--check']);
  assert.match(c.stdout, /^AvailableUpdate:\n {19}Version: 12\.9 \(/);
  const dep = aptOstree(w.sysroot, ['deploy', '12.1']);
  assert.equal(dep.status, 0, dep.stderr);
  const j = JSON.parse(aptOstree(w.sysroot, ['status', '--json']).stdout) as { deployments: Array<{ 'base-checksum'?: string; checksum: string }> };
  assert.equal(j.deployments[0]!['base-checksum'] ?? j.deployments[0]!.checksum, v1);
  const n = j.deployments.length;
  const cl = aptOstree(w.sysroot, ['cleanup', '-r', '-b']);
  assert.equal(cl.status, 0, cl.stderr);
  assert.equal((JSON.parse(aptOstree(w.sysroot, ['status', '--json']).stdout) as { deployments: unknown[] }).deployments.length, n - 1);
  assert.deepEqual(leftovers(w), []);
});
