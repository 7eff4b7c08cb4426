/**
 * A directory standing in for a sysroot, for the fleet simulation (many agents in one process,
 * each with a small one on tmpfs): `sysroot.json` holds the booted and staged commits and a
 * boot counter; staging fetches the release's commit object from the repository's web server
 * with the agent's own HTTP client and keeps it under `ostree/repo/objects/`; the health
 * verdict is read from a boot-check record in the boot-counting code's own format
 * (`boot/ostree/boot-check.json`, record.ts) that the simulation writes when it "boots" the
 * node. Rebooting hands the node to the simulation (`onReboot`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { emptyRecord, readRecord, writeRecord } from '../../sysroot/boot-counting/record.js';
import { mkdirp, writeFileAtomic } from '../../util/fs.js';
import type { Release } from '../graph/cincinnati.js';
import type { BootedRelease, HealthVerdict, NodeHost } from '../host.js';
import type { HttpClient } from '../http.js';

interface DirSysroot { booted: string; staged: string | null; boots: number }

export interface DirHostOptions {
  dir: string;
  http: HttpClient;
  /** base URL of the archive repository (its `objects/`) */
  repoUrl: string;
  onReboot: (host: DirHost, target: string) => void;
  sessions?: () => number;
}

export class DirHost implements NodeHost {
  constructor(private readonly o: DirHostOptions) {}

  get dir(): string { return this.o.dir; }
  private get file(): string { return path.join(this.o.dir, 'sysroot.json'); }
  private get recordFile(): string { return path.join(this.o.dir, 'boot/ostree/boot-check.json'); }

  /** Make the directory a sysroot booted into `checksum`. */
  init(checksum: string): void {
    mkdirp(this.o.dir, 0o755);
    this.write({ booted: checksum, staged: null, boots: 1 });
  }

  read(): DirSysroot {
    try { return JSON.parse(fs.readFileSync(this.file, 'utf8')) as DirSysroot; } catch (e) {
      throw new OstreeError('ESTATE', `${this.file}: not a simulated sysroot: ${(e as Error).message}`);
    }
  }
  private write(s: DirSysroot): void { writeFileAtomic(this.file, JSON.stringify(s)); }

  async booted(): Promise<BootedRelease> { return { checksum: this.read().booted, version: null }; }
  async staged(): Promise<string | null> { return this.read().staged; }

  async stage(r: Release): Promise<void> {
    const rel = `objects/${r.payload.slice(0, 2)}/${r.payload.slice(2)}.commit`;
    const res = await this.o.http.request('GET', `${this.o.repoUrl.replace(/\/+$/, '')}/${rel}`);
    if (res.status !== 200) throw new OstreeError('EIO', `pull ${r.version}: ${rel}: HTTP ${res.status}`);
    const dest = path.join(this.o.dir, 'ostree/repo', rel);
    mkdirp(path.dirname(dest), 0o755);
    writeFileAtomic(dest, res.body);
    this.write({ ...this.read(), staged: r.payload });
  }

  async finalizeAndReboot(): Promise<void> {
    const s = this.read();
    if (!s.staged) throw new OstreeError('ESTATE', 'nothing staged to reboot into');
    this.o.onReboot(this, s.staged);
  }

  /** The simulation boots the node: into `checksum`, whose boot check gave `result` (null: none ran). */
  boot(checksum: string, result: 'green' | 'red' | null, failure = 'simulated health check failed'): void {
    const s = this.read();
    this.write({ booted: checksum, staged: null, boots: s.boots + 1 });
    const rec = fs.existsSync(this.recordFile) ? readRecord(this.recordFile) : emptyRecord();
    if (result !== null) {
      rec.last = { deployment: checksum, time: new Date().toISOString(), result, checks: [], failures: result === 'red' ? [failure] : [], action: result === 'red' ? 'rolled back' : '' };
      if (result === 'red') rec.failed[checksum] = { time: rec.last.time, reason: failure };
    }
    writeRecord(this.recordFile, rec);
  }

  async health(checksum: string): Promise<HealthVerdict> {
    const rec = fs.existsSync(this.recordFile) ? readRecord(this.recordFile) : emptyRecord();
    const failed = rec.failed[checksum];
    if (failed) return { state: 'bad', reason: failed.reason };
    if (rec.last?.deployment === checksum && rec.last.result === 'red') return { state: 'bad', reason: rec.last.failures.join('; ') };
    return { state: 'good' };
  }

  async bootId(): Promise<string> { return String(this.read().boots); }
  async activeSessions(): Promise<number> { return this.o.sessions?.() ?? 0; }
}
