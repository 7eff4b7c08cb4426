/** LongPaths (src/util/long-path.ts): paths beyond PATH_MAX through /proc/self/fd anchors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LongPaths } from '../../src/util/long-path.js';
import { removeTree } from '../common/deep-tree.js';
import { tempDir } from '../common/tmp.js';

function openFds(): number { return fs.readdirSync('/proc/self/fd').length; }

test('short paths are returned as they are; long ones resolve through anchors, reused and closed', () => {
  const root = tempDir('long-path-');
  const lp = new LongPaths();
  assert.equal(lp.short('/a/b'), '/a/b');
  const fds = openFds();
  let p = root;
  const name = 'ü'.repeat(40); // 80 bytes each: byte lengths, not code units, decide
  for (let i = 0; i < 120; i++) {
    p += `/${name}`;
    fs.mkdirSync(lp.short(p));
  }
  assert.ok(Buffer.byteLength(p) > 9000);
  fs.writeFileSync(lp.short(`${p}/f`), 'deep');
  const s = lp.short(`${p}/f`);
  assert.match(s, /^\/proc\/self\/fd\/\d+\//);
  assert.ok(Buffer.byteLength(s) < 4096);
  assert.equal(fs.readFileSync(s, 'utf8'), 'deep');
  // Going back up closes the anchors below; a sibling branch reuses those above.
  const mid = root + `/${name}`.repeat(60);
  fs.mkdirSync(lp.short(`${mid}/other`));
  assert.ok(fs.statSync(lp.short(`${mid}/other`)).isDirectory());
  assert.ok(openFds() - fds < 40, 'anchors are few');
  lp.close();
  assert.equal(openFds(), fds);
  removeTree(root);
});
