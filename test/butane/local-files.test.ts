/**
 * `local:` sources and fcos 1.5's contents_local / ssh_authorized_keys_local: read under
 * --files-dir only; `..`, symlinks out of it and non-regular files are refused.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from '../common/tmp.js';
import { bu, dataUrlBytes, errorAt, ok, refused } from './helpers.js';

let root: string;
let filesDir: string;
const RANDOM = Buffer.from('c09c6c018969a5bf57e41bf44a5fb73950a323a7', 'hex');

before(() => {
  root = tempDir('butane-local-');
  filesDir = path.join(root, 'files');
  fs.mkdirSync(path.join(filesDir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(filesDir, 'motd'), 'file contents\n');
  fs.writeFileSync(path.join(filesDir, 'random.bin'), RANDOM);
  fs.writeFileSync(path.join(filesDir, 'sub', 'etc-file'), 'under sub\n');
  fs.writeFileSync(path.join(filesDir, 'keys'), 'ssh-ed25519 AAAA one\r\n\nssh-rsa BBBB two\n');
  fs.writeFileSync(path.join(filesDir, 'hello.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n');
  fs.writeFileSync(path.join(root, 'secret'), 'outside\n');
  fs.symlinkSync('../secret', path.join(filesDir, 'escape'));
  fs.symlinkSync('motd', path.join(filesDir, 'inside-link'));
  execFileSync('mkfifo', [path.join(filesDir, 'fifo')]);
});

const fileWith = (local: string, version = '1.4.0') => bu(version, `storage:\n  files:\n    - path: /f\n      contents:\n        local: ${local}\n`);
type Contents = { compression?: string; source: string };
const contentsOf = (text: string) => (ok(text, { filesDir }).config.storage as { files: { contents: Contents }[] }).files[0]!.contents;

test('a local file becomes a data URL of its bytes', () => {
  assert.deepEqual(contentsOf(fileWith('motd')), { compression: '', source: 'data:,file%20contents%0A' });
  assert.deepEqual(contentsOf(fileWith('sub/etc-file')), { compression: '', source: 'data:,under%20sub%0A' });
});

test('binary contents are base64 when that is shorter', () => {
  const c = contentsOf(fileWith('random.bin'));
  assert.deepEqual(c, { compression: '', source: `data:;base64,${RANDOM.toString('base64')}` });
  assert.deepEqual(dataUrlBytes(c.source), RANDOM);
});

test('a symlink that stays inside the files directory is followed', () => {
  assert.equal(contentsOf(fileWith('inside-link')).source, 'data:,file%20contents%0A');
});

test('an absolute name is joined under the files directory (as Butane does), never read from the host', () => {
  fs.mkdirSync(path.join(filesDir, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(filesDir, 'etc', 'passwd'), 'not the host one\n');
  assert.equal(contentsOf(fileWith('/etc/passwd')).source, 'data:,not%20the%20host%20one%0A');
});

test('without --files-dir a local source is refused', () => {
  assert.match(errorAt(refused(fileWith('motd')), 'storage.files.0.contents.local').message, /must be specified with -d\/--files-dir/);
});

test('../ out of the files directory is refused', () => {
  assert.match(errorAt(refused(fileWith('../secret'), { filesDir }), 'storage.files.0.contents.local').message, /traverses outside the files directory/);
  assert.match(errorAt(refused(fileWith('sub/../../secret'), { filesDir }), 'storage.files.0.contents.local').message, /traverses outside/);
});

test('a symlink that leads out of the files directory is refused', () => {
  assert.match(errorAt(refused(fileWith('escape'), { filesDir }), 'storage.files.0.contents.local').message, /outside the files directory/);
});

test('a FIFO is refused instead of blocking the read; a missing file names itself', () => {
  assert.match(errorAt(refused(fileWith('fifo'), { filesDir }), 'storage.files.0.contents.local').message, /not a regular file/);
  assert.match(errorAt(refused(fileWith('nope'), { filesDir }), 'storage.files.0.contents.local').message, /cannot read local file "nope"/);
});

test('local and inline together are refused', () => {
  const text = bu('1.4.0', 'storage:\n  files:\n    - path: /f\n      contents:\n        local: motd\n        inline: x\n');
  assert.match(errorAt(refused(text, { filesDir }), 'storage.files.0.contents.inline').message, /only one of the following can be set: inline, local, source/);
});

test('local came with fcos 1.1.0: refused in 1.0.0', () => {
  assert.match(errorAt(refused(fileWith('motd', '1.0.0'), { filesDir }), 'storage.files.0.contents.local').message, /unknown key \(available from fcos 1\.1\.0\)/);
});

test('fcos 1.5.0: contents_local for units and drop-ins, ssh_authorized_keys_local (one key per non-empty line)', () => {
  const text = bu(
    '1.5.0',
    'passwd:\n  users:\n    - name: core\n      ssh_authorized_keys: [ssh-ed25519 CCCC zero]\n      ssh_authorized_keys_local: [keys]\nsystemd:\n  units:\n    - name: hello.service\n      enabled: true\n      contents_local: hello.service\n      dropins:\n        - name: a.conf\n          contents_local: motd\n',
  );
  const c = ok(text, { filesDir }).config;
  assert.deepEqual((c.passwd as { users: unknown[] }).users[0], { name: 'core', sshAuthorizedKeys: ['ssh-ed25519 CCCC zero', 'ssh-ed25519 AAAA one', 'ssh-rsa BBBB two'] });
  assert.deepEqual((c.systemd as { units: unknown[] }).units[0], {
    contents: '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n',
    dropins: [{ contents: 'file contents\n', name: 'a.conf' }],
    enabled: true,
    name: 'hello.service',
  });
});

test('fcos 1.5.0 local keys obey the same rules; the 1.5 keys are refused in 1.4.0', () => {
  const keys = bu('1.5.0', 'passwd:\n  users:\n    - name: core\n      ssh_authorized_keys_local: [../secret]\n');
  assert.match(errorAt(refused(keys, { filesDir }), 'passwd.users.0.ssh_authorized_keys_local.0').message, /traverses outside/);
  const both = bu('1.5.0', 'systemd:\n  units:\n    - name: a.service\n      contents: x\n      contents_local: motd\n');
  assert.match(errorAt(refused(both, { filesDir }), 'systemd.units.0.contents_local').message, /only one of the following can be set: contents, contents_local/);
  const old = bu('1.4.0', 'systemd:\n  units:\n    - name: a.service\n      contents_local: hello.service\n');
  assert.match(errorAt(refused(old, { filesDir }), 'systemd.units.0.contents_local').message, /available from fcos 1\.5\.0/);
});
