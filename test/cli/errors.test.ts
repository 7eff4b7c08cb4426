/**
 * src/cli/main.ts: every error that reaches the top is one line; a system error the library did
 * not wrap reads like upstream's (`lstat(/x): No such file or directory`), not Node's raw text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { errorLine, systemErrorLine } from '../../src/cli/main.js';
import { OstreeError } from '../../src/errors.js';

function caught(fn: () => unknown): NodeJS.ErrnoException {
  try { fn(); } catch (e) { return e as NodeJS.ErrnoException; }
  throw new Error('expected a throw');
}

test('system errors: syscall(path): Description', () => {
  const enoent = caught(() => fs.lstatSync('/nonexistent/for-the-test'));
  assert.equal(systemErrorLine(enoent), 'lstat(/nonexistent/for-the-test): No such file or directory');
  assert.equal(errorLine(enoent), 'lstat(/nonexistent/for-the-test): No such file or directory');
  const rename = caught(() => fs.renameSync('/nonexistent/a', '/nonexistent/b'));
  assert.equal(errorLine(rename), 'rename(/nonexistent/a -> /nonexistent/b): No such file or directory');
  const noSyscall = Object.assign(new Error('EPIPE: broken pipe'), { code: 'EPIPE' });
  assert.equal(errorLine(noSyscall), 'Broken pipe');
});

test('OstreeError: its message; anything else: the first line of its message, never a stack', () => {
  assert.equal(errorLine(new OstreeError('EINVAL', 'Invalid index: x')), 'Invalid index: x');
  assert.equal(errorLine(new RangeError('Maximum call stack size exceeded')), 'Maximum call stack size exceeded');
  assert.equal(errorLine(new Error('first\nsecond')), 'first');
  assert.equal(errorLine('a string'), 'a string');
  assert.equal(errorLine(Object.assign(new TypeError('bad arg'), { code: 'ERR_INVALID_ARG_TYPE' })), 'bad arg');
});
