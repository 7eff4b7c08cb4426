#!/usr/bin/env node
/**
 * Records what upstream Butane does with a corpus of configs, for upstream.test.ts:
 *
 *   BUTANE_UPSTREAM=/path/to/butane node test/butane/upstream/record.mjs
 *
 * writes test/butane/upstream/recorded.json: for each case its input, upstream's exit status,
 * stdout and stderr, run with `-d test/butane/fixtures/files`. build-upstream.sh builds that
 * binary (v0.19.0, the newest tag Debian 12's Go 1.19 builds) from source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', 'fixtures');
const bin = process.env.BUTANE_UPSTREAM;
if (!bin) throw new Error('set BUTANE_UPSTREAM to the upstream butane binary');

const all = fs.readFileSync(path.join(fixtures, 'all-features.bu'), 'utf8');
const bu = (v, body) => `variant: fcos\nversion: ${v}\n${body}`;
const cases = {};
for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0']) {
  const add = (name, body) => (cases[`${name}-${v}`] = bu(v, body));
  cases[`all-features-${v}`] = all.replace('version: 1.0.0', `version: ${v}`);
  add('modes', 'storage:\n  files:\n    - path: /a\n      mode: 0644\n    - path: /b\n      mode: 0o755\n    - path: /c\n      mode: 0x1ed\n    - path: /d\n      mode: 420\n    - path: /e\n      mode: 0648\n    - path: /f\n      mode: 4.7\n    - path: /g\n      mode: 1_0\n  directories:\n    - path: /h\n      mode: 755\n');
  add('bools', 'systemd:\n  units:\n    - name: a.service\n      enabled: yes\n    - name: b.service\n      enabled: "on"\n    - name: c.service\n      mask: Off\n    - name: d.service\n      enabled: TRUE\n');
  add('strings', 'passwd:\n  users:\n    - name: 0644\n      shell: yes\n      gecos: 1.50\n      home_dir: ~\n');
  add('text', 'storage:\n  files:\n    - path: /t\n      contents:\n        inline: "h\\u00e9llo w\\u00f6rld <&> \\t tab\\n"\n    - path: /u\n      contents:\n        inline: ' + 'abcabcabc'.repeat(30) + '\n    - path: /v\n      contents:\n        compression: gzip\n        inline: ' + 'z'.repeat(62) + '\n    - path: /w\n      contents: {}\n    - path: /x\n      contents: {compression: ""}\n');
  add('links', 'storage:\n  links:\n    - path: /l\n      target: /t\n    - path: /m\n      hard: true\n      target: /t\n      user: {id: 0}\n');
  add('nulls', 'storage:\n  files:\n    - path: /f\n      mode: ~\n      overwrite: null\n      contents:\n  directories:\n    - path: /d\n      user: {name: ""}\n');
  add('unit', 'systemd:\n  units:\n    - name: a.service\n      enabled: true\n      contents: "[Service]\\nExecStart=/bin/true\\n"\n    - name: b.service\n      contents: "garbage before\\n[Unit]\\nDescription=x \\\\\\n  continued\\n# c\\n"\n');
  add('local', 'storage:\n  files:\n    - path: /a\n      contents: {local: motd}\n    - path: /b\n      contents: {local: random.bin}\n    - path: /c\n      contents: {local: big.txt}\n    - path: /d\n      append: [{local: /motd}]\n');
  add('v15-keys', 'passwd:\n  users:\n    - name: core\n      ssh_authorized_keys: [ssh-ed25519 CCCC zero]\n      ssh_authorized_keys_local: [keys]\nsystemd:\n  units:\n    - name: u.service\n      contents_local: u.service\n');
  add('merge', 'storage:\n  files:\n    - &base\n      path: /a\n      mode: 0600\n    - <<: *base\n      path: /b\n');
  add('bad-unknown', 'storage:\n  files:\n    - path: /f\n      mod: 0644\n');
  add('bad-type', 'storage:\n  files:\n    - path: /f\n      mode: "0644"\n');
  add('bad-bool', 'systemd:\n  units:\n    - name: a.service\n      enabled: "true"\n');
  add('bad-path', 'storage:\n  files:\n    - path: etc/x\n    - path: /a/../b\n');
  add('bad-unitname', 'systemd:\n  units:\n    - name: a.servic\n      dropins: [{name: x.txt}]\n');
  add('bad-unitsyntax', 'systemd:\n  units:\n    - name: a.service\n      contents: "[Service]\\nExecStart\\n"\n');
  add('bad-unitsection', 'systemd:\n  units:\n    - name: a.service\n      contents: "[Service\\n"\n');
  add('bad-dup', 'storage:\n  files:\n    - path: /a\n  links:\n    - path: /a\n      target: /b\n');
  add('bad-escape', 'storage:\n  files:\n    - path: /a\n      contents: {local: ../all-features.bu}\n');
  add('bad-overwrite', 'storage:\n  files:\n    - path: /a\n      overwrite: true\n');
  add('bad-gs-scheme', 'storage:\n  files:\n    - path: /a\n      contents: {source: "gs://b/o"}\n');
  add('bad-hash', 'storage:\n  files:\n    - path: /a\n      contents: {source: "https://x/y", verification: {hash: sha256-00}}\n');
  add('bad-link-target', 'storage:\n  links:\n    - path: /l\n');
  add('bad-unit-path-conflict', 'storage:\n  files:\n    - path: /etc/systemd/system/a.service\nsystemd:\n  units:\n    - name: a.service\n      contents: "[Unit]\\n"\n');
  add('bools-more', 'systemd:\n  units:\n    - name: a.service\n      enabled: y\n    - name: b.service\n      enabled: N\n    - name: c.service\n      mask: "off"\n');
  add('bad-bool-number', 'systemd:\n  units:\n    - name: a.service\n      enabled: 1\n');
  add('bad-int-word', 'passwd:\n  users:\n    - name: a\n      uid: lots\n');
  add('bad-list', 'storage:\n  files: {path: /f}\n');
  add('bad-map', 'storage:\n  files:\n    - path: /f\n      user: core\n');
  add('unit-edge', 'systemd:\n  units:\n    - name: a.service\n      contents: "# only a comment \\\\\\n  continued\\n[Unit]\\nA = b\\n; c\\n\\n[Install]\\nWantedBy=x\\n"\n      enabled: true\n');
  add('bad-unit-eof', 'systemd:\n  units:\n    - name: a.service\n      contents: "[Unit]\\nDescription"\n');
  add('bad-unit-garbage', 'systemd:\n  units:\n    - name: a.service\n      contents: "[Unit] x\\n"\n');
  add('bad-unit-long', `systemd:\n  units:\n    - name: a.service\n      contents: "[Unit]\\nDescription=${'d'.repeat(2100)}\\n"\n`);
  add('bad-dropin-syntax', 'systemd:\n  units:\n    - name: a.service\n      dropins:\n        - name: a.conf\n          contents: "[Service\\n"\n');
  add('bad-dups', 'passwd:\n  users: [{name: a}, {name: a}]\n  groups: [{name: g}, {name: g}]\nsystemd:\n  units:\n    - name: a.service\n      dropins: [{name: a.conf}, {name: a.conf}]\n');
  add('bad-id-and-name', 'storage:\n  directories:\n    - path: /d\n      group: {id: 1, name: g}\n');
  add('bad-under-link', 'storage:\n  links:\n    - path: /l\n      target: /t\n    - path: /l/m\n      target: /t\n  directories:\n    - path: /l/d\n  files:\n    - path: /l/f\n');
  add('bad-hardlink-dir', 'storage:\n  directories:\n    - path: /d\n  links:\n    - path: /h\n      hard: true\n      target: /d\n');
  add('bad-hash-size', `storage:\n  files:\n    - path: /a\n      contents: {source: "https://x/y", verification: {hash: sha512-${'a'.repeat(10)}}}\n`);
  add('bad-hash-form', 'storage:\n  files:\n    - path: /a\n      contents: {source: "https://x/y", verification: {hash: abc}}\n');
  add('bad-verification-no-source', `storage:\n  files:\n    - path: /a\n      contents: {verification: {hash: sha512-${'a'.repeat(128)}}}\n`);
  add('bad-compression', 'storage:\n  files:\n    - path: /a\n      contents: {compression: xz, source: "https://x/y"}\n');
  add('bad-mode-range', 'storage:\n  files:\n    - path: /a\n      mode: 0100000\n');
  add('empty-name', 'systemd:\n  units:\n    - name: ""\n');
  add('bad-two-sources', 'storage:\n  files:\n    - path: /a\n      contents: {inline: x, source: "https://x/y"}\n');
}
cases['fcos-walkthrough'] = fs.readFileSync(path.join(fixtures, 'fcos-walkthrough.bu'), 'utf8');

const recorded = Object.entries(cases).map(([name, input]) => {
  const r = spawnSync(bin, ['-d', path.join(fixtures, 'files')], { input, encoding: 'utf8' });
  return { name, input, status: r.status, stdout: r.stdout, stderr: r.stderr };
});
const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
fs.writeFileSync(path.join(here, 'recorded.json'), `${JSON.stringify({ upstream: version, cases: recorded }, null, 1)}\n`);
console.log(`${recorded.length} cases recorded from ${version}`);
