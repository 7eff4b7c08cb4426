/**
 * What a benchmark suite is: a module in bench/suites/ exporting `suite` (run.ts loads every
 * one and runs them by `order`, so a new suite is one new file). A suite runs its operations for one
 * (filesystem, shape) pair, BENCH_RUNS rounds, both tools in each round (toolOrder alternates
 * which goes first), fresh repositories and destinations in every round.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Results } from './report.js';
import type { Shape } from './shapes.js';
import type { FsTarget } from './targets.js';
import { makeOverlay, regularFiles } from './shapes.js';
import { log, upstreamSetup } from './proc.js';

export interface SuiteContext {
  target: FsTarget;
  shape: Shape;
  /** The shape's OS tree, copied onto the target filesystem. */
  tree: string;
  /** A scratch directory on the target filesystem (the suite removes what it makes). */
  scratch: string;
  rounds: number;
  results: Results;
  /** Whether BENCH_OPS asks for operation `op`. */
  wants(op: string): boolean;
  fixtures: Fixtures;
}

export interface Suite {
  name: string;
  /** Suites run in ascending order (repo 10, deploy 20). */
  order: number;
  /** Operation names it may run (BENCH_OPS selects among all suites' names). */
  ops: readonly string[];
  run(ctx: SuiteContext): Promise<void>;
}

/** Refs of the update repository: a0, then a (1% of files changed), then b (another 1%). */
export const UPDATE_REFS = { a0: 'benchos/a0', a: 'benchos/a', b: 'benchos/b' } as const;

/**
 * Shared inputs made once per (filesystem, shape) by upstream ostree, on first use: a bare
 * repository holding the tree as a0 and two updates of it, each changing 1% of the files.
 */
export class Fixtures {
  private repo: string | null = null;
  changed = 0;

  constructor(private readonly tree: string, private readonly scratch: string) {}

  updateRepo(): string {
    if (this.repo !== null) return this.repo;
    const repo = path.join(this.scratch, 'update-repo');
    log(`fixtures: update repository (upstream commits a0, a = a0 + 1%, b = a + 1%) ...`);
    upstreamSetup([`--repo=${repo}`, 'init', '--mode=bare']);
    upstreamSetup([`--repo=${repo}`, 'commit', '-b', UPDATE_REFS.a0, '-s', 'a0', `--tree=dir=${this.tree}`]);
    const files = regularFiles(this.tree);
    for (const [ref, base, seed] of [[UPDATE_REFS.a, UPDATE_REFS.a0, 11], [UPDATE_REFS.b, UPDATE_REFS.a, 12]] as const) {
      const ov = path.join(this.scratch, `overlay-${seed}`);
      this.changed = makeOverlay(this.tree, files, ov, seed, 0.01);
      upstreamSetup([`--repo=${repo}`, 'commit', '-b', ref, '-s', ref, `--tree=ref=${base}`, `--tree=dir=${ov}`]);
      fs.rmSync(ov, { recursive: true, force: true });
    }
    this.repo = repo;
    return repo;
  }
}
