import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStagedRecord, decodeStagedRecord, type StagedRecord } from '../../../src/sysroot/formats/staged-record.js';
import { Variant, serialize } from '../../../src/glib/gvariant.js';
import { isOstreeError } from '../../../src/errors.js';

const BOOTCSUM = '371d424e07c85509b083950024d70d64b1bd9a80198186eb79b9aa50573529cc';
const OBSERVED: StagedRecord = {
  target: { name: 'f99fa5f9d7e621e54a39b2197c91f17da4b0487b7e01c5cfd91bd5b10a30a548.0', osname: 'emu', bootcsum: BOOTCSUM },
  mergeDeployment: { name: '15b634d782ad567b25c0b572b2d80a9dc1d14418506db0133c208086b5037df3.0', osname: 'emu', bootcsum: BOOTCSUM },
};

// --- an independent, minimal GVariant writer for the shapes used here (a{sv}, s, as, b) ---
type V = { t: 's'; s: string } | { t: 'as'; a: string[] } | { t: 'b'; b: boolean } | { t: 'a{sv}'; d: Array<[string, V]> };
const pad = (buf: number[], align: number): void => { while (buf.length % align !== 0) buf.push(0); };
function offsetSize(body: number, n: number): number {
  if (body === 0 && n === 0) return 0;
  for (const w of [1, 2, 4]) if (body + n * w < 2 ** (8 * w)) return w;
  return 8;
}
function withOffsets(body: number[], ends: number[]): number[] {
  const w = offsetSize(body.length, ends.length);
  const out = [...body];
  for (const e of ends) for (let i = 0; i < w; i++) out.push((e >> (8 * i)) & 0xff);
  return out;
}
function ser(v: V): number[] {
  switch (v.t) {
    case 's': return [...Buffer.from(v.s), 0];
    case 'b': return [v.b ? 1 : 0];
    case 'as': {
      const body: number[] = []; const ends: number[] = [];
      for (const s of v.a) { body.push(...Buffer.from(s), 0); ends.push(body.length); }
      return withOffsets(body, ends);
    }
    case 'a{sv}': {
      const body: number[] = []; const ends: number[] = [];
      for (const [k, val] of v.d) {
        pad(body, 8);
        const entry: number[] = [...Buffer.from(k), 0];
        const keyEnd = entry.length;
        pad(entry, 8);
        entry.push(...ser(val), 0, ...Buffer.from(val.t));
        body.push(...withOffsets(entry, [keyEnd]));
        ends.push(body.length);
      }
      return withOffsets(body, ends);
    }
  }
}
const ref = (r: { name: string; osname: string; bootcsum: string }): V => ({ t: 'a{sv}', d: [['name', { t: 's', s: r.name }], ['osname', { t: 's', s: r.osname }], ['bootcsum', { t: 's', s: r.bootcsum }]] });

test('staged-record: the observed record is 418 bytes and matches an independent encoding', () => {
  const buf = encodeStagedRecord(OBSERVED);
  assert.equal(buf.length, 418);
  const expected = Buffer.from(ser({ t: 'a{sv}', d: [['target', ref(OBSERVED.target)], ['merge-deployment', ref(OBSERVED.mergeDeployment!)]] }));
  assert.equal(expected.length, 418);
  assert.ok(buf.equals(expected));
  assert.deepEqual(decodeStagedRecord(buf), OBSERVED);
});

test('staged-record: kargs, overlay initrds and locked round-trip, in upstream key order', () => {
  const rec: StagedRecord = {
    ...OBSERVED,
    kargs: ['root=LABEL=ROOT', `ostree=/ostree/boot.1/emu/${BOOTCSUM}/1`, 'console=ttyS0'],
    overlayInitrds: ['a'.repeat(64)],
    locked: true,
  };
  const buf = encodeStagedRecord(rec);
  const expected = Buffer.from(ser({ t: 'a{sv}', d: [
    ['target', ref(rec.target)], ['locked', { t: 'b', b: true }], ['merge-deployment', ref(rec.mergeDeployment!)],
    ['kargs', { t: 'as', a: rec.kargs! }], ['overlay-initrds', { t: 'as', a: rec.overlayInitrds! }],
  ] }));
  assert.ok(buf.equals(expected));
  assert.deepEqual(decodeStagedRecord(buf), rec);
});

test('staged-record: minimal record (no merge deployment), empty kargs list kept', () => {
  const rec: StagedRecord = { target: OBSERVED.target, kargs: [] };
  const back = decodeStagedRecord(encodeStagedRecord(rec));
  assert.deepEqual(back, rec);
  assert.equal(back.mergeDeployment, undefined);
  assert.equal(back.locked, undefined);
  // locked=false is not written (2022.7 never writes the key)
  assert.ok(encodeStagedRecord({ target: OBSERVED.target, locked: false }).equals(encodeStagedRecord({ target: OBSERVED.target })));
});

test('staged-record: unknown keys (e.g. bootconfig-extra) survive decode → encode', () => {
  const extra: Array<[string, Variant]> = [['bootconfig-extra', new Variant('a{ss}', [['x-options-source-tuned', 'a=b']])]];
  const buf = serialize('a{sv}', [
    ['target', new Variant('a{sv}', [['name', new Variant('s', OBSERVED.target.name)], ['osname', new Variant('s', 'emu')], ['bootcsum', new Variant('s', BOOTCSUM)]])],
    ...extra,
  ]);
  const rec = decodeStagedRecord(buf);
  assert.deepEqual(rec.extra, extra);
  assert.ok(encodeStagedRecord(rec).equals(buf));
});

test('staged-record: malformed data is ECORRUPT', () => {
  const bad = (b: Buffer): void => assert.throws(() => decodeStagedRecord(b), (e: unknown) => isOstreeError(e, 'ECORRUPT'));
  bad(serialize('a{sv}', [])); // no target
  bad(serialize('a{sv}', [['target', new Variant('s', 'x')]]));
  bad(serialize('a{sv}', [['target', new Variant('a{sv}', [['name', new Variant('s', 'x')]])]]));
  bad(serialize('a{sv}', [['target', new Variant('a{sv}', [['name', new Variant('u', 1)], ['osname', new Variant('s', 'o')], ['bootcsum', new Variant('s', 'c')]])]]));
  const good = encodeStagedRecord(OBSERVED);
  bad(good.subarray(0, 200));
  const flipped = Buffer.from(good); flipped[flipped.length - 1] = 0xff; // framing offset beyond the data
  bad(flipped);
});
