/**
 * Standard output for every verb, and what happens when it goes away.
 *
 * A reader that closes the pipe early (`ostree refs | head -1`, `ostree log REF | less` quit
 * early) is normal use: upstream ignores SIGPIPE and the failed writes and exits 0, and so do
 * we: the first EPIPE marks stdout closed, later output is dropped, and the command finishes
 * its work (stopping a deploy half-way because its log lines have no reader would be worse).
 * Any other write error (ENOSPC on a full disk, EIO) is remembered and reported once at the
 * end, as one `error:` line and exit 1, instead of Node's unhandled 'error' event trace.
 */

let guarded = false;
let closed = false;
let failure: NodeJS.ErrnoException | null = null;

/** Install the stdout error handler (once, from main). */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    closed = true;
    if (e.code !== 'EPIPE' && failure === null) failure = e;
  });
  // Nowhere left to report a broken stderr: drop it rather than crash with a trace.
  process.stderr.on('error', () => {});
}

/** True once stdout can take no more output (reader gone or write error). */
export function stdoutClosed(): boolean {
  return closed || process.stdout.destroyed;
}

/** A write error on stdout other than a closed pipe, if one happened. */
export function stdoutFailure(): NodeJS.ErrnoException | null {
  return failure;
}

/** Resolves once everything written so far has reached stdout or failed (errors land in stdoutFailure). */
export async function stdoutFlushed(): Promise<void> {
  if (stdoutClosed()) return;
  await new Promise<void>((resolve) => { process.stdout.write('', () => resolve()); });
}

/** Write to stdout; dropped once stdout is closed. */
export function out(s: string | Uint8Array): void {
  if (stdoutClosed()) return;
  process.stdout.write(s);
}

/** Write one line (adds the newline unless `s` already ends with one). */
export function print(s: string): void {
  out(s.endsWith('\n') ? s : `${s}\n`);
}

/**
 * Write a chunk of a stream and wait until stdout can take more. Returns false when stdout
 * is closed, so a copy loop can stop reading its source.
 */
export async function writeChunk(chunk: Uint8Array): Promise<boolean> {
  if (stdoutClosed()) return false;
  if (process.stdout.write(chunk)) return !stdoutClosed();
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('close', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.on('drain', done);
    process.stdout.on('close', done);
    process.stdout.on('error', done);
  });
  return !stdoutClosed();
}
