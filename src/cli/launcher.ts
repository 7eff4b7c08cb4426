/**
 * The first module of the installed `ostree` command: tools/build-cli.mjs bundles it, with every
 * module of every verb, into one CommonJS file (dist/bundle/cli.cjs), started by
 * dist/bundle/ostree.cjs (with a V8 code cache) or from a V8 start-up snapshot (bin/ostree picks).
 *
 * Why: start-up was Node's module loader, not the commands (a verb loaded 40 to 150 ES modules,
 * resolved, read and linked one by one). The bundle is one read and one compile, and the code
 * cache or the snapshot skip most of the compile. In the bundle each module is evaluated on first
 * import (esbuild turns import() into a lazy initialiser), so a verb runs only its own modules'
 * top-level code; worker threads and pool jobs run their own bundles (build-cli.mjs).
 */
import { runReported } from './report.js';

/** Run the command `argv` (after the program name) and return its exit code. */
export async function launch(argv: string[]): Promise<number> {
  // A plain `admin status` (every login, monitoring) skips main.ts and commander.
  if (argv[0] === 'admin' && argv.includes('status')) {
    const { parsePlainStatus, adminStatus } = await import('./admin-status.js');
    const plain = parsePlainStatus(argv.slice(1));
    if (plain) return runReported(() => adminStatus(plain));
  }
  const { main } = await import('./main.js');
  return main(argv);
}
