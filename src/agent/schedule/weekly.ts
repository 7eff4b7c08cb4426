/**
 * Periodic update windows, as Zincati's `periodic` strategy has them: each
 * `[[updates.periodic.window]]` names week days, a start time (`hh:mm`, 24 h) and a length in
 * minutes, in the wall-clock time of one time zone (`updates.periodic.time_zone`, an IANA
 * name or `localtime`; default UTC). A window may run past midnight and past the end of the
 * week (Sunday into Monday). Wall-clock time is what counts: across a DST change a window
 * keeps its local start, and a start that falls in the skipped hour opens at the first local
 * minute after the gap. Time zone rules are the ICU data Node ships (Intl).
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';

export const MINUTES_PER_WEEK = 7 * 24 * 60;

export interface WindowSpec {
  /** 0 = Monday ... 6 = Sunday */
  days: number[];
  /** minutes after local midnight */
  startMinute: number;
  lengthMinutes: number;
}

const DAY_NAMES: Record<string, number> = {
  mon: 0, monday: 0, tue: 1, tuesday: 1, wed: 2, wednesday: 2, thu: 3, thursday: 3,
  fri: 4, friday: 4, sat: 5, saturday: 5, sun: 6, sunday: 6,
};

export function parseWeekday(s: string): number {
  const d = DAY_NAMES[s.trim().toLowerCase()];
  if (d === undefined) throw new OstreeError('ECONFIG', `unrecognized week day "${s}" (Mon..Sun or Monday..Sunday)`);
  return d;
}

export function parseTimeOfDay(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new OstreeError('ECONFIG', `invalid start_time "${s}" (expected hh:mm, 00:00 to 23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** One `[[updates.periodic.window]]` table. */
export function parseWindowSpec(t: Record<string, unknown>): WindowSpec {
  const { days, start_time: start, length_minutes: len } = t;
  if (!Array.isArray(days) || days.length === 0 || !days.every((d) => typeof d === 'string')) {
    throw new OstreeError('ECONFIG', 'days must be a non-empty array of week day names');
  }
  if (typeof start !== 'string') throw new OstreeError('ECONFIG', 'start_time must be a string "hh:mm"');
  if (typeof len !== 'number' || !Number.isInteger(len) || len <= 0 || len > MINUTES_PER_WEEK) {
    throw new OstreeError('ECONFIG', `length_minutes must be an integer from 1 to ${MINUTES_PER_WEEK}`);
  }
  return { days: [...new Set((days as string[]).map(parseWeekday))].sort(), startMinute: parseTimeOfDay(start), lengthMinutes: len };
}

/** `localtime` is the zone /etc/localtime links to (else the process's); others are checked. */
export function resolveTimeZone(name: string, localtimeLink = '/etc/localtime'): string {
  let tz = name;
  if (name === 'localtime') {
    try {
      const target = fs.readlinkSync(localtimeLink);
      const i = target.indexOf('zoneinfo/');
      tz = i >= 0 ? target.slice(i + 'zoneinfo/'.length) : 'UTC';
    } catch { tz = Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC'; }
  }
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); } catch {
    throw new OstreeError('ECONFIG', `unknown time zone "${name}" (an IANA name such as Europe/Rome, or localtime)`);
  }
  return tz;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** Minutes since Monday 00:00 of `t`'s wall-clock time in `tz`. */
export function weekMinute(t: Date, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  let day = 0; let h = 0; let m = 0;
  for (const p of f.formatToParts(t)) {
    if (p.type === 'weekday') day = WEEKDAY_INDEX[p.value] ?? 0;
    else if (p.type === 'hour') h = Number(p.value);
    else if (p.type === 'minute') m = Number(p.value);
  }
  return day * 1440 + h * 60 + m;
}

/** The windows as [start, end) minute-of-week intervals (end may pass the week's end). */
export function intervals(windows: WindowSpec[]): Array<[number, number]> {
  return windows.flatMap((w) => w.days.map((d): [number, number] => [d * 1440 + w.startMinute, d * 1440 + w.startMinute + w.lengthMinutes]));
}

function insideAt(m: number, iv: Array<[number, number]>): boolean {
  return iv.some(([s, e]) => (m >= s && m < e) || (m + MINUTES_PER_WEEK >= s && m + MINUTES_PER_WEEK < e));
}

export function inWindow(t: Date, tz: string, windows: WindowSpec[]): boolean {
  return insideAt(weekMinute(t, tz), intervals(windows));
}

/** When the next window opens after `t` (`t` itself when inside one; null without windows). */
export function nextWindowStart(t: Date, tz: string, windows: WindowSpec[]): Date | null {
  const iv = intervals(windows);
  if (iv.length === 0) return null;
  if (insideAt(weekMinute(t, tz), iv)) return t;
  const base = new Date(Math.floor(t.getTime() / 60000) * 60000);
  const m = weekMinute(base, tz);
  const delta = Math.min(...iv.map(([s]) => ((s % MINUTES_PER_WEEK) - m + MINUTES_PER_WEEK) % MINUTES_PER_WEEK));
  let cand = new Date(base.getTime() + delta * 60000);
  // A DST change between now and then shifts wall time against elapsed time: correct by the drift.
  const want = (m + delta) % MINUTES_PER_WEEK;
  const drift = ((want - weekMinute(cand, tz) + MINUTES_PER_WEEK + MINUTES_PER_WEEK / 2) % MINUTES_PER_WEEK) - MINUTES_PER_WEEK / 2;
  cand = new Date(cand.getTime() + drift * 60000);
  // The start fell in a skipped hour (or the correction overshot): walk to the first minute inside.
  for (let i = 0; i < 24 * 60 && !insideAt(weekMinute(cand, tz), iv); i++) cand = new Date(cand.getTime() + 60000);
  if (cand.getTime() <= t.getTime()) cand = new Date(t.getTime() + 60000);
  return cand;
}
