/**
 * The grubenv format against its oracle, grub-editenv 2.06: the same variables give the same
 * 1024 bytes; what grub-editenv writes (escapes included) parses back; updates keep the other
 * variables, the order and the block's size, through a temporary file and a rename.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseGrubenv, serializeGrubenv, readGrubenv, updateGrubenv, ensureGrubenv, GRUBENV_SIZE } from '../../../src/sysroot/boot-counting/grubenv.js';
import { OstreeError } from '../../../src/errors.js';
import { tempDir } from '../../common/tmp.js';

let dir: string;
before(() => { dir = tempDir('ostree-ts-grubenv-'); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const editenv = (file: string, ...args: string[]) => execFileSync('grub-editenv', [file, ...args], { encoding: 'utf8' });

test('an empty block is byte for byte what grub-editenv create writes', () => {
  const f = path.join(dir, 'create');
  editenv(f, 'create');
  assert.deepEqual(serializeGrubenv(new Map()), fs.readFileSync(f));
  assert.equal(fs.statSync(f).size, GRUBENV_SIZE);
});

test('variables (with backslashes and newlines) serialize as grub-editenv set writes them, and parse back', () => {
  const f = path.join(dir, 'set');
  editenv(f, 'create');
  const vars: Array<[string, string]> = [['ostree_bc_id', 'debian/abc.0'], ['ostree_bc_left', '3'], ['odd', 'a\\b\nc d=e']];
  editenv(f, 'set', ...vars.map(([k, v]) => `${k}=${v}`));
  const theirs = fs.readFileSync(f);
  assert.deepEqual(serializeGrubenv(new Map(vars)), theirs);
  assert.deepEqual([...parseGrubenv(theirs, f)], vars);
  // and grub-editenv lists what we write
  fs.writeFileSync(f, serializeGrubenv(new Map(vars)));
  assert.equal(editenv(f, 'list'), 'ostree_bc_id=debian/abc.0\nostree_bc_left=3\nodd=a\\b\nc d=e\n');
});

test('updateGrubenv keeps other variables and their order, replaces in place, removes with null', () => {
  const f = path.join(dir, 'update');
  editenv(f, 'create');
  editenv(f, 'set', 'saved_entry=2', 'ostree_bc_left=3', 'next_entry=');
  updateGrubenv(f, { ostree_bc_left: '2', ostree_bc_id: 'x/y.0' });
  const oracle = path.join(dir, 'update-oracle');
  editenv(oracle, 'create');
  editenv(oracle, 'set', 'saved_entry=2', 'ostree_bc_left=3', 'next_entry=');
  editenv(oracle, 'set', 'ostree_bc_left=2', 'ostree_bc_id=x/y.0');
  assert.deepEqual(fs.readFileSync(f), fs.readFileSync(oracle));
  updateGrubenv(f, { next_entry: null });
  editenv(oracle, 'unset', 'next_entry');
  assert.deepEqual(fs.readFileSync(f), fs.readFileSync(oracle));
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('.tmp')), [], 'no temporary file left behind');
});

test('the update is a rename: a reader holding the old file keeps the old block whole', () => {
  const f = path.join(dir, 'rename');
  ensureGrubenv(f);
  const ino = fs.statSync(f).ino;
  const fd = fs.openSync(f, 'r');
  updateGrubenv(f, { ostree_bc_left: '1' });
  assert.notEqual(fs.statSync(f).ino, ino);
  const old = Buffer.alloc(GRUBENV_SIZE);
  fs.readSync(fd, old, 0, GRUBENV_SIZE, 0);
  fs.closeSync(fd);
  assert.deepEqual(old, serializeGrubenv(new Map()));
  assert.equal(readGrubenv(f)!.get('ostree_bc_left'), '1');
});

test('a larger block keeps its size; too many variables fail before anything is written', () => {
  const f = path.join(dir, 'big');
  fs.writeFileSync(f, serializeGrubenv(new Map([['a', '1']]), 2048));
  updateGrubenv(f, { b: '2' });
  assert.equal(fs.statSync(f).size, 2048);
  const before = fs.readFileSync(f);
  assert.throws(() => updateGrubenv(f, { huge: 'x'.repeat(4000) }), (e: unknown) => e instanceof OstreeError && e.code === 'EINVAL' && /needs \d+ bytes, more than its 2048/.test(e.message));
  assert.deepEqual(fs.readFileSync(f), before);
});

test('not a grubenv: ECORRUPT naming the file; a bad variable name: EINVAL', () => {
  const f = path.join(dir, 'bad');
  fs.writeFileSync(f, 'hello\n');
  assert.throws(() => readGrubenv(f), (e: unknown) => e instanceof OstreeError && e.code === 'ECORRUPT' && e.message.includes(f));
  assert.throws(() => serializeGrubenv(new Map([['bad name', 'x']])), (e: unknown) => e instanceof OstreeError && e.code === 'EINVAL');
  assert.equal(readGrubenv(path.join(dir, 'missing')), null);
});
