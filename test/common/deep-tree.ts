/** Trees deeper than PATH_MAX lets one path name, for the depth tests (made and removed without
 *  whole paths: LongPaths to make them, GNU rm, which walks by descriptor, to remove them). */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { LongPaths } from '../../src/util/long-path.js';

/** `root/d/d/…/d` (`depth` levels) with a file `leaf` at the bottom; returns the leaf's path. */
export function makeDeepTree(root: string, depth: number, name = 'd'): string {
  const paths = new LongPaths();
  try {
    fs.mkdirSync(root, { recursive: true });
    let p = root;
    for (let i = 0; i < depth; i++) {
      p += `/${name}`;
      fs.mkdirSync(paths.short(p));
    }
    fs.writeFileSync(paths.short(`${p}/leaf`), 'leaf\n');
    return `${p}/leaf`;
  } finally {
    paths.close();
  }
}

/** The contents of a file however deep it is. */
export function readDeep(p: string): string {
  const paths = new LongPaths();
  try { return fs.readFileSync(paths.short(p), 'utf8'); } finally { paths.close(); }
}

/** rm -rf, for trees too deep for fs.rmSync. */
export function removeTree(p: string): void {
  spawnSync('chmod', ['-R', 'u+rwx', p], { stdio: 'ignore' });
  execFileSync('rm', ['-rf', p]);
}
