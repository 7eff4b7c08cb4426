/** sysroot/layout: the names that become path components are validated before any path is built. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STATEROOT_MAX_BYTES, bootlinkDirRel, deploymentRefName, isDeploymentRefName, parseDeploymentName,
  parseKernelDirName, staterootProblem, validateStateroot,
} from '../../src/sysroot/layout.js';
import { Deployment } from '../../src/sysroot/deployment.js';
import { isOstreeError } from '../../src/errors.js';

const C = 'c'.repeat(64);

test('stateroot names: one path component, no whitespace or control characters, bounded length', () => {
  for (const ok of ['testos', 'fedora-coreos', 'a.b', 'a:b', 'x'.repeat(STATEROOT_MAX_BYTES), 'é']) {
    assert.equal(staterootProblem(ok), null, ok);
  }
  for (const bad of ['', '.', '..', 'a/b', '/', '../x', 'a\0b', 'a\nb', 'a b', 'a\tb', 'a\x7fb', 'x'.repeat(STATEROOT_MAX_BYTES + 1)]) {
    assert.notEqual(staterootProblem(bad), null, JSON.stringify(bad));
    assert.throws(() => validateStateroot(bad), (e: unknown) => isOstreeError(e, 'EINVAL') && /Invalid stateroot name/.test((e as Error).message));
    assert.throws(() => validateStateroot(bad, '/boot/loader/entries/x.conf'), (e: unknown) => isOstreeError(e, 'ECORRUPT') && (e as Error).message.startsWith('/boot/loader/entries/x.conf: invalid stateroot name'));
    assert.throws(() => new Deployment(bad, C, 0, C), (e: unknown) => isOstreeError(e, 'EINVAL'));
  }
});

test('deployment names and other names read back from disk', () => {
  assert.deepEqual(parseDeploymentName(`${C}.0`), { csum: C, serial: 0 });
  assert.deepEqual(parseDeploymentName(`${C}.12`), { csum: C, serial: 12 });
  for (const bad of ['..', `${C}`, `${C}.`, `${C}.-1`, `${C}.1.origin`, `${C.slice(1)}.0`, `${C.toUpperCase()}.0`, `${C}.1234567890`, `../${C}.0`]) {
    assert.equal(parseDeploymentName(bad), null, bad);
  }
  assert.throws(() => new Deployment('os', 'abc', 0, C), /Invalid commit checksum/);
  assert.throws(() => new Deployment('os', C, -1, C), /Invalid deployment serial/);
  assert.equal(parseKernelDirName(`os-${C}`), C);
  assert.equal(parseKernelDirName('os-abc'), null);
  assert.equal(deploymentRefName(1, 0, 3), 'ostree/1/0/3');
  assert.ok(isDeploymentRefName('ostree/1/0/3') && !isDeploymentRefName('ostree/2/0/3') && !isDeploymentRefName('ostree/1/0/x'));
  assert.equal(bootlinkDirRel(1, 0, 'os', C), `ostree/boot.1.0/os/${C}`);
});
