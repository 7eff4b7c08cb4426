/**
 * The installed `ostree` command's first module: tools/build-cli.mjs bundles it, with everything
 * a plain `admin status` loads, into one CommonJS file (dist/bundle/ostree.cjs), and builds a V8
 * start-up snapshot of that file where it can (bin/ostree picks one).
 *
 * Why: `admin status` runs at every login and from monitoring, and its cost was Node's module
 * loader, not the status itself (about 40 ESM files resolved, read and linked one by one). The
 * bundle is one read and one compile; the snapshot skips even those. Every other command is
 * handed to main.ts, loaded from dist/src as before, so it runs exactly the modules it always did
 * (worker threads and pool jobs load their files by URL: bundling those would run two copies).
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runReported } from './report.js';

/** Loads an ES module by URL (code started from a V8 snapshot cannot call import() itself). */
export type ModuleImporter = (url: string) => Promise<unknown>;

/**
 * Run the command `argv` (after the program name) and return its exit code. `distDir` is the
 * dist/ directory whose src/cli/main.js runs the commands this launcher does not run itself.
 */
export async function launch(argv: string[], distDir: string, importer: ModuleImporter = (u) => import(u)): Promise<number> {
  if (argv[0] === 'admin' && argv.includes('status')) {
    const { parsePlainStatus, adminStatus } = await import('./admin-status.js');
    const plain = parsePlainStatus(argv.slice(1));
    if (plain) return runReported(() => adminStatus(plain));
  }
  const mainUrl = pathToFileURL(path.join(distDir, 'src', 'cli', 'main.js')).href;
  const { main } = (await importer(mainUrl)) as typeof import('./main.js');
  return main(argv);
}
