import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { spareCpus } from '../../src/util/spare-cpus.js';

test('spareCpus: a whole number of CPUs, never this thread\'s own, never negative', () => {
  const n = spareCpus();
  assert.ok(Number.isInteger(n), String(n));
  assert.ok(n >= 0 && n <= os.availableParallelism() - 1, `${n} of ${os.availableParallelism()}`);
});
