/**
 * Our translator against upstream Butane's recorded behaviour (upstream/recorded.json, made by
 * upstream/record.mjs with Butane v0.19.0 built from source): for every case the same exit
 * status and the same JSON (gzip payloads compared decompressed: zlib and Go's compressor write
 * different bytes), errors and warnings at the same paths, lines and columns with the same
 * messages. Where this
 * project differs on purpose it is checked as such: upstream only warns `Unused key` (and goes
 * on); we refuse the same keys at the same paths. Not compared: upstream's warning about its
 * own context tree, and the special-bits mode warning whose wording and spec cut-off changed
 * after v0.19.0 (we follow upstream's current Ignition).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runButane } from '../../src/butane/cli.js';
import { FIXTURES } from './helpers.js';

interface Recorded {
  name: string;
  input: string;
  status: number;
  stdout: string;
  stderr: string;
}
const recordedFile = path.join(FIXTURES, '..', 'upstream', 'recorded.json');
const { upstream, cases } = JSON.parse(fs.readFileSync(recordedFile, 'utf8')) as { upstream: string; cases: Recorded[] };

function ours(input: string) {
  let stdout = '';
  let stderr = '';
  const status = runButane(['-d', path.join(FIXTURES, 'files')], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), readStdin: () => input });
  return { status, stdout, stderr };
}

const gunzipped = (json: string) =>
  json.replace(/"compression":"gzip","source":"data:;base64,([^"]*)"/g, (_, b64: string) => `"compression":"gzip","decompressed":${JSON.stringify(gunzipSync(Buffer.from(b64, 'base64')).toString('latin1'))}`);

const IGNORED = /context tree does not match|setuid\/setgid\/sticky/;

/** `severity path@line:col: message` from upstream's `warning at $.a.b, line 1 col 2: message`. */
function upstreamDiagnostics(stderr: string): string[] {
  return [...stderr.matchAll(/^(error|warning) at \$\.?([^,]*), line (\d+) col (\d+): (.*)$/gm)]
    .filter((m) => !IGNORED.test(m[5]!))
    .map((m) => `${m[1]} ${m[2]}@${m[3]}:${m[4]}: ${m[5]}`)
    .sort();
}

/** The same from ours: `<stdin>:1:2: warning: a.b: message`. */
function ourDiagnostics(stderr: string): string[] {
  return [...stderr.matchAll(/^<stdin>:(\d+):(\d+): (error|warning): (\S*): (.*)$/gm)]
    .filter((m) => !IGNORED.test(m[5]!))
    .map((m) => `${m[3]} ${m[4]}@${m[1]}:${m[2]}: ${m[5]}`)
    .sort();
}

test(`the recording is upstream's (${upstream}) and covers every fcos version`, () => {
  assert.match(upstream, /^Butane v\d/);
  for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0']) assert.ok(cases.some((c) => c.name === `all-features-${v}` && c.status === 0));
});

for (const c of cases) {
  test(`upstream case ${c.name}`, () => {
    const us = ours(c.input);
    const up = upstreamDiagnostics(c.stderr);
    const unused = up.filter((d) => /^warning .*: Unused key /.test(d));
    const mergeKeys = unused.filter((d) => /\.<<@\d+:\d+: Unused key <<$/.test(d));
    const unknown = unused.filter((d) => !mergeKeys.includes(d));
    if (unknown.length > 0) {
      // upstream warns and drops the key; we refuse it at the same path
      assert.equal(c.status, 0);
      assert.equal(us.status, 1, us.stderr);
      assert.deepEqual(
        ourDiagnostics(us.stderr).filter((d) => d.startsWith('error')).map((d) => d.replace(/: unknown key.*$/, '')),
        unknown.map((d) => d.replace(/^warning (.*): Unused key .*$/, 'error $1')).sort(),
      );
      return;
    }
    assert.equal(us.status, c.status, `exit status; ours said:\n${us.stderr}`);
    assert.equal(gunzipped(us.stdout), gunzipped(c.stdout));
    if (c.status === 0 || up.length > 0) {
      // `<<` is a merge key upstream also follows; its Unused-key warning is an artefact
      assert.deepEqual(ourDiagnostics(us.stderr), up.filter((d) => !mergeKeys.includes(d)));
      return;
    }
    // a YAML type error: upstream names the line
    const line = /line (\d+): cannot unmarshal/.exec(c.stderr)?.[1];
    assert.ok(line, `unexpected upstream failure:\n${c.stderr}`);
    assert.match(us.stderr, new RegExp(`^<stdin>:${line}:\\d+: error: `, 'm'));
  });
}
