/** Shared helpers for the Butane translator tests. */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ButaneError, type Diagnostic } from '../../src/butane/diagnostics.js';
import { translate, type TranslateOptions } from '../../src/butane/translate.js';

/** test/butane/fixtures in the source tree (tests run from dist/test/butane). */
export const FIXTURES = fileURLToPath(new URL('../../../test/butane/fixtures/', import.meta.url));

/** A Butane document: the header, then the body lines. */
export function bu(version: string, body = ''): string {
  return `variant: fcos\nversion: ${version}\n${body}`;
}

export function ok(text: string, options?: TranslateOptions) {
  return translate(text, options);
}

/** The diagnostics of a refused translation (fails the test if it was accepted). */
export function refused(text: string, options?: TranslateOptions): Diagnostic[] {
  try {
    translate(text, options);
  } catch (e) {
    assert.ok(e instanceof ButaneError, `expected a ButaneError, got ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    return [...e.diagnostics];
  }
  assert.fail('the translation was accepted');
}

/** The one error whose path is `path` (dotted), with its message. */
export function errorAt(diags: Diagnostic[], path: string): Diagnostic {
  const d = diags.find((x) => x.severity === 'error' && x.path.join('.') === path);
  assert.ok(d, `no error at ${path}; got ${JSON.stringify(diags)}`);
  return d;
}

/** What a data: URL (with its compression) holds. */
export function dataUrlBytes(source: string, compression?: string): Buffer {
  const m = /^data:([^,]*),(.*)$/s.exec(source);
  assert.ok(m, `not a data URL: ${source}`);
  const raw = m[1]!.endsWith(';base64') ? Buffer.from(m[2]!, 'base64') : Buffer.from(decodeURIComponent(m[2]!), 'latin1');
  return compression === 'gzip' ? gunzipSync(raw) : raw;
}
