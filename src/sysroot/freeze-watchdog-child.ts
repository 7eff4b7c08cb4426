/**
 * The freeze watchdog process (see freeze-watchdog.ts): says it is ready, then waits for the
 * parent's "freezing now" byte; if the "done" byte does not follow within the timeout, or the
 * parent goes away first, it thaws /boot so a dying parent never leaves it frozen.
 * argv: BOOT TIMEOUT_MS DEBUG(0|1).  SIGINT/SIGTERM are ignored, as upstream's watchdog does.
 */
const [bootPath, timeoutArg, debugArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg);
const debug = debugArg === '1';
let received = 0;
let timer: NodeJS.Timeout | undefined;

async function thawAndExit(): Promise<void> {
  if (timer) clearTimeout(timer);
  try {
    const { fsThaw } = await import('../native/ioctl.js');
    fsThaw(bootPath!);
  } catch {
    // Not frozen (EINVAL), not permitted, or not supported: nothing to undo.
  }
  finish();
}

function finish(): void {
  if (debug) process.stderr.write('fifreeze watchdog was run\n');
  process.exit(0);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => {});
process.stdin.on('data', (chunk: Buffer) => {
  received += chunk.length;
  if (received >= 2) { if (timer) clearTimeout(timer); finish(); return; }
  if (received === 1 && !timer) timer = setTimeout(() => { void thawAndExit(); }, timeoutMs);
});
process.stdin.on('end', () => { if (received >= 1) void thawAndExit(); else finish(); });
process.stdout.write('!');
