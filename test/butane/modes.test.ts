/**
 * The decimal-mode warning flags exactly the modes upstream Butane's own test lists
 * (base/util/file_test.go, expectedBadDirModes / expectedBadFileModes) over -1..10000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksDecimal } from '../../src/butane/modes.js';

const BAD_DIR = [500, 550, 555, 700, 750, 755, 770, 775, 777, 1700, 1750, 1755, 1770, 1775, 1777, 2700, 2750, 2755, 2770, 2775, 2777, 3700, 3750, 3755, 3770, 3775, 3777];
const BAD_FILE = [
  400, 440, 444, 500, 550, 555, 600, 640, 644, 660, 664, 666, 700, 750, 755, 770, 775, 777, 2500, 2550, 2555, 2700, 2750, 2755, 2770, 2775, 4500, 4550, 4555, 4700, 4750, 4755, 4770,
  4775, 6500, 6550, 6555, 6700, 6750, 6755, 6770, 6775,
];

const flagged = (directory: boolean) => Array.from({ length: 10002 }, (_, i) => i - 1).filter((m) => looksDecimal(m, directory));

test('directory modes that look decimal', () => assert.deepEqual(flagged(true), BAD_DIR));
test('file modes that look decimal', () => assert.deepEqual(flagged(false), BAD_FILE));
