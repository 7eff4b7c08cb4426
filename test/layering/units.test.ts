/** The pure pieces of apt-ostree: ref escaping, apt's simulation lines, dpkg status, origin keys, status text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeRefComponent, pkgRef, unescapeRefComponent } from '../../src/layering/names.js';
import { parseSimulation } from '../../src/layering/apt.js';
import { parseDpkgStatus } from '../../src/layering/packages.js';
import { LayerSpec } from '../../src/layering/layer-origin.js';
import { Origin } from '../../src/sysroot/formats/origin.js';
import { kv } from '../../src/cli-apt-ostree/status-text.js';

test('ref escaping as rpm-ostree: _ -> __, other bytes refs cannot hold -> _XX', () => {
  assert.equal(escapeRefComponent('14:4.9.3-1'), '14_3A4.9.3-1');
  assert.equal(escapeRefComponent('x86_64'), 'x86__64');
  assert.equal(escapeRefComponent('1.0+dfsg~1'), '1.0_2Bdfsg_7E1');
  assert.equal(pkgRef('libstdc++6', '12.2.0-14', 'amd64'), 'apt-ostree/pkg/libstdc_2B_2B6/12.2.0-14.amd64');
  for (const s of ['14:4.9.3-1', 'a_b', '1.0+dfsg~1', 'é']) assert.equal(unescapeRefComponent(escapeRefComponent(s)), s);
});

test("apt-get -s: Inst lines (new and upgraded), Remv lines", () => {
  const out = [
    'NOTE: This is only a simulation!',
    'Inst libpcap0.8 (1.10.3-1 Debian:12.5/stable [amd64])',
    'Inst tcpdump (4.99.3-1 localhost [amd64])',
    'Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])',
    'Inst foo:i386 (1:2.0-1 local [i386])',
    'Remv nano [7.2-1]',
    'Conf tcpdump (4.99.3-1 localhost [amd64])',
  ].join('\n');
  const r = parseSimulation(out);
  assert.deepEqual(r.install, [
    { name: 'libpcap0.8', version: '1.10.3-1', arch: 'amd64', upgradesFrom: null },
    { name: 'tcpdump', version: '4.99.3-1', arch: 'amd64', upgradesFrom: null },
    { name: 'libssl3', version: '3.0.15-1~deb12u1', arch: 'amd64', upgradesFrom: '3.0.11-1~deb12u2' },
    { name: 'foo', version: '1:2.0-1', arch: 'i386', upgradesFrom: null },
  ]);
  assert.deepEqual(r.remove, ['nano']);
});

test('dpkg status: installed packages only, sorted', () => {
  const text = 'Package: zz\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n' +
    'Package: gone\nStatus: deinstall ok config-files\nVersion: 2\nArchitecture: amd64\n\n' +
    'Package: aa\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:3.0-1\nDescription: x\n continued\n';
  assert.deepEqual(parseDpkgStatus(text), [{ name: 'aa', version: '1:3.0-1', arch: 'amd64' }, { name: 'zz', version: '1', arch: 'all' }]);
});

test('origin: rpm-ostree keys; refspec= again when nothing is layered; other groups kept', () => {
  const o = Origin.parse('[origin]\nrefspec=os:debian/stable\n\n[libostree-transient]\npinned=true\n\n[custom]\nk=v\n');
  const spec = LayerSpec.fromOrigin(o);
  spec.requested.push('tcpdump');
  spec.requestedLocal.push({ sha256: 'ab'.repeat(32), nevra: 'foo-1.0.all' });
  const layered = spec.toOrigin(o).toString();
  assert.match(layered, /^\[origin\]\nbaserefspec=os:debian\/stable\n/);
  assert.match(layered, /\[packages\]\nrequested=tcpdump;\nrequested-local=(ab){32}:foo-1\.0\.all;\n/);
  assert.match(layered, /\[custom\]\nk=v\n/);
  assert.doesNotMatch(layered, /pinned/);
  const back = LayerSpec.fromOrigin(Origin.parse(layered));
  assert.deepEqual(back.requested, ['tcpdump']);
  back.requested = []; back.requestedLocal = [];
  assert.doesNotMatch(back.toOrigin(Origin.parse(layered)).toString(), /baserefspec|packages/);
  assert.match(back.toOrigin(Origin.parse(layered)).toString(), /^\[origin\]\nrefspec=os:debian\/stable\n/);
});

test('status labels end at column 26 as rpm-ostree aligns them', () => {
  assert.equal(kv('Version', '1'), '                   Version: 1\n');
  assert.equal(kv('LayeredPackages', 'tcpdump'), '           LayeredPackages: tcpdump\n');
});
