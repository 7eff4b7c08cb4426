/**
 * Hostile documents end quickly with a clear error: alias bombs, self-merging mappings,
 * nesting deeper than the parser's stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ALIAS_EXPANSIONS } from '../../src/butane/decode.js';
import { bu, errorAt, ok, refused } from './helpers.js';

test('an alias bomb stops at the alias budget with an error naming where', () => {
  const n = 20000;
  const text = bu('1.4.0', `storage:\n  files:\n    - &f {path: /a, append: [&r {inline: "xxxxxxxxxxxxxxxxxxxxxxxxx"}${', *r'.repeat(n)}]}\n${'    - *f\n'.repeat(n)}`);
  const started = Date.now();
  const d = errorAt(refused(text), `storage.files.0.append.${MAX_ALIAS_EXPANSIONS + 1}`);
  assert.match(d.message, /aliases are followed more than 1000 times/);
  // generous bound for a loaded machine; unbounded expansion takes hours
  assert.ok(Date.now() - started < 20_000);
});

test('a mapping merged into itself adds nothing more', () => {
  const r = ok(bu('1.4.0', 'storage:\n  files:\n    - &a\n      path: /x\n      <<: *a\n'));
  assert.deepEqual(r.config.storage, { files: [{ path: '/x' }] });
});

test('nesting deeper than the parser can follow is a YAML error, not a crash', () => {
  const depth = 200_000;
  const d = refused(bu('1.4.0', `passwd: ${'['.repeat(depth)}${']'.repeat(depth)}\n`));
  assert.match(d[0]!.message, /^YAML syntax error|expected a mapping/);
});
