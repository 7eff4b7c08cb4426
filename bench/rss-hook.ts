/**
 * Preloaded (`node --import`) into our CLI by the benchmark: on exit, writes the process's peak
 * resident set size in KiB (getrusage ru_maxrss) to $BENCH_RSS_FILE. Does nothing without it.
 */
import { writeFileSync } from 'node:fs';

const out = process.env['BENCH_RSS_FILE'];
if (out) {
  process.on('exit', () => {
    try {
      writeFileSync(out, String(process.resourceUsage().maxRSS));
    } catch {
      /* the benchmark reports "n/a" */
    }
  });
}
