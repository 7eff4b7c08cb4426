/** GVariant text (src/glib/gvariant-text.ts): what command lines pass, GLib's defaults, bounds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OstreeError } from '../../src/errors.js';
import { printVariant, serialize, Variant } from '../../src/glib/gvariant.js';
import { parseVariantText } from '../../src/glib/gvariant-text.js';

const isEinval = (e: unknown): boolean => e instanceof OstreeError && e.code === 'EINVAL' && /^Error parsing variant/.test(e.message);

function typed(text: string): [string, string] {
  const v = parseVariantText(text);
  return [v.type, printVariant(v.type, v.value, true)];
}

test('basic values get GLib\'s default types', () => {
  assert.deepEqual(typed("'value'"), ['s', "'value'"]);
  assert.deepEqual(typed('"it\'s"'), ['s', '"it\'s"']);
  assert.deepEqual(typed('true'), ['b', 'true']);
  assert.deepEqual(typed('42'), ['i', '42']);
  assert.deepEqual(typed('-7'), ['i', '-7']);
  assert.deepEqual(typed('0x10'), ['i', '16']);
  assert.deepEqual(typed('1.5'), ['d', '1.5']);
  assert.deepEqual(typed("b'ab'"), ['ay', "b'ab'"]);
});

test('annotations and keywords choose the type', () => {
  assert.deepEqual(parseVariantText('@t 123'), new Variant('t', 123n));
  assert.deepEqual(parseVariantText('uint64 18446744073709551615'), new Variant('t', 2n ** 64n - 1n));
  assert.deepEqual(parseVariantText('byte 0xff'), new Variant('y', 255));
  assert.deepEqual(parseVariantText("objectpath '/a/b'"), new Variant('o', '/a/b'));
  assert.deepEqual(parseVariantText('@a{sv} {}'), new Variant('a{sv}', []));
  assert.deepEqual(parseVariantText('@as []'), new Variant('as', []));
  assert.deepEqual(parseVariantText('@ms nothing'), new Variant('ms', null));
});

test('containers: arrays, tuples, dicts, entries, variants', () => {
  assert.deepEqual(parseVariantText("['a', 'b']"), new Variant('as', ['a', 'b']));
  assert.deepEqual(parseVariantText("(1, 'x', true)"), new Variant('(isb)', [1, 'x', true]));
  assert.deepEqual(parseVariantText('(5,)'), new Variant('(i)', [5]));
  assert.deepEqual(parseVariantText("{'k': <1>, 'l': <'s'>}"), new Variant('a{sv}', [['k', new Variant('i', 1)], ['l', new Variant('s', 's')]]));
  assert.deepEqual(parseVariantText("{'k', 2}"), new Variant('{si}', ['k', 2]));
  assert.deepEqual(parseVariantText('[[1], [2, 3]]'), new Variant('aai', [[1], [2, 3]]));
  assert.deepEqual(parseVariantText('[@t 1, 2]'), new Variant('at', [1n, 2n]));
  // the parsed value serializes as its type
  const v = parseVariantText("{'a': <@a{sv} {}>}");
  assert.ok(serialize(v.type, v.value).length > 0);
});

test('string escapes as GLib reads them', () => {
  assert.equal(parseVariantText("'a\\nb\\tc\\\\d\\'e'").value, "a\nb\tc\\d'e");
  assert.equal(parseVariantText("'\\u00e9\\U0001F600'").value, 'é😀');
});

test('bad text is EINVAL naming the text: syntax, ranges, types it cannot infer', () => {
  for (const bad of ['', "'open", '[1, 2', '(1)', '@t -1', '@y 256', 'int32 2147483648', '[]', 'nothing', '{1: 2, 3}', 'foo', "1 'x'", '@q', '[1, \'a\']', '<>']) {
    assert.throws(() => parseVariantText(bad), isEinval, JSON.stringify(bad));
  }
});

test('nesting is bounded (GLib\'s 128 levels), without exhausting the stack', () => {
  assert.throws(() => parseVariantText('['.repeat(100000) + ']'.repeat(100000)), isEinval);
  assert.throws(() => parseVariantText('<'.repeat(200) + '1' + '>'.repeat(200)), isEinval);
  assert.equal(parseVariantText('<'.repeat(50) + '1' + '>'.repeat(50)).type, 'v');
});
