/**
 * The translator's output checked by the real Ignition: Debian's `ignition-validate` (package
 * `ignition`, 2.14, from `make deps`) must accept what we write for fcos 1.0.0 to 1.4.0
 * (specs 3.0.0 to 3.3.0). That Ignition predates spec 3.4.0 and refuses it, so fcos 1.5.0's
 * output is checked structurally: it must equal the 1.4.0 output of the same config, which
 * ignition-validate accepted, apart from the version (3.4.0 only adds keys we do not write).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../common/tmp.js';
import { toIgnitionJson } from '../../src/butane/json.js';
import { FIXTURES, ok } from './helpers.js';

const VALIDATE = '/usr/bin/ignition-validate';
let dir: string;
let filesDir: string;
const allFeatures = () => fs.readFileSync(path.join(FIXTURES, 'all-features.bu'), 'utf8');

before(() => {
  assert.ok(fs.existsSync(VALIDATE), `${VALIDATE} is missing: install Debian's package ignition (make deps)`);
  dir = tempDir('butane-validate-');
  filesDir = path.join(dir, 'files');
  fs.mkdirSync(filesDir);
  fs.writeFileSync(path.join(filesDir, 'image.tar'), Buffer.alloc(4096, 7));
  fs.writeFileSync(path.join(filesDir, 'keys.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAA extra\n');
  fs.writeFileSync(path.join(filesDir, 'extra.service'), '[Service]\nExecStart=/bin/true\n');
});

/** The fixture under `version`, with what that version adds. */
function configFor(version: string): string {
  const minor = Number(version.split('.')[1]);
  let text = allFeatures().replace('version: 1.0.0', `version: ${version}`);
  if (minor >= 1) {
    text = text.replace('  files:\n', '  files:\n    - path: /var/lib/hello/image.tar\n      contents:\n        local: image.tar\n    - path: /etc/fetched\n      contents:\n        source: https://example.com/f\n        http_headers: [{name: Authorization, value: Bearer x}]\n');
  }
  if (minor >= 2) text = text.replace('    - name: svc\n', '    - name: svc\n      should_exist: true\n');
  if (minor >= 5) {
    text = text.replace('      groups: [sudo, wheel]\n', '      groups: [sudo, wheel]\n      ssh_authorized_keys_local: [keys.pub]\n');
    text = text.replace('    - name: docker.service\n', '    - name: extra.service\n      contents_local: extra.service\n    - name: docker.service\n');
  }
  return text;
}

function validate(json: string): { status: number | null; output: string } {
  const file = path.join(dir, `c-${Math.random().toString(36).slice(2)}.ign`);
  fs.writeFileSync(file, json);
  const r = spawnSync(VALIDATE, [file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']) {
  test(`ignition-validate accepts the fcos ${version} output`, () => {
    const result = ok(configFor(version), { filesDir });
    const v = validate(toIgnitionJson(result.config, true));
    assert.equal(v.status, 0, v.output);
    assert.equal(v.output.trim(), '', 'no warnings either');
  });
}

test('ignition-validate accepts the FCOS walkthrough output', () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'fcos-walkthrough.bu'), 'utf8');
  const v = validate(toIgnitionJson(ok(text).config, false));
  assert.equal(v.status, 0, v.output);
});

test('ignition-validate is a real check: it refuses a config that breaks the spec', () => {
  const broken = JSON.parse(toIgnitionJson(ok(configFor('1.4.0'), { filesDir }).config, false)) as { storage: { files: { mode?: unknown }[] } };
  broken.storage.files[0]!.mode = '0644';
  assert.notEqual(validate(JSON.stringify(broken)).status, 0);
});

test('fcos 1.5.0 (spec 3.4.0): Debian\'s Ignition 2.14 refuses the version; the content matches the validated 1.4.0 output', () => {
  const v15 = ok(configFor('1.5.0'), { filesDir }).config;
  const v = validate(toIgnitionJson(v15, false));
  assert.notEqual(v.status, 0);
  assert.match(v.output, /unsupported config version/);

  // The same document with the 1.5-only keys' results written out by hand as 1.4.0 keys.
  const as14 = configFor('1.4.0')
    .replace(/(ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJLk\S+ core@fcos-walkthrough\n)/, '$1        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAA extra\n')
    .replace('    - name: docker.service\n', '    - name: extra.service\n      contents: "[Service]\\nExecStart=/bin/true\\n"\n    - name: docker.service\n');
  const v14 = ok(as14, { filesDir }).config;
  const v14Validated = validate(toIgnitionJson(v14, false));
  assert.equal(v14Validated.status, 0, v14Validated.output);
  assert.deepEqual({ ...v15, ignition: { version: '3.3.0' } }, v14);
});
