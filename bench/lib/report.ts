/**
 * What the benchmark measured: one cell per (filesystem, shape, operation) with every run of
 * both tools, printed as medians, ours/upstream ratios against the target, and peak memory;
 * the raw runs go to $BENCH_DIR/results.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtMB, fmtS, log, median, type RunResult, type ToolName } from './proc.js';

export interface Cell {
  fs: string;
  shape: string;
  op: string;
  /** ours/upstream must be at most this (null: no ratio target). */
  target: number | null;
  runs: Record<ToolName | 'node', RunResult[]>;
  notes: string[];
}

export class Results {
  readonly cells: Cell[] = [];
  readonly notes: string[] = [];

  cell(fsName: string, shape: string, op: string, target: number | null): Cell {
    let c = this.cells.find((x) => x.fs === fsName && x.shape === shape && x.op === op);
    if (!c) {
      c = { fs: fsName, shape, op, target, runs: { upstream: [], ours: [], node: [] }, notes: [] };
      this.cells.push(c);
    }
    return c;
  }

  record(c: Cell, tool: ToolName | 'node', r: RunResult, round: number): void {
    c.runs[tool].push(r);
    log(`${c.fs}/${c.shape} ${c.op.padEnd(14)} ${tool.padEnd(8)} round ${round}: ${r.ok ? fmtS(r.seconds) : 'FAILED ' + r.why}` +
      `${r.cpuSeconds !== null ? `  cpu ${fmtS(r.cpuSeconds)}` : ''}${r.rssKB !== null ? `  (peak RSS ${fmtMB(r.rssKB)})` : ''}`);
  }

  note(c: Cell, n: string): void {
    if (!c.notes.includes(n)) c.notes.push(n);
  }
}

function med(rs: RunResult[]): number | null {
  return median(rs.filter((r) => r.ok).map((r) => r.seconds));
}

function medCpu(rs: RunResult[]): number | null {
  return median(rs.filter((r) => r.ok && r.cpuSeconds !== null).map((r) => r.cpuSeconds!));
}

function peak(rs: RunResult[]): number | null {
  const v = rs.filter((r) => r.ok && r.rssKB !== null).map((r) => r.rssKB!);
  return v.length ? Math.max(...v) : null;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (i === r.length - 1 ? 0 : (r[i] ?? '').length))));
  return rows.map((r, k) => {
    const line = r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join('  ').trimEnd();
    return k === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  });
}

/** The verdict of one cell. */
function verdict(c: Cell, u: number | null, o: number | null): string {
  const failed = c.runs.ours.some((r) => !r.ok);
  if (failed) return 'FAIL (ours)';
  if (c.op === 'admin status') {
    const n = med(c.runs.node);
    return o !== null && n !== null ? (o - n <= 0.010 ? 'met' : 'MISSED') : '-';
  }
  if (u === null || o === null || c.target === null) return '-';
  return o / u <= c.target ? 'met' : 'MISSED';
}

export function printReport(res: Results, header: string[], work: string): void {
  const out: string[] = ['', ...header, ''];
  const rows: string[][] = [['fs', 'shape', 'operation', 'upstream', 'ours', 'ours/up', 'target', 'result', 'rounds', 'cpu up', 'cpu ours', 'cpu o/u', 'RSS up', 'RSS ours', 'notes']];
  for (const c of res.cells) {
    const u = med(c.runs.upstream);
    const o = med(c.runs.ours);
    let ratio = u !== null && o !== null ? `${(o / u).toFixed(2)}` : '-';
    let target = c.target !== null ? `<= ${c.target}` : '';
    const notes = [...c.notes];
    if (c.op === 'admin status') {
      const n = med(c.runs.node);
      ratio = n !== null && o !== null ? `node+${((o - n) * 1000).toFixed(0)}ms` : '-';
      target = '<= node+10ms';
      notes.unshift(`node -e 0: ${fmtS(n)}, ${fmtMB(peak(c.runs.node))}`);
    }
    const fails = (['upstream', 'ours'] as const).flatMap((t) => c.runs[t].filter((r) => !r.ok).slice(0, 1).map((r) => `${t} failed: ${r.why}`));
    const [cu, co] = [medCpu(c.runs.upstream), medCpu(c.runs.ours)];
    rows.push([c.fs, c.shape, c.op, fmtS(u), fmtS(o), ratio, target, verdict(c, u, o),
      String(Math.max(c.runs.upstream.length, c.runs.ours.length)), fmtS(cu), fmtS(co), cu && co ? (co / cu).toFixed(2) : '-', fmtMB(peak(c.runs.upstream)), fmtMB(peak(c.runs.ours)), [...notes, ...fails].join('; ')]);
  }
  out.push(...table(rows));
  if (res.notes.length) out.push('', ...res.notes.map((n) => `note: ${n}`));
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
  const json = path.join(work, 'results.json');
  fs.writeFileSync(json, JSON.stringify({
    header, notes: res.notes,
    cells: res.cells.map((c) => ({ ...c, runs: Object.fromEntries(Object.entries(c.runs).map(([k, v]) => [k, v.map((r) => ({ ok: r.ok, seconds: r.seconds, rssKB: r.rssKB, why: r.why }))])) })),
  }, null, 2));
  process.stdout.write(`(raw numbers: ${json})\n`);
}
