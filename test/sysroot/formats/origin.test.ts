import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Origin } from '../../../src/sysroot/formats/origin.js';
import { isOstreeError } from '../../../src/errors.js';

test('origin: forRefspec serializes exactly as upstream deploy writes it', () => {
  const o = Origin.forRefspec('testos:testos/buildmain/x86_64-runtime');
  assert.equal(o.toString(), '[origin]\nrefspec=testos:testos/buildmain/x86_64-runtime\n');
  assert.equal(o.refspec, 'testos:testos/buildmain/x86_64-runtime');
  assert.equal(o.remote, 'testos');
  assert.equal(o.ref, 'testos/buildmain/x86_64-runtime');
  assert.equal(o.pinned, false);
  const local = Origin.forRefspec('main');
  assert.equal(local.remote, null);
  assert.equal(local.ref, 'main');
});

test('origin: pinning gives the observed text; unpin removes the key', () => {
  const o = Origin.forRefspec('emu:emu/stable');
  o.setPinned(true);
  assert.equal(o.toString(), '[origin]\nrefspec=emu:emu/stable\n\n[libostree-transient]\npinned=true\n');
  assert.equal(o.pinned, true);
  const parsed = Origin.parse('[origin]\nrefspec=emu:emu/stable\n\n[libostree-transient]\npinned=true\n', 'x.origin');
  assert.equal(parsed.pinned, true);
  assert.equal(parsed.toString(), o.toString());
  parsed.setPinned(false);
  assert.equal(parsed.pinned, false);
  assert.equal(parsed.toString(), '[origin]\nrefspec=emu:emu/stable\n\n[libostree-transient]\n');
});

test('origin: hotfix unlock text', () => {
  const o = Origin.forRefspec('emu:emu/stable');
  o.setUnlocked('hotfix');
  assert.equal(o.toString(), '[origin]\nrefspec=emu:emu/stable\nunlocked=hotfix\n');
  assert.equal(o.isHotfix, true);
  assert.equal(Origin.parse(o.toString()).unlocked, 'hotfix');
  o.setUnlocked(undefined);
  assert.equal(o.isHotfix, false);
  assert.equal(o.toString(), '[origin]\nrefspec=emu:emu/stable\n');
});

test('origin: withoutTransientState drops transient group, override-commit, unlocked; keeps others', () => {
  const text = '[origin]\nrefspec=emu:emu/stable\noverride-commit=abc\nunlocked=hotfix\nbaserefspec=x\n\n' +
    '[libostree-transient]\npinned=true\n\n[packages]\nrequested=a;b;\n';
  const o = Origin.parse(text, 'x.origin');
  assert.equal(o.overrideCommit, 'abc');
  const t = o.withoutTransientState();
  assert.equal(t.toString(), '[origin]\nrefspec=emu:emu/stable\nbaserefspec=x\n\n[packages]\nrequested=a;b;\n');
  assert.equal(o.toString(), text); // original untouched
  assert.equal(t.pinned, false);
  assert.equal(t.overrideCommit, undefined);
});

test('origin: override-commit, unconfigured-state, setRefspec', () => {
  const o = Origin.parse('[origin]\nunconfigured-state=Use subscription-manager\n');
  assert.equal(o.refspec, undefined);
  assert.equal(o.remote, null);
  assert.equal(o.ref, undefined);
  assert.equal(o.unconfiguredState, 'Use subscription-manager');
  o.setRefspec('other:otheros/stable');
  o.setOverrideCommit('f'.repeat(64));
  assert.equal(o.toString(), `[origin]\nunconfigured-state=Use subscription-manager\nrefspec=other:otheros/stable\noverride-commit=${'f'.repeat(64)}\n`);
  o.setUnconfiguredState(undefined);
  o.setOverrideCommit(undefined);
  assert.equal(o.toString(), '[origin]\nrefspec=other:otheros/stable\n');
});

test('origin: malformed pinned value counts as unpinned; malformed file is ECORRUPT', () => {
  assert.equal(Origin.parse('[libostree-transient]\npinned=maybe\n').pinned, false);
  assert.throws(() => Origin.parse('refspec=x\n', '/d/a.origin'),
    (e: unknown) => isOstreeError(e, 'ECORRUPT') && (e as Error).message.includes('/d/a.origin'));
});

test('origin: clone independence and generic keys', () => {
  const o = Origin.forRefspec('a:b');
  const c = o.clone();
  c.set('rpmostree', 'regenerate-initramfs', 'true');
  assert.equal(o.get('rpmostree', 'regenerate-initramfs'), undefined);
  assert.equal(c.get('rpmostree', 'regenerate-initramfs'), 'true');
  c.removeKey('rpmostree', 'regenerate-initramfs');
  assert.equal(c.get('rpmostree', 'regenerate-initramfs'), undefined);
});
