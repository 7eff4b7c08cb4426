import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelArgs, splitKernelArgs } from '../../../src/sysroot/formats/kargs.js';
import { isOstreeError } from '../../../src/errors.js';

const OSTREE = 'ostree=/ostree/boot.1/testos/7bd091ad6955c0e7ef41bab65adb016275664b55efc0d10a0c8cb263da3c1e4e/0';

test('kargs: round-trip of a BLS options line', () => {
  const s = `root=LABEL=MOO quiet ${OSTREE}`;
  const k = KernelArgs.parse(s);
  assert.equal(k.toString(), s);
  assert.deepEqual(k.toArray(), ['root=LABEL=MOO', 'quiet', OSTREE]);
  assert.deepEqual(k.entries()[0], { key: 'root', value: 'LABEL=MOO' });
  assert.deepEqual(k.entries()[1], { key: 'quiet', value: null });
});

test('kargs: empty string and whitespace runs', () => {
  assert.equal(KernelArgs.parse('').toString(), '');
  assert.equal(KernelArgs.parse('').length, 0);
  assert.equal(KernelArgs.parse('  a   b\tc \n').toString(), 'a b c');
  assert.deepEqual(splitKernelArgs(' x=1  y '), ['x=1', 'y']);
});

test('kargs: double-quoted values stay one argument and keep their quotes', () => {
  const s = 'foo="a b c" bar=1 dyndbg="file drivers/usb/* +p" q="" last';
  const k = KernelArgs.parse(s);
  assert.equal(k.length, 5);
  assert.equal(k.getLastValue('foo'), '"a b c"');
  assert.equal(k.getLastValue('dyndbg'), '"file drivers/usb/* +p"');
  assert.equal(k.getLastValue('q'), '""');
  assert.equal(k.toString(), s);
  // quote in the middle of a token, then a space inside it
  assert.deepEqual(splitKernelArgs('a="x y"z b'), ['a="x y"z', 'b']);
  // unterminated quote: the remainder is one argument
  assert.deepEqual(splitKernelArgs('a b="c d e'), ['a', 'b="c d e']);
  assert.equal(KernelArgs.parse('a b="c d e').toString(), 'a b="c d e');
});

test('kargs: key=, key and key=value are distinct', () => {
  const k = KernelArgs.parse('a a= a=1');
  assert.deepEqual(k.getValues('a'), [null, '', '1']);
  assert.equal(k.getLastValue('a'), '1');
  assert.equal(k.getLastValue('zzz'), undefined);
  assert.equal(KernelArgs.parse('quiet').getLastValue('quiet'), null);
  assert.equal(k.toString(), 'a a= a=1');
});

test('kargs: has() compares keys only', () => {
  const k = KernelArgs.parse('root=LABEL=MOO quiet');
  assert.equal(k.has('root'), true);
  assert.equal(k.has('root=other'), true);
  assert.equal(k.has('quiet'), true);
  assert.equal(k.has('ro'), false);
});

test('kargs: replace drops every value and takes the first position', () => {
  const k = KernelArgs.parse('a console=ttyS0 b console=tty0 c');
  k.replace('console=hvc0');
  assert.equal(k.toString(), 'a console=hvc0 b c');
  k.replace('new=1');
  assert.equal(k.toString(), 'a console=hvc0 b c new=1');
  k.replace('a=x');
  assert.equal(k.toString(), 'a=x console=hvc0 b c new=1');
  k.replace('a');
  assert.equal(k.toString(), 'a console=hvc0 b c new=1');
  // replacing ostree= in place (what the deploy code does with a stale ostree=)
  const o = KernelArgs.parse(`root=LABEL=MOO ${OSTREE} quiet`);
  o.replace('ostree=/ostree/boot.0/testos/abc/1');
  assert.equal(o.toString(), 'root=LABEL=MOO ostree=/ostree/boot.0/testos/abc/1 quiet');
});

test('kargs: append always adds at the end (observed --karg-append)', () => {
  const k = KernelArgs.parse(`root=LABEL=MOO quiet ${OSTREE} foo=bar`);
  k.append('console=ttyS0');
  k.append('console=tty0');
  assert.equal(k.toString(), `root=LABEL=MOO quiet ${OSTREE} foo=bar console=ttyS0 console=tty0`);
  k.append('quiet');
  assert.equal(k.getValues('quiet').length, 2);
  // several args in one string
  const m = new KernelArgs();
  m.append('x=1 y="2 3"');
  assert.deepEqual(m.toArray(), ['x=1', 'y="2 3"']);
});

test('kargs: appendIfMissing (observed kargs edit-in-place)', () => {
  const k = KernelArgs.parse(`root=LABEL=MOO quiet ${OSTREE}`);
  k.appendIfMissing('foo=bar');
  k.appendIfMissing('quiet');
  k.appendIfMissing('foo=baz'); // key present: upstream compares keys only
  assert.equal(k.toString(), `root=LABEL=MOO quiet ${OSTREE} foo=bar`);
});

function throwsMsg(fn: () => void, msg: string): void {
  assert.throws(fn, (e: unknown) => isOstreeError(e, 'EINVAL') && (e as Error).message === msg);
}

test('kargs: delete by key and by key=value, upstream errors', () => {
  const k = KernelArgs.parse(`root=LABEL=MOO quiet ${OSTREE}`);
  k.delete('quiet');
  assert.equal(k.toString(), `root=LABEL=MOO ${OSTREE}`);
  throwsMsg(() => k.delete('quiet'), "No key 'quiet' found");
  throwsMsg(() => k.delete('root=LABEL=OTHER'), "No karg 'root=LABEL=OTHER' found");
  k.delete('root=LABEL=MOO');
  assert.equal(k.toString(), OSTREE);
  // single-valued key deleted by bare key even though it has a value
  const s = KernelArgs.parse('a=1 b');
  s.delete('a');
  assert.equal(s.toString(), 'b');
});

test('kargs: delete with several values', () => {
  const k = KernelArgs.parse('console=ttyS0 x console=tty0');
  throwsMsg(() => k.delete('console'), "Multiple values for key 'console' found");
  throwsMsg(() => k.delete('console=hvc0'), "No karg 'console=hvc0' found");
  k.delete('console=tty0');
  assert.equal(k.toString(), 'console=ttyS0 x');
  const b = KernelArgs.parse('a a=1 a=2');
  b.delete('a'); // the bare occurrence
  assert.equal(b.toString(), 'a=1 a=2');
  const failed = KernelArgs.parse('a=1 a=2');
  throwsMsg(() => failed.delete('a='), "No karg 'a=' found");
  assert.equal(failed.toString(), 'a=1 a=2');
  k.deleteIfPresent('nothere');
  k.deleteIfPresent('x');
  assert.equal(k.toString(), 'console=ttyS0');
});

test('kargs: delete of a quoted argument', () => {
  const k = KernelArgs.parse('foo="a b" bar');
  k.delete('foo="a b"');
  assert.equal(k.toString(), 'bar');
});

test('kargs: newReplace key=old=new and errors', () => {
  const k = KernelArgs.parse('console=ttyS0 console=tty0 quiet');
  throwsMsg(() => k.newReplace('console=hvc0'), "Multiple values for key 'console' found");
  k.newReplace('console=tty0=hvc0');
  assert.equal(k.toString(), 'console=ttyS0 console=hvc0 quiet');
  throwsMsg(() => k.newReplace('console=nope=x'), "No karg 'console=nope' found");
  throwsMsg(() => k.newReplace('absent=1'), "No key 'absent' found");
  k.newReplace('quiet=1');
  assert.equal(k.toString(), 'console=ttyS0 console=hvc0 quiet=1');
});

test('kargs: clone is independent; equals', () => {
  const a = KernelArgs.parse('a b=1');
  const b = a.clone();
  b.append('c');
  assert.equal(a.toString(), 'a b=1');
  assert.equal(b.toString(), 'a b=1 c');
  assert.equal(a.equals(KernelArgs.parse('a  b=1')), true);
  assert.equal(a.equals(b), false);
  assert.deepEqual(KernelArgs.fromArray(['x=1', 'y']).toString(), 'x=1 y');
});
