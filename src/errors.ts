/**
 * Typed errors. Every error the library throws on purpose is an OstreeError with a stable
 * `code` (machine-readable, for scripts and tests) and a message that names what is wrong and,
 * where there is one, what to do about it. The CLI prints `error: <message>` and exits 1,
 * as upstream ostree does.
 */
export type ErrorCode =
  | 'EINVAL'          // bad argument or malformed input
  | 'ENOENT'          // a named thing (ref, object, deployment, file) does not exist
  | 'EEXIST'          // something to create already exists
  | 'ECORRUPT'        // an object or on-disk structure fails validation
  | 'EBUSY'           // a lock is held by someone else
  | 'EPERM'           // not permitted (needs root, booted deployment, ...)
  | 'ESTATE'          // the system is not in a state that allows the operation
  | 'ECONFIG'         // unreadable or invalid configuration
  | 'EIO'             // an external tool or syscall failed
  | 'EFAULT_INJECTED'; // deliberate stop for fault-injection tests

export class OstreeError extends Error {
  readonly code: ErrorCode;
  readonly path?: string;
  constructor(code: ErrorCode, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'OstreeError';
    this.code = code;
    if (options?.path !== undefined) this.path = options.path;
  }
}

export function isOstreeError(e: unknown, code?: ErrorCode): e is OstreeError {
  return e instanceof OstreeError && (code === undefined || e.code === code);
}

/** True for a Node fs error with the given errno code (ENOENT, EEXIST, ...). */
export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
