/**
 * src/cli/args.ts: argument values are accepted only in their documented form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDateArg, parseDeploymentIndex, parseIntArg, parseTimestamp, splitConfigKey, splitKeyValue } from '../../src/cli/args.js';

test('parseDeploymentIndex: plain decimal digits only, never "deployment 0" for garbage', () => {
  assert.equal(parseDeploymentIndex('0'), 0);
  assert.equal(parseDeploymentIndex('1'), 1);
  assert.equal(parseDeploymentIndex('12'), 12);
  assert.equal(parseDeploymentIndex('007'), 7);
  assert.equal(parseDeploymentIndex('2147483647'), 2147483647);
  for (const bad of ['abc', '1.5', ' 1', '1 ', '0x1', '+1', '-1', '', '1e3', '١', '１', '0b1', 'Infinity', '1_000', '\n1']) {
    assert.throws(() => parseDeploymentIndex(bad), /^OstreeError: Invalid index: /, JSON.stringify(bad));
  }
  assert.throws(() => parseDeploymentIndex(''), /Invalid index: ''/);
  assert.throws(() => parseDeploymentIndex(' 1'), /Invalid index: ' 1'/);
  assert.throws(() => parseDeploymentIndex('2147483648'), /Index too large: 2147483648/);
  assert.throws(() => parseDeploymentIndex('99999999999999999999999'), /Index too large/);
});

test('parseIntArg: signed decimal integers (GLib accepts surrounding blanks), nothing else', () => {
  assert.equal(parseIntArg('--depth', '-1'), -1);
  assert.equal(parseIntArg('--depth', '10'), 10);
  assert.equal(parseIntArg('--depth', ' 1'), 1);
  for (const bad of ['x', '1.5', '0x10', '', '--1', '+-1']) assert.throws(() => parseIntArg('--depth', bad), /Cannot parse integer value '.*' for --depth/, bad);
  assert.throws(() => parseIntArg('--depth', '99999999999999999999'), /out of range/);
});

test('splitKeyValue and splitConfigKey', () => {
  assert.deepEqual(splitKeyValue('a=b=c', '--set'), ['a', 'b=c']);
  assert.deepEqual(splitKeyValue('a=', '--set'), ['a', '']);
  assert.throws(() => splitKeyValue('=b', '--set'), /Missing '=' in KEY=VALUE for --set: '=b'/);
  assert.throws(() => splitKeyValue('ab', '--set'), /Missing '='/);
  assert.deepEqual(splitConfigKey('core.mode'), ['core', 'mode']);
  assert.deepEqual(splitConfigKey('remote "x.y".url'), ['remote "x', 'y".url']);
  for (const bad of ['core', '.mode', 'core.']) assert.throws(() => splitConfigKey(bad), /sectionname\.keyname/);
});

test('parseTimestamp and parseDateArg', () => {
  assert.equal(parseTimestamp('@100'), 100n);
  assert.equal(parseTimestamp('100'), 100n);
  assert.equal(parseTimestamp('2021-06-01T12:00:00Z'), 1622548800n);
  assert.throws(() => parseTimestamp('yesterday-ish'), /Could not parse 'yesterday-ish'/);
  assert.equal(parseDateArg('2 days ago', 1_000_000_000_000), 1_000_000_000_000 - 2 * 86400 * 1000);
  assert.equal(parseDateArg('2021-06-01T12:00:00Z'), 1622548800000);
  assert.equal(parseDateArg('soon'), null);
});
