/**
 * The first-boot pieces of boot/dracut/40ignition-ostree and the harness's Ignition gate, outside
 * a VM: ignition-ostree-presets against a root holding the preset file Ignition writes (with the
 * real `systemctl --root`), the spec check, and the walkthrough config through Debian's
 * `ignition-validate`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { runModuleSetup } from './dracut-module.js';
import { checkSpecVersion, ignitionValidate, walkthroughConfig } from '../../vm-harness/ignition-config.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PRESETS = path.join(PROJECT, 'boot/dracut/40ignition-ostree/ignition-ostree-presets.sh');

function rootWithUnits(preset: string | null): string {
  const root = tempDir('ignition-ostree-root-');
  const unitDir = path.join(root, 'etc/systemd/system');
  fs.mkdirSync(unitDir, { recursive: true });
  fs.writeFileSync(path.join(unitDir, 'hello.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n');
  fs.writeFileSync(path.join(unitDir, 'other.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n');
  if (preset !== null) {
    fs.mkdirSync(path.join(root, 'etc/systemd/system-preset'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/systemd/system-preset/20-ignition.preset'), preset);
  }
  return root;
}

test('presets: the units Ignition enabled get their [Install] links, the others stay off', () => {
  const root = rootWithUnits('enable hello.service\n');
  const r = spawnSync('sh', [PRESETS, root], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /systemctl preset hello\.service/);
  const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants');
  assert.deepEqual(fs.readdirSync(wants), ['hello.service']);
});

test('presets: nothing to do without Ignition\'s preset file', () => {
  const root = rootWithUnits(null);
  const r = spawnSync('sh', [PRESETS, root], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.existsSync(path.join(root, 'etc/systemd/system/multi-user.target.wants')), false);
});

test('presets: a unit Ignition names that does not exist fails the unit (the boot stops, not half-provisioned)', () => {
  const root = rootWithUnits('enable missing.service\n');
  const r = spawnSync('sh', [PRESETS, root], { encoding: 'utf8' });
  assert.notEqual(r.status, 0, r.stdout + r.stderr);
});

test('the harness refuses specs newer than 3.3.0 and lets 3.0.0-3.3.0 through', () => {
  assert.throws(() => checkSpecVersion('{"ignition":{"version":"3.4.0"}}', 'x.ign'),
    /x\.ign: Ignition config spec 3\.4\.0 is newer than 3\.3\.0, the newest Debian's Ignition 2\.14 accepts/);
  assert.throws(() => checkSpecVersion('{"ignition":{"version":"4.0.0"}}'), /newer than 3\.3\.0/);
  for (const v of ['3.0.0', '3.1.0', '3.2.0', '3.3.0']) checkSpecVersion(`{"ignition":{"version":"${v}"}}`);
  // Not JSON: left to Ignition, which reports it at boot (scenario i4).
  checkSpecVersion('{"ignition":');
});

test('the walkthrough FCC file, translated by our butane, passes ignition-validate; a broken config does not', async () => {
  const dir = tempDir('ignition-config-');
  const good = path.join(dir, 'good.ign');
  fs.writeFileSync(good, JSON.stringify(walkthroughConfig('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ+x test')));
  const v = await ignitionValidate(good);
  assert.equal(v.ok, true, v.out);
  const cfg = JSON.parse(fs.readFileSync(good, 'utf8')) as { ignition: { version: string }; storage: { files: Array<{ mode: number }> } };
  assert.equal(cfg.ignition.version, '3.3.0');
  // Butane reads `mode: 0644` as octal
  assert.deepEqual(cfg.storage.files.map((f) => f.mode), [0o644, 0o644]);
  const bad = path.join(dir, 'bad.ign');
  fs.writeFileSync(bad, '{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/../x"}]}}');
  const b = await ignitionValidate(bad);
  assert.equal(b.ok, false);
  assert.match(b.out, /path is not fully simplified/);
});

test('40ignition-ostree module-setup: first-boot units (the early Ignition start among them), the failure banner, systemd\'s emergency shell forced', () => {
  const r = runModuleSetup(`${PROJECT}/boot/dracut/40ignition-ostree`, { systemdutildir: '/usr/lib/systemd' }, `
echo "depends=$(depends)"
install
installkernel
cat "$initdir/usr/lib/systemd/system/emergency.service.d/ignition-ostree.conf"
`);
  assert.equal(r.status, 0, r.out + r.err);
  const out = r.out;
  assert.match(out, /^depends=ignition ostree systemd$/m);
  for (const u of ['ignition-ostree-populate-var', 'ignition-ostree-presets', 'ignition-ostree-preload']) {
    assert.match(out, new RegExp(`^ln_r /usr/lib/systemd/system/${u}\\.service /usr/lib/systemd/system/ignition-complete\\.target\\.requires/${u}\\.service$`, 'm'), u);
  }
  assert.match(out, /^ln_r \/usr\/lib\/systemd\/system\/ignition-ostree-show-failure\.service \/usr\/lib\/systemd\/system\/emergency\.target\.wants\//m);
  assert.match(out, /^inst_multiple \/usr\/lib\/systemd\/system\/emergency\.service \/usr\/lib\/systemd\/systemd-sulogin-shell sulogin$/m);
  assert.match(out, /^\[Service\]\nEnvironment=SYSTEMD_SULOGIN_FORCE=1$/m);
  assert.match(out, /^instmods qemu_fw_cfg$/m);
  const preload = fs.readFileSync(path.join(PROJECT, 'boot/dracut/40ignition-ostree/ignition-ostree-preload.service'), 'utf8');
  assert.match(preload, /^Before=ignition-fetch-offline\.service$/m);
  assert.match(preload, /^DefaultDependencies=no$/m);
  assert.match(preload, /^ExecStart=\/usr\/bin\/ignition -version$/m);
});
