/**
 * Butane → Ignition mappings, one test per mapping, compared with the JSON upstream Butane
 * writes for the same input (key order and all, as Go's encoder writes Ignition's types).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toIgnitionJson } from '../../src/butane/json.js';
import { bu, dataUrlBytes, errorAt, FIXTURES, ok, refused } from './helpers.js';

const json = (text: string, options = {}) => toIgnitionJson(ok(text, options).config, false);
type Files = { files: { path: string; contents: { compression?: string; source: string } }[] };
const files = (text: string, options = {}) => (ok(text, options).config.storage as Files).files;

test('each fcos version gives its Ignition spec version (1.2.0 and 1.3.0 both 3.2.0)', () => {
  const expected: Record<string, string> = { '1.0.0': '3.0.0', '1.1.0': '3.1.0', '1.2.0': '3.2.0', '1.3.0': '3.2.0', '1.4.0': '3.3.0', '1.5.0': '3.4.0' };
  for (const [fcos, spec] of Object.entries(expected)) {
    assert.equal(json(bu(fcos)), `{"ignition":{"version":"${spec}"}}`);
  }
});

test('the FCOS walkthrough config gives the expected Ignition config', () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'fcos-walkthrough.bu'), 'utf8');
  const expected = fs.readFileSync(path.join(FIXTURES, 'fcos-walkthrough.ign'), 'utf8').trim();
  assert.equal(json(text), expected);
});

test('passwd users: every key, snake_case to camelCase, in Ignition key order', () => {
  const yaml = [
    'passwd:',
    '  users:',
    '    - name: core',
    '      uid: 1001',
    '      system: false',
    '      shell: /bin/bash',
    '      ssh_authorized_keys: [ssh-ed25519 AAAA k1, ssh-rsa BBBB k2]',
    '      should_exist: true',
    '      primary_group: core',
    '      password_hash: $y$j9T$abc',
    '      no_user_group: true',
    '      no_log_init: true',
    '      no_create_home: false',
    '      home_dir: /var/home/core',
    '      groups: [sudo, wheel]',
    '      gecos: CoreOS Admin',
    '',
  ].join('\n');
  assert.equal(
    json(bu('1.4.0', yaml)),
    '{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"gecos":"CoreOS Admin","groups":["sudo","wheel"],"homeDir":"/var/home/core","name":"core",' +
      '"noCreateHome":false,"noLogInit":true,"noUserGroup":true,"passwordHash":"$y$j9T$abc","primaryGroup":"core",' +
      '"sshAuthorizedKeys":["ssh-ed25519 AAAA k1","ssh-rsa BBBB k2"],"shell":"/bin/bash","shouldExist":true,"system":false,"uid":1001}]}}',
  );
});

test('passwd groups', () => {
  assert.equal(
    json(bu('1.2.0', 'passwd:\n  groups:\n    - name: ops\n      system: true\n      gid: 990\n      password_hash: "*"\n      should_exist: true\n')),
    '{"ignition":{"version":"3.2.0"},"passwd":{"groups":[{"gid":990,"name":"ops","passwordHash":"*","shouldExist":true,"system":true}]}}',
  );
});

test('should_exist came with fcos 1.2.0: refused in 1.1.0 with a hint', () => {
  const d = errorAt(refused(bu('1.1.0', 'passwd:\n  users:\n    - name: a\n      should_exist: false\n')), 'passwd.users.0.should_exist');
  assert.match(d.message, /unknown key \(available from fcos 1\.2\.0\)/);
});

test('files: inline contents in fcos 1.0.0 are a percent-escaped data URL without a compression key', () => {
  assert.equal(
    json(bu('1.0.0', 'storage:\n  files:\n    - path: /etc/motd\n      mode: 0644\n      overwrite: true\n      contents:\n        inline: "Hello, world!\\n"\n')),
    '{"ignition":{"version":"3.0.0"},"storage":{"files":[{"overwrite":true,"path":"/etc/motd","contents":{"source":"data:,Hello%2C%20world!%0A"},"mode":420}]}}',
  );
});

test('files: from fcos 1.1.0 short text stays percent-escaped, with compression "" written', () => {
  assert.equal(
    json(bu('1.1.0', 'storage:\n  files:\n    - path: /etc/hostname\n      mode: 0644\n      contents:\n        inline: myhostname\n')),
    '{"ignition":{"version":"3.1.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"compression":"","source":"data:,myhostname"},"mode":420}]}}',
  );
});

test('files: compressible contents are gzipped when that is shorter, and decompress to the input', () => {
  const text = 'z'.repeat(151);
  const [f] = files(bu('1.4.0', `storage:\n  files:\n    - path: /z\n      contents:\n        inline: ${text}\n`));
  assert.equal(f!.contents.compression, 'gzip');
  assert.match(f!.contents.source, /^data:;base64,H4sI/);
  assert.equal(dataUrlBytes(f!.contents.source, 'gzip').toString(), text);
});

test('files: a compression the user set is kept and the contents are not compressed again', () => {
  const [f] = files(bu('1.4.0', `storage:\n  files:\n    - path: /z\n      contents:\n        compression: gzip\n        inline: ${'z'.repeat(151)}\n`));
  assert.equal(f!.contents.compression, 'gzip');
  assert.equal(f!.contents.source, `data:,${'z'.repeat(151)}`);
});

test('files: source URLs, verification, append and owners pass through', () => {
  const yaml = [
    'storage:',
    '  files:',
    '    - path: /opt/tool',
    '      user: {id: 1000}',
    '      group: {name: core}',
    '      contents:',
    '        source: https://example.com/tool',
    `        verification: {hash: sha512-${'a'.repeat(128)}}`,
    '        http_headers: [{name: X-Token, value: t}]',
    '      append:',
    '        - inline: more',
    '',
  ].join('\n');
  assert.equal(
    json(bu('1.1.0', yaml)),
    '{"ignition":{"version":"3.1.0"},"storage":{"files":[{"group":{"name":"core"},"path":"/opt/tool","user":{"id":1000},' +
      '"append":[{"compression":"","source":"data:,more"}],' +
      `"contents":{"httpHeaders":[{"name":"X-Token","value":"t"}],"source":"https://example.com/tool","verification":{"hash":"sha512-${'a'.repeat(128)}"}}}]}}`,
  );
});

test('directories and links (symbolic and hard)', () => {
  const yaml = 'storage:\n  directories:\n    - path: /var/lib/app\n      mode: 0750\n      user: {name: core}\n  links:\n    - path: /etc/localtime\n      target: ../usr/share/zoneinfo/UTC\n      overwrite: true\n    - path: /var/hard\n      target: /var/lib/x\n      hard: true\n';
  assert.equal(
    json(bu('1.4.0', yaml)),
    '{"ignition":{"version":"3.3.0"},"storage":{"directories":[{"path":"/var/lib/app","user":{"name":"core"},"mode":488}],' +
      '"links":[{"overwrite":true,"path":"/etc/localtime","target":"../usr/share/zoneinfo/UTC"},{"path":"/var/hard","hard":true,"target":"/var/lib/x"}]}}',
  );
});

test('links: before spec 3.3.0 the target is always written; from fcos 1.4.0 a missing target is an error', () => {
  assert.equal(json(bu('1.2.0', 'storage:\n  links:\n    - path: /l\n')), '{"ignition":{"version":"3.2.0"},"storage":{"links":[{"path":"/l","target":""}]}}');
  assert.equal(errorAt(refused(bu('1.4.0', 'storage:\n  links:\n    - path: /l\n')), 'storage.links.0.target').message, 'link target is required');
});

test('systemd units: contents, enabled, mask, drop-ins', () => {
  const yaml = 'systemd:\n  units:\n    - name: docker.service\n      mask: true\n    - name: app.service\n      enabled: false\n      dropins:\n        - name: 10-env.conf\n          contents: "[Service]\\nEnvironment=A=1\\n"\n';
  assert.equal(
    json(bu('1.0.0', yaml)),
    '{"ignition":{"version":"3.0.0"},"systemd":{"units":[{"mask":true,"name":"docker.service"},' +
      '{"dropins":[{"contents":"[Service]\\nEnvironment=A=1\\n","name":"10-env.conf"}],"enabled":false,"name":"app.service"}]}}',
  );
});

test('JSON escapes <, > and & as Go does', () => {
  const out = json(bu('1.4.0', 'systemd:\n  units:\n    - name: a.service\n      contents: "[Service]\\nExecStart=/bin/sh -c \'a && b > c < d\'\\n"\n'));
  assert.ok(out.includes('a \\u0026\\u0026 b \\u003e c \\u003c d'), out);
});

test('unknown keys are errors naming the path, with line and column', () => {
  const diags = refused(bu('1.4.0', 'storage:\n  files:\n    - path: /f\n      mod: 0644\n'));
  const d = errorAt(diags, 'storage.files.0.mod');
  assert.equal(d.message, 'unknown key');
  assert.deepEqual([d.line, d.column], [6, 7]);
});

test('every error of a document is reported in one run', () => {
  const diags = refused(bu('1.4.0', 'passwd:\n  users:\n    - name: a\n      colour: red\nstorage:\n  files: {path: /f}\nsystemd:\n  units:\n    - name: [a]\n'));
  errorAt(diags, 'passwd.users.0.colour');
  assert.match(errorAt(diags, 'storage.files').message, /expected a list, got a mapping/);
  assert.match(errorAt(diags, 'systemd.units.0.name').message, /expected a string, got a list/);
});

test('a section Butane has and this translator does not is refused by name, not dropped', () => {
  for (const [body, at] of [
    ['storage:\n  disks:\n    - device: /dev/vda\n', 'storage.disks'],
    ['ignition:\n  timeouts:\n    http_total: 5\n', 'ignition'],
    ['kernel_arguments:\n  should_exist: [quiet]\n', 'kernel_arguments'],
  ] as const) {
    assert.match(errorAt(refused(bu('1.4.0', body)), at).message, /this translator does not/);
  }
});

test('variant and version: missing, other variants, unknown and later versions', () => {
  assert.match(errorAt(refused('version: 1.4.0\n'), 'variant').message, /must be specified/);
  assert.match(errorAt(refused('variant: fcos\n'), 'version').message, /must be specified/);
  assert.match(errorAt(refused('variant: openshift\nversion: 4.14.0\n'), 'variant').message, /fcos only/);
  assert.match(errorAt(refused(bu('1.6.0')), 'version').message, /Butane has fcos 1\.6\.0 but this translator supports 1\.0\.0 to 1\.5\.0/);
  assert.match(errorAt(refused(bu('2.0.0')), 'version').message, /no translator exists/);
  assert.match(errorAt(refused('- a\n- b\n'), '$'.slice(1)).message, /must be a mapping/);
});

test('YAML syntax errors and duplicate keys are refused with their line', () => {
  const bad = refused(bu('1.4.0', 'storage:\n  files:\n    - path: "/f\n'));
  assert.match(bad[0]!.message, /^YAML syntax error/);
  assert.ok(bad[0]!.line !== undefined);
  const dup = refused(bu('1.4.0', 'passwd: {}\npasswd: {}\n'));
  assert.match(dup[0]!.message, /YAML syntax error: .*unique/i);
  assert.equal(dup[0]!.line, 4);
});

test('Ignition checks on the result: paths, unit names, drop-in names, unit syntax', () => {
  const check = (body: string, at: string, message: RegExp) => assert.match(errorAt(refused(bu('1.4.0', body)), at).message, message);
  check('storage:\n  files:\n    - path: etc/x\n', 'storage.files.0.path', /^path not absolute$/);
  check('storage:\n  directories:\n    - path: /a/../b\n', 'storage.directories.0.path', /^path is not fully simplified$/);
  check('storage:\n  files:\n    - path: /a\n    - path: /b\n  links:\n    - path: /a\n      target: /b\n', 'storage.links.0', /^duplicate entry defined$/);
  check('storage:\n  files:\n    - path: /a\n      overwrite: true\n', 'storage.files.0.overwrite', /overwrite must be false/);
  check('storage:\n  files:\n    - path: /a\n      user: {id: 1, name: core}\n', 'storage.files.0.user', /cannot set both id and name/);
  check('storage:\n  files:\n    - path: /a\n      contents: {source: "ftp://x/y"}\n', 'storage.files.0.contents.source', /invalid url scheme/);
  check('storage:\n  files:\n    - path: /a\n      contents: {compression: xz, source: "https://x/y"}\n', 'storage.files.0.contents.compression', /invalid compression/);
  check('storage:\n  files:\n    - path: /a\n      contents: {source: "https://x/y", verification: {hash: md5-00}}\n', 'storage.files.0.contents.verification.hash', /unrecognized hash function/);
  check('storage:\n  files:\n    - path: /a/b\n  links:\n    - path: /a\n      target: /c\n', 'storage.files.0', /file path includes link/);
  check('storage:\n  files:\n    - path: /etc/systemd/system/a.service\nsystemd:\n  units:\n    - name: a.service\n      contents: "[Unit]\\n"\n', 'storage.files.0.path', /conflicts with systemd unit/);
  check('systemd:\n  units:\n    - name: hello.servic\n', 'systemd.units.0.name', /^invalid systemd unit extension$/);
  check('systemd:\n  units:\n    - name: a.service\n      dropins: [{name: x.txt}]\n', 'systemd.units.0.dropins.0.name', /^invalid systemd drop-in extension$/);
  check('systemd:\n  units:\n    - name: a.service\n      contents: "[Service]\\nExecStart\\n"\n', 'systemd.units.0.contents', /^invalid unit content: unexpected newline/);
  check('systemd:\n  units:\n    - name: a.service\n      contents: "[Service\\n"\n', 'systemd.units.0.contents', /^invalid unit content: unable to find end of section$/);
  check('systemd:\n  units:\n    - name: a.service\n    - name: a.service\n', 'systemd.units.1', /^duplicate entry defined$/);
});

test('gs:// sources need spec 3.2.0 (fcos 1.2.0)', () => {
  const body = 'storage:\n  files:\n    - path: /a\n      contents: {source: "gs://bucket/obj"}\n';
  errorAt(refused(bu('1.1.0', body)), 'storage.files.0.contents.source');
  assert.equal(files(bu('1.2.0', body))[0]!.contents.source, 'gs://bucket/obj');
});

test('warnings: a decimal-looking mode, an enabled unit without [Install]; strict makes them errors', () => {
  const body = 'storage:\n  files:\n    - path: /a\n      mode: 400\nsystemd:\n  units:\n    - name: a.service\n      enabled: true\n      contents: "[Service]\\nExecStart=/bin/true\\n"\n';
  const r = ok(bu('1.4.0', body));
  assert.deepEqual(r.warnings.map((w) => `${w.path.join('.')}: ${w.message}`), [
    'storage.files.0.mode: unreasonable mode would be reasonable if specified in octal; remember to add a leading zero',
    'systemd.units.0.contents: unit "a.service" is enabled, but has no install section so enable does nothing',
  ]);
  const strict = refused(bu('1.4.0', body), { strict: true });
  assert.equal(strict.length, 2);
  assert.ok(strict.every((d) => d.severity === 'error'));
});

test('hard links: not to a directory of the config; an owner is ignored (warning), in every spec', () => {
  for (const version of ['1.0.0', '1.4.0']) {
    const toDir = bu(version, 'storage:\n  directories:\n    - path: /d\n  links:\n    - path: /l\n      target: /d\n      hard: true\n');
    assert.equal(errorAt(refused(toDir), 'storage.links.0').message, 'hard link target is a directory');
    const owned = ok(bu(version, 'storage:\n  links:\n    - path: /l\n      target: /f\n      hard: true\n      user: {id: 0}\n'));
    assert.deepEqual(owned.warnings.map((w) => `${w.path.join('.')}: ${w.message}`), ['storage.links.0.user.id: user/group ignored for hard link']);
  }
});
