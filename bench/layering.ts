/**
 * `make bench-layering` (also run by `make bench`): `apt-ostree install tcpdump` on a base of
 * about 30k files (the Debian minbase of the VM harness + filler files) in a tmpfs sysroot.
 * Prints the wall time, where it goes (apt resolution, package import, dpkg in the sandbox,
 * commit, deploy) and the peak RSS of the largest process (GNU time), against the targets
 * (<= 5 s, <= 300 MB). BENCH_LAYER_FILES sets the base size (default 30000).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

async function child(sysroot: string): Promise<void> {
  const { Sysroot } = await import('../src/sysroot/sysroot.js');
  const { layerTransaction } = await import('../src/layering/transaction.js');
  const t0 = Date.now();
  const r = await layerTransaction(await Sysroot.open(sysroot), { install: ['tcpdump'] });
  process.stdout.write(JSON.stringify({ wallMs: Date.now() - t0, ...r.timings }) + '\n');
}

async function parent(): Promise<number> {
  const { makeWorld, fetchDebs, makeAptRepo } = await import('../test/layering/fixture.js');
  const want = Number(process.env['BENCH_LAYER_FILES'] ?? '30000');
  process.stderr.write('[bench-layering] building the base (Debian minbase + filler), committing, deploying...\n');
  const w = await makeWorld({ totalFiles: want });
  try {
    const etc = w.deployEtc();
    fs.rmSync(path.join(etc, 'apt/sources.list'), { force: true });
    fs.writeFileSync(path.join(etc, 'apt/sources.list.d/local.list'), makeAptRepo(path.join(w.dir, 'aptrepo'), fetchDebs(['tcpdump', 'libpcap0.8'])));
    const r = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, here, '--child', w.sysroot], { encoding: 'utf8' });
    if (r.status !== 0) { process.stderr.write(r.stderr); return 1; }
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    const [rssKB, wall] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const s = (ms: number | undefined): string => `${((ms ?? 0) / 1000).toFixed(2)} s`;
    process.stdout.write([
      `apt-ostree install tcpdump on a ${w.fileCount}-file base (tmpfs sysroot; load average ${load}):`,
      `  wall ${wall.toFixed(2)} s (process; transaction ${s(t['wallMs'])})   target <= 5 s: ${wall <= 5 ? 'met' : 'NOT met'}`,
      `  apt ${s(t['aptMs'])} | import .debs ${s(t['importMs'])} | dpkg in bwrap ${s(t['dpkgMs'])} | commit ${s(t['commitMs'])} | deploy ${s(t['deployMs'])}`,
      `  peak RSS ${(rssKB / 1024).toFixed(0)} MB (largest process)   target <= 300 MB: ${rssKB / 1024 <= 300 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'));
    return 0;
  } finally {
    w.cleanup();
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3]!).catch((e: unknown) => { process.stderr.write(`${String(e)}\n`); process.exitCode = 1; });
} else {
  if (!fs.existsSync('/usr/bin/time')) execFileSync('false');
  parent().then((rc) => { process.exitCode = rc; }, (e: unknown) => { process.stderr.write(`${String(e)}\n`); process.exitCode = 1; });
}
