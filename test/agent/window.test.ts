import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWindow, nextWindowStart, parseWindowSpec, resolveTimeZone, weekMinute } from '../../src/agent/schedule/weekly.js';

const w = (days: string[], start: string, len: number) => parseWindowSpec({ days, start_time: start, length_minutes: len });
const at = (iso: string) => new Date(iso);

test('windows: UTC, across midnight and across the week end', () => {
  const sunLate = [w(['Sun'], '23:00', 120)]; // Sun 23:00 .. Mon 01:00
  assert.equal(inWindow(at('2026-12-06T22:59:00Z'), 'UTC', sunLate), false); // Sunday
  assert.equal(inWindow(at('2026-12-06T23:00:00Z'), 'UTC', sunLate), true);
  assert.equal(inWindow(at('2026-12-07T00:59:00Z'), 'UTC', sunLate), true); // Monday, wrapped
  assert.equal(inWindow(at('2026-12-07T01:00:00Z'), 'UTC', sunLate), false);
  assert.equal(nextWindowStart(at('2026-12-07T01:00:00Z'), 'UTC', sunLate)!.toISOString(), '2026-12-13T23:00:00.000Z');
  const wedNight = [w(['Wed'], '22:30', 180)]; // Wed 22:30 .. Thu 01:30
  assert.equal(inWindow(at('2026-12-10T01:29:00Z'), 'UTC', wedNight), true);
  assert.equal(inWindow(at('2026-12-10T01:30:00Z'), 'UTC', wedNight), false);
  assert.equal(nextWindowStart(at('2026-12-06T12:00:30Z'), 'UTC', wedNight)!.toISOString(), '2026-12-09T22:30:00.000Z');
  // inside: now
  const now = at('2026-12-09T23:00:00Z');
  assert.equal(nextWindowStart(now, 'UTC', wedNight), now);
  assert.equal(nextWindowStart(now, 'UTC', []), null);
});

test('windows: wall-clock time in the configured zone, across DST changes', () => {
  const tz = resolveTimeZone('America/New_York');
  const sat = [w(['Sat'], '02:00', 60)];
  // winter (EST, UTC-5): Sat 02:00 local = 07:00Z
  assert.equal(inWindow(at('2026-12-12T07:30:00Z'), tz, sat), true);
  assert.equal(inWindow(at('2026-12-12T02:30:00Z'), tz, sat), false);
  // summer (EDT, UTC-4): Sat 02:00 local = 06:00Z
  assert.equal(inWindow(at('2026-07-11T06:30:00Z'), tz, sat), true);
  // the DST start (Sun 2026-03-08 02:00 → 03:00): a window at Sun 02:30 is skipped, opens at 03:00 local
  const sun = [w(['Sun'], '02:30', 60)];
  const next = nextWindowStart(at('2026-03-07T12:00:00Z'), tz, sun)!;
  assert.equal(next.toISOString(), '2026-03-08T07:00:00.000Z'); // 03:00 EDT
  assert.equal(inWindow(next, tz, sun), true);
  // the DST end (Sun 2026-11-01 02:00 → 01:00): from Saturday noon the next Sun 03:00 is 09:00Z (EST), 21 h later
  const sun3 = [w(['Sun'], '03:00', 30)];
  assert.equal(nextWindowStart(at('2026-10-31T12:00:00Z'), tz, sun3)!.toISOString(), '2026-11-01T08:00:00.000Z');
  assert.equal(weekMinute(at('2026-11-01T08:00:00Z'), tz), 6 * 1440 + 180);
  // Europe/Rome, another hemisphere of rules: Monday 00:10 local in summer is Sunday 22:10Z
  const rome = resolveTimeZone('Europe/Rome');
  assert.equal(inWindow(at('2026-07-12T22:10:00Z'), rome, [w(['Mon'], '00:00', 30)]), true);
  assert.equal(inWindow(at('2026-07-12T22:10:00Z'), 'UTC', [w(['Mon'], '00:00', 30)]), false);
});

test('windows: bad zone names are refused', () => {
  assert.throws(() => resolveTimeZone('Mars/Olympus'), /unknown time zone "Mars\/Olympus"/);
  assert.equal(resolveTimeZone('UTC'), 'UTC');
});
