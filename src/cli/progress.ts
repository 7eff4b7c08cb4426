/**
 * One progress line on a terminal for long operations (commit, checkout, pulls, deploy).
 * Written to stderr only when stderr is a TTY, redrawn at most every 200 ms, and erased
 * before the command prints its result, so scripts and logs never see it.
 */
export interface TerminalProgress<P> {
  /** Callback to hand to the library; undefined when there is no terminal (skips the work). */
  readonly callback: ((p: P) => void) | undefined;
  /** Erase the line (call before printing the final result, also on error). */
  clear(): void;
}

export function terminalProgress<P>(
  format: (p: P) => string,
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 200,
): TerminalProgress<P> {
  if (!stream.isTTY) return { callback: undefined, clear: () => {} };
  let shown = false;
  let last = 0;
  return {
    callback: (p: P) => {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      const width = Math.max(20, (stream.columns || 80) - 1); // a terminal that reports no size: 80
      stream.write(`\r\x1b[K${format(p).slice(0, width)}`);
      shown = true;
    },
    clear: () => {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** Run `fn` with a progress line that is always erased afterwards, even on error. */
export async function withTerminalProgress<P, T>(
  format: (p: P) => string,
  fn: (callback: ((p: P) => void) | undefined) => Promise<T>,
): Promise<T> {
  const progress = terminalProgress(format);
  try {
    return await fn(progress.callback);
  } finally {
    progress.clear();
  }
}
