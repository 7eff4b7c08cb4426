/**
 * Configuration fragments, found and parsed the way Zincati finds its own: every `*.toml` in
 * `/usr/lib/ostree-agent/config.d/`, `/etc/ostree-agent/config.d/` and
 * `/run/ostree-agent/config.d/`, where a file in a later directory shadows the file of the same
 * name in an earlier one, then all of them in name order. Zincati's own fragments
 * (`/usr/lib`, `/etc` and `/run` `zincati/config.d/`) come first, so that a Fedora CoreOS
 * configuration carries over and ours override it. Parsing is smol-toml's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { OstreeError } from '../../errors.js';
import { readFileBounded } from '../../util/fs.js';

export interface Fragment { file: string; data: Record<string, unknown> }

const FRAGMENT_MAX_BYTES = 1024 * 1024;
const LAYERS = ['usr/lib', 'etc', 'run'];

/** The fragment directories, lowest priority first, under `root` (default `/`). */
export function fragmentDirs(root = '/'): string[][] {
  const dirs = (app: string): string[] => LAYERS.map((l) => path.join(root, l, app, 'config.d'));
  return [dirs('zincati'), dirs('ostree-agent')];
}

/** The `*.toml` files of one overlay set: a name in a later directory shadows earlier ones. */
export function scanOverlay(dirs: string[]): string[] {
  const byName = new Map<string, string>();
  for (const d of dirs) {
    let names: string[];
    try { names = fs.readdirSync(d); } catch { continue; }
    for (const n of names) {
      if (!n.endsWith('.toml') || n.startsWith('.')) continue;
      const full = path.join(d, n);
      try { if (!fs.statSync(full).isFile()) continue; } catch { continue; }
      byName.set(n, full);
    }
  }
  return [...byName.keys()].sort().map((n) => byName.get(n)!);
}

export function parseFragment(text: string, file: string): Fragment {
  try {
    return { file, data: parseToml(text) as Record<string, unknown> };
  } catch (e) {
    throw new OstreeError('ECONFIG', `${file}: invalid TOML: ${(e as Error).message.split('\n')[0]}`, { path: file, cause: e });
  }
}

export function readFragmentFile(file: string): Fragment {
  const data = readFileBounded(file, FRAGMENT_MAX_BYTES, { what: 'Configuration fragment', code: 'ECONFIG' });
  if (data === null) throw new OstreeError('ECONFIG', `${file}: configuration fragment disappeared`, { path: file });
  return parseFragment(data.toString('utf8'), file);
}

/** Every fragment under `root`, in the order they apply (later ones override). */
export function readFragments(root = '/'): Fragment[] {
  return fragmentDirs(root).flatMap((set) => scanOverlay(set)).map(readFragmentFile);
}
