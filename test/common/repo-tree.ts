/** A small repository source tree and error matcher shared by the repo and checkout tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';

export const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

/** Files, an executable, a symlink, a 3 MiB file, a whiteout, 100 small files, a 0750 directory. */
export function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, 'sub/deep'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a'), 'hello\n');
  fs.writeFileSync(path.join(root, 'exec'), '#!/bin/sh\n', { mode: 0o755 });
  fs.chmodSync(path.join(root, 'exec'), 0o755);
  fs.symlinkSync('a', path.join(root, 'link'));
  fs.writeFileSync(path.join(root, 'sub/deep/big'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  fs.writeFileSync(path.join(root, 'sub/.ostree-wh.gone'), '');
  fs.chmodSync(path.join(root, 'sub'), 0o750);
  for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(root, 'sub', `f${i}`), `file ${i}\n`);
}
