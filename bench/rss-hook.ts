/**
 * Preloaded (`node --import`) into our CLI by the benchmark: on exit, writes the process's peak
 * resident set size in KiB (getrusage ru_maxrss) and its CPU time (user + system, in seconds) to
 * $BENCH_RSS_FILE. Does nothing without it.
 */
import { writeFileSync } from 'node:fs';

const out = process.env['BENCH_RSS_FILE'];
if (out) {
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      writeFileSync(out, `${u.maxRSS} ${(u.userCPUTime + u.systemCPUTime) / 1e6}`);
    } catch {
      /* the benchmark reports "n/a" */
    }
  });
}
