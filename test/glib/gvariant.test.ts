import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize, printVariant, Variant, isValidType } from '../../src/glib/gvariant.js';
import { OstreeError } from '../../src/errors.js';

const BE = { bigEndian: true };

test('root dirmeta 0:0 040755 without xattrs is the 12 bytes upstream writes', () => {
  const b = serialize('(uuua(ayay))', [0, 0, 0o40755, []], BE);
  assert.equal(b.toString('hex'), '00000000' + '00000000' + '000041ed');
  assert.deepEqual(deserialize('(uuua(ayay))', b, BE), [0, 0, 0o40755, []]);
});

test('file header of a regular file without xattrs is 18 bytes ending in framing offset 0x11', () => {
  const b = serialize('(uuuusa(ayay))', [0, 0, 0o100644, 0, '', []], BE);
  assert.equal(b.length, 18);
  assert.equal(b.toString('hex'), '0000000000000000000081a4000000000011');
});

// a{sv} + tuple framing as written by upstream ostree 2022.7 (commit 867b03c2…, bytes captured from its .commit).
const UPSTREAM_COMMIT_HEX =
  '7a657461000000003100007305000000616c706861000000320000730600000076657273696f6e0033000073080000006f73747265652e7265662d62696e64696e670000000000006d61696e0005006173130d1d2d527375626a00626f640000000000005e0be1008405461ffdae4b4e0b2d88b887d61eb7367aff2ac38e833f3916dc71984b1b8e446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488885f5b565656';

test('an upstream commit object parses and re-serializes byte-identically', () => {
  const data = Buffer.from(UPSTREAM_COMMIT_HEX, 'hex');
  const v = deserialize('(a{sv}aya(say)sstayay)', data, BE) as unknown[];
  const md = v[0] as Array<[string, Variant]>;
  assert.deepEqual(md.map(([k]) => k), ['zeta', 'alpha', 'version', 'ostree.ref-binding']);
  assert.deepEqual(md[3]![1], new Variant('as', ['main']));
  assert.equal(v[3], 'subj');
  assert.equal(v[4], 'bod');
  assert.equal(v[5], 1577836800n);
  assert.deepEqual(serialize('(a{sv}aya(say)sstayay)', v, BE), data);
});

test('round trips across container shapes and offset sizes', () => {
  const cases: Array<[string, unknown]> = [
    ['s', ''], ['s', 'héllo'], ['b', true], ['y', 255], ['n', -2], ['q', 65535], ['i', -5], ['u', 4294967295],
    ['x', -(2n ** 63n)], ['t', 2n ** 64n - 1n], ['d', 1.5], ['o', '/a/b'], ['g', 'a{sv}'],
    ['as', []], ['as', ['a', '', 'ccc']], ['ay', Buffer.from([1, 2, 3])], ['au', [1, 2, 3]],
    ['(ssu)', ['a', 'bb', 3]], ['(uy)', [1, 2]], ['()', []], ['a()', [[], []]],
    ['ms', null], ['ms', 'x'], ['mu', null], ['mu', 7], ['mas', ['q']],
    ['v', new Variant('(su)', ['x', 1])], ['av', [new Variant('s', 'a'), new Variant('t', 5n)]],
    ['a{sv}', [['k', new Variant('b', false)], ['l', new Variant('ay', Buffer.from('x'))]]],
    ['a{ss}', [['a', 'b']]], ['(a(say)a(sayay))', [[['f', Buffer.alloc(32, 1)]], [['d', Buffer.alloc(32, 2), Buffer.alloc(32, 3)]]]],
    // > 255 bytes of body: 2-byte framing offsets; > 65535: 4-byte offsets
    ['as', Array.from({ length: 100 }, (_, i) => `string-${i}`)],
    ['as', Array.from({ length: 3000 }, (_, i) => `a-longer-string-number-${i}`)],
    ['(sssu)', ['x'.repeat(300), 'y'.repeat(70000), 'z', 9]],
  ];
  for (const [t, v] of cases) {
    for (const opts of [{}, BE]) {
      const b = serialize(t, v, opts);
      assert.deepEqual(deserialize(t, b, opts), v, `type ${t}`);
    }
  }
});

test('framing offset width follows the container size', () => {
  // 'as' with 2 short strings: 1-byte offsets
  assert.equal(serialize('as', ['a', 'b']).toString('hex'), '6100620002' + '04');
  const big = serialize('as', ['x'.repeat(300)]);
  assert.equal(big.length, 301 + 2);
  assert.equal(big.readUInt16LE(301), 301);
});

test('byte order option only swaps integers, not framing offsets or nested variants', () => {
  assert.equal(serialize('u', 1, BE).toString('hex'), '00000001');
  assert.equal(serialize('u', 1).toString('hex'), '01000000');
  assert.equal(serialize('v', new Variant('u', 1), BE).toString('hex'), '010000000075');
});

test('malformed data throws ECORRUPT with the type named', () => {
  const bad: Array<[string, Buffer]> = [
    ['s', Buffer.from('abc')],                  // no NUL
    ['u', Buffer.from([1, 2])],                 // wrong size
    ['as', Buffer.from([0x61, 0x00, 0xff])],    // offset out of range
    ['(uuua(ayay))', Buffer.alloc(5)],          // too short for the fixed part
    ['b', Buffer.from([2])],
    ['v', Buffer.from('xyz')],                  // no separator
  ];
  for (const [t, d] of bad) {
    assert.throws(() => deserialize(t, d), (e: unknown) => e instanceof OstreeError && e.code === 'ECORRUPT' && e.message.includes(t), `type ${t}`);
  }
});

test('serializing a wrong value is a clear EINVAL', () => {
  assert.throws(() => serialize('u', -1), (e: unknown) => e instanceof OstreeError && e.code === 'EINVAL' && /'u'/.test(e.message));
  assert.throws(() => serialize('(su)', ['a']), /expected an array of 2 members/);
  assert.throws(() => serialize('s', 'a\0b'), /NUL/);
  assert.equal(isValidType('a{sv}'), true);
  assert.equal(isValidType('a{vs}'), false);
  assert.equal(isValidType('(s'), false);
});

test('text form matches GLib g_variant_print', () => {
  assert.equal(printVariant('s', "it's"), '"it\'s"');
  assert.equal(printVariant('a{sv}', [['version', new Variant('s', '1.0')], ['n', new Variant('u', 5)]]), "{'version': <'1.0'>, 'n': <uint32 5>}");
  assert.equal(printVariant('as', ['main']), "['main']");
  assert.equal(printVariant('(sb)', ['a', true]), "('a', true)");
  assert.equal(printVariant('ms', null), 'nothing');
  assert.equal(printVariant('a{sv}', []), '{}');
  assert.equal(printVariant('(a{sv}as)', [[], []], true), '(@a{sv} {}, @as [])');
});

/** A 'v' holding a 'v' ... `levels` times, around the byte 0x01: each level appends "\0v". */
function nestedVariants(levels: number): Buffer {
  return Buffer.concat([Buffer.from([1, 0, 0x79]), Buffer.from('\0v'.repeat(levels), 'latin1')]);
}

test('nesting is bounded at GLib\'s 128 levels: deeper data is ECORRUPT, never a stack overflow', () => {
  // within the bound: parsed, and printed back
  const ok = deserialize('v', nestedVariants(100)) as Variant;
  let v: Variant = ok;
  for (let i = 0; i < 100; i++) v = v.value as Variant;
  assert.equal(v.type, 'y');
  assert.equal(v.value, 1);
  assert.match(printVariant('v', ok), /^<<<.*byte 0x01>+$/);
  // past it, at any depth up to what would blow the stack
  for (const levels of [200, 100_000]) {
    assert.throws(() => deserialize('v', nestedVariants(levels)),
      (e: unknown) => e instanceof OstreeError && e.code === 'ECORRUPT' && /nested deeper than 128 levels/.test(e.message), `${levels} levels`);
  }
  // the same inside a summary-like container, and a deep array type carried by a variant
  const deepArrayType = 'a'.repeat(100_000) + 'y';
  const carrier = Buffer.concat([Buffer.from([0]), Buffer.from(deepArrayType, 'latin1')]);
  assert.throws(() => deserialize('v', carrier), (e: unknown) => e instanceof OstreeError && e.code === 'ECORRUPT' && /nested deeper than 128/.test(e.message));
  const dict = serialize('a{sv}', [['k', new Variant('s', 'x')]]);
  assert.deepEqual(deserialize('a{sv}', dict), [['k', new Variant('s', 'x')]]);
  const inDict = Buffer.concat([Buffer.from('k\0', 'latin1'), Buffer.alloc(6), nestedVariants(1000)]);
  const framed = Buffer.concat([inDict, Buffer.from([2, 0])]); // {sv}: key ends at 2 (2-byte offsets past 255 bytes)
  assert.throws(() => deserialize('{sv}', framed), /nested deeper than 128 levels/);
});

test('type strings are bounded too: too deep is EINVAL for callers, and serialize refuses too-deep values', () => {
  assert.equal(isValidType('a'.repeat(127) + 'y'), true);
  assert.equal(isValidType('a'.repeat(128) + 'y'), false);
  assert.equal(isValidType('('.repeat(100_000) + ')'.repeat(100_000)), false);
  assert.throws(() => serialize('a'.repeat(200) + 'y', []), (e: unknown) => e instanceof OstreeError && e.code === 'EINVAL' && /nested deeper than 128/.test(e.message));
  let deep: Variant = new Variant('y', 1);
  for (let i = 0; i < 300; i++) deep = new Variant('v', deep);
  assert.throws(() => serialize('v', deep), (e: unknown) => e instanceof OstreeError && e.code === 'EINVAL' && /nested deeper than 128/.test(e.message));
});
