/**
 * What the harness tells the person watching it: one line when a phase starts and one when it
 * ends, with its elapsed time, and while it runs its latest milestone (debootstrap's stage, the
 * guest's boot stage).  On a terminal the milestone lives in one status line rewritten in place
 * (with a ticking clock); in a log (stderr not a terminal) each new stage is one plain line, and a
 * "still working" line marks every 30 s of silence, so a long step is never silent and a CI log
 * stays short.  Every command line and its output are shown only with VM_VERBOSE=1.
 *
 * This module imports nothing of the harness: common.ts re-exports `log` from here.
 */

const TTY = process.stderr.isTTY === true && process.env['TERM'] !== 'dumb';
/** VM_VERBOSE=1: print each command the harness runs (the default shows phases only). */
export const VERBOSE = process.env['VM_VERBOSE'] === '1';
const START = Date.now();
const HEARTBEAT_MS = 30_000;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** "4.2 s", "1 min 05 s". */
export function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}

/** "[vm 1:23]": time since the harness started, so a log shows where the minutes went. */
function clock(): string {
  const s = Math.floor((Date.now() - START) / 1000);
  return `[vm ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}]`;
}

export interface Phase {
  /**
   * The phase's current stage.  `stage` names the stage when `text` is more detailed (e.g. one
   * note per downloaded package, all in the stage "downloading packages"): a terminal shows every
   * note's text, a log gets one line per new stage.
   */
  note(text: string, stage?: string): void;
}

interface Running {
  title: string;
  t0: number;
  text: string;
  stage: string | null;
  lastLine: number;
  frame: number;
}

let current: Running | null = null;
let statusShown = false;
let timer: NodeJS.Timeout | null = null;

function clearStatus(): void {
  if (TTY && statusShown) process.stderr.write('\r\x1b[2K');
  statusShown = false;
}

function drawStatus(): void {
  if (!TTY || !current) return;
  const c = current;
  const spin = SPINNER[c.frame++ % SPINNER.length]!;
  const width = (process.stderr.columns || 100) - 1;
  const line = `${clock()} ${spin} ${c.title}${c.text ? ` — ${c.text}` : ''}  ${Math.floor((Date.now() - c.t0) / 1000)} s`;
  process.stderr.write(`\r\x1b[2K${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
  statusShown = true;
}

/** One line of output, keeping the status line (if any) below it. */
function emit(line: string): void {
  clearStatus();
  process.stderr.write(`${clock()} ${line}\n`);
  if (current) current.lastLine = Date.now();
  drawStatus();
}

export function log(msg: string): void {
  emit(msg);
}

/** A step that took no time worth showing (e.g. a cache hit): one line. */
export function done(title: string, detail = ''): void {
  emit(`✓ ${title}${detail ? `: ${detail}` : ''}`);
}

function tick(): void {
  if (!current) return;
  if (TTY) { drawStatus(); return; }
  if (Date.now() - current.lastLine >= HEARTBEAT_MS) {
    emit(`  · still working${current.text ? ` (${current.text})` : ''}, ${seconds(Date.now() - current.t0)} so far`);
  }
}

/**
 * Run `fn` as a phase: a start line (in logs; `detail` says more than the title), the milestones
 * it notes, and an end line with the elapsed time, or a failure line before the error goes on up.  Phases do not nest: a phase
 * started inside another one reports as a milestone of the outer one.
 */
export async function phase<T>(title: string, fn: (p: Phase) => Promise<T>, detail = ''): Promise<T> {
  if (current) {
    const outer: Phase = { note: (t, s) => notePhase(t, s) };
    notePhase(title);
    return fn(outer);
  }
  const r: Running = { title, t0: Date.now(), text: detail, stage: null, lastLine: Date.now(), frame: 0 };
  if (!TTY) emit(`▸ ${title}${detail ? `: ${detail}` : ''}`);
  current = r;
  timer = setInterval(tick, TTY ? 120 : 1000);
  timer.unref();
  drawStatus();
  const finish = (mark: string, extra = '') => {
    if (timer) clearInterval(timer);
    timer = null;
    current = null;
    clearStatus();
    process.stderr.write(`${clock()} ${mark} ${title}${extra} (${seconds(Date.now() - r.t0)})\n`);
  };
  try {
    const v = await fn({ note: (t, s) => notePhase(t, s) });
    finish('✓');
    return v;
  } catch (e) {
    finish('✗', r.text ? ` — failed while ${r.text}` : ' — failed');
    throw e;
  }
}

function notePhase(text: string, stage?: string): void {
  const c = current;
  if (!c) return;
  const s = stage ?? text;
  const newStage = s !== c.stage;
  c.text = text;
  c.stage = s;
  if (TTY) drawStatus();
  else if (newStage) emit(`  · ${s}`);
}
