/**
 * Upstream's free-space reserve for content writes (`core.min-free-space-size` = N{M,G,T}B, else
 * `core.min-free-space-percent`, default 3): each content object takes its blocks from what is
 * free above the reserve, and one that does not fit is refused before it is written. Metadata
 * objects are exempt, as upstream.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import { formatSize } from '../../util/format-size.js';
import { configPath } from '../layout.js';
import type { Repo } from '../repo.js';

export class SpaceBudget {
  private maxBlocks: number;
  private readonly bsize: number;
  private readonly label: string;
  readonly enabled: boolean;

  constructor(repo: Repo) {
    const cfgPath = configPath(repo.path);
    const sizeStr = repo.config.get('core', 'min-free-space-size');
    const pctStr = repo.config.get('core', 'min-free-space-percent');
    let reservedBytes = 0;
    let mb = 0;
    let pct = 3;
    if (sizeStr !== undefined) {
      const m = /^([0-9]+)(G|M|T)B$/.exec(sizeStr);
      if (!m) throw new OstreeError('ECONFIG', `${cfgPath}: invalid core.min-free-space-size '${sizeStr}': It should be of the format '123MB', '123GB' or '123TB'`);
      mb = Number(m[1]) * (m[2] === 'G' ? 1024 : m[2] === 'T' ? 1024 * 1024 : 1);
    } else if (pctStr !== undefined) {
      pct = Number(pctStr);
      if (!/^[0-9]+$/.test(pctStr) || pct > 99) throw new OstreeError('ECONFIG', `${cfgPath}: invalid core.min-free-space-percent '${pctStr}' (expected an integer from 0 to 99)`);
    }
    this.label = mb > 0 ? `min-free-space-size ${mb}MB` : `min-free-space-percent '${pct}%'`;
    const st = fs.statfsSync(repo.path);
    this.bsize = st.bsize;
    reservedBytes = mb > 0 ? mb * 1024 * 1024 : Math.floor((st.blocks * pct) / 100) * st.bsize;
    this.enabled = mb > 0 || pct > 0;
    const reservedBlocks = Math.floor(reservedBytes / st.bsize);
    const free = process.getuid?.() === 0 ? st.bfree : st.bavail;
    this.maxBlocks = free > reservedBlocks ? free - reservedBlocks : 0;
  }

  /** Account for a content object of `bytes` (throws when it would eat into the reserve). */
  take(bytes: number): void {
    if (!this.enabled) return;
    const blocks = Math.ceil(bytes / this.bsize);
    if (blocks > this.maxBlocks) {
      throw new OstreeError('ESTATE', `${this.label} would be exceeded, at least ${formatSize(bytes)} requested (free space on the repository's filesystem is below the configured reserve; free some space or lower the reserve)`);
    }
    this.maxBlocks -= blocks;
  }
}
