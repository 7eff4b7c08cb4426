/**
 * vm.mk runs `make vm-test` as two groups of scenarios at once (VM_GROUP_A, VM_GROUP_B): every
 * scenario the harness knows (each `want('ID')` in vm-harness/*.ts) must be in exactly one group,
 * or a new scenario would silently never run in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HARNESS = path.join(PROJECT, 'vm-harness');

function group(mk: string, name: string): string[] {
  const m = new RegExp(`^${name} := (.+)$`, 'm').exec(mk);
  assert.ok(m, `${name} is defined in vm.mk`);
  return m[1]!.trim().split(',');
}

test('the two vm-test groups hold every scenario the harness knows, each once', () => {
  const mk = fs.readFileSync(path.join(HARNESS, 'vm.mk'), 'utf8');
  const a = group(mk, 'VM_GROUP_A');
  const b = group(mk, 'VM_GROUP_B');
  const known = new Set<string>();
  for (const f of fs.readdirSync(HARNESS).filter((n) => n.endsWith('.ts'))) {
    for (const m of fs.readFileSync(path.join(HARNESS, f), 'utf8').matchAll(/want\('([a-z0-9]+)'\)/g)) known.add(m[1]!);
  }
  assert.ok(known.size >= 20, `found the scenarios: ${[...known].join(' ')}`);
  assert.deepEqual(a.filter((x) => b.includes(x)), [], 'no scenario in both groups');
  assert.deepEqual([...a, ...b].sort(), [...known].sort());
});

test('the Ignition scenarios, i6 (plain QEMU) too, are in one group: they share the Ignition disk of its work directory', () => {
  const mk = fs.readFileSync(path.join(HARNESS, 'vm.mk'), 'utf8');
  const b = group(mk, 'VM_GROUP_B');
  for (const id of ['i1', 'i2', 'i3', 'i4', 'i5', 'i6']) assert.ok(b.includes(id), `${id} is in VM_GROUP_B`);
});

test('scenarios that continue from the one before are in one group, in order', () => {
  const mk = fs.readFileSync(path.join(HARNESS, 'vm.mk'), 'utf8');
  const groups = [group(mk, 'VM_GROUP_A'), group(mk, 'VM_GROUP_B')];
  for (const chain of [['8', '9', '10'], ['u1', 'u2'], ['sd1', 'sd2', 'sd3'], ['l1', 'l2'], ['a1', 'a2', 'a3'], ['i1', 'i2', 'i3']]) {
    const g = groups.find((x) => x.includes(chain[0]!));
    assert.ok(g, `${chain[0]} is in a group`);
    const at = chain.map((s) => g.indexOf(s));
    assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)), `${chain.join(' → ')} in one group, in this order: ${g.join(',')}`);
  }
});
