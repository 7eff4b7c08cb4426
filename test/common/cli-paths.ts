/**
 * The two `ostree` CLIs the interop tests compare: upstream's (the oracle, Debian package
 * ostree) and ours (the compiled entry point, run with `node`).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const UPSTREAM_CLI = '/usr/bin/ostree';
export const OURS_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
