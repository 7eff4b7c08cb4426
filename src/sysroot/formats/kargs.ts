/**
 * Kernel command-line arguments, modelled on upstream's OstreeKernelArgs: an ordered list of
 * `key` / `key=value` entries where one key may carry several values (`console=ttyS0
 * console=tty0`).  The key is everything before the first `=`; the value keeps everything
 * after it verbatim, including any double quotes (`foo="a b"` has the value `"a b"`), so a
 * string survives parse → toString unchanged apart from runs of whitespace.
 *
 * Splitting is quote-aware (the behaviour upstream adopted after 2022.7): whitespace inside
 * double quotes does not separate arguments.  Unlike 2022.7, which split on single spaces and
 * so kept empty arguments for doubled spaces, empty arguments are dropped here; a BLS
 * `options` line written by either never contains them.
 */
import { OstreeError } from '../../errors.js';

export interface KernelArg {
  key: string;
  /** null for a bare `key`; '' for `key=` */
  value: string | null;
}

/** Split a command line on whitespace outside double quotes.  An unterminated quote runs to
 * the end of the string (the remainder becomes one argument), as upstream does. */
export function splitKernelArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let have = false;
  for (const c of s) {
    if (c === '"') { quoted = !quoted; cur += c; have = true; continue; }
    if (!quoted && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      if (have) out.push(cur);
      cur = ''; have = false;
      continue;
    }
    cur += c; have = true;
  }
  if (have) out.push(cur);
  return out;
}

function splitKeyValue(arg: string): KernelArg {
  const eq = arg.indexOf('=');
  if (eq < 0) return { key: arg, value: null };
  return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
}

function format(e: KernelArg): string {
  return e.value === null ? e.key : `${e.key}=${e.value}`;
}

export class KernelArgs {
  private order: KernelArg[] = [];

  /** Parse an `options` string (or /proc/cmdline contents). */
  static parse(s: string): KernelArgs {
    const k = new KernelArgs();
    for (const a of splitKernelArgs(s)) k.appendOne(a);
    return k;
  }

  static fromArray(args: readonly string[]): KernelArgs {
    const k = new KernelArgs();
    for (const a of args) k.appendOne(a);
    return k;
  }

  toString(): string { return this.order.map(format).join(' '); }

  /** Every argument as `key` or `key=value`, in order (upstream to_strv). */
  toArray(): string[] { return this.order.map(format); }

  entries(): KernelArg[] { return this.order.map((e) => ({ ...e })); }

  get length(): number { return this.order.length; }

  clone(): KernelArgs {
    const k = new KernelArgs();
    k.order = this.entries();
    return k;
  }

  equals(other: KernelArgs): boolean {
    if (this.order.length !== other.order.length) return false;
    return this.order.every((e, i) => e.key === other.order[i]!.key && e.value === other.order[i]!.value);
  }

  /** True when `key` (the part of `arg` before any `=`) is present, whatever its values
   * (upstream ostree_kernel_args_contains compares keys only). */
  has(arg: string): boolean {
    const { key } = splitKeyValue(arg);
    return this.order.some((e) => e.key === key);
  }

  /** All values of `key` in order (null entries for bare occurrences). */
  getValues(key: string): Array<string | null> {
    return this.order.filter((e) => e.key === key).map((e) => e.value);
  }

  /** undefined when the key is absent; null when its last occurrence has no `=`. */
  getLastValue(key: string): string | null | undefined {
    for (let i = this.order.length - 1; i >= 0; i--) {
      if (this.order[i]!.key === key) return this.order[i]!.value;
    }
    return undefined;
  }

  /**
   * `key[=value]`: drop every existing value of key and put this single entry where the first
   * old one was; append it if the key is absent.  The argument is taken whole (not split).
   */
  replace(arg: string): void {
    const entry = splitKeyValue(arg);
    const first = this.order.findIndex((e) => e.key === entry.key);
    if (first < 0) { this.order.push(entry); return; }
    this.order = this.order.filter((e) => e.key !== entry.key);
    this.order.splice(first, 0, entry);
  }

  /** Add at the end, even if the key (or the very same argument) is already present.  A
   * string holding several arguments appends each of them. */
  append(arg: string): void {
    for (const a of splitKernelArgs(arg)) this.appendOne(a);
  }

  /** Append unless the key is already present (any value). */
  appendIfMissing(arg: string): void {
    for (const a of splitKernelArgs(arg)) if (!this.has(a)) this.appendOne(a);
  }

  /**
   * Remove `key` (allowed only when the key has exactly one value) or the specific entry
   * `key=value`.  Errors (EINVAL) carry upstream's messages: `No key 'K' found`,
   * `No karg 'K=V' found`, `Multiple values for key 'K' found`.
   */
  delete(arg: string): void {
    for (const a of splitKernelArgs(arg)) this.deleteOne(a);
  }

  /** Delete only if the key is present (upstream delete_if_present). */
  deleteIfPresent(arg: string): void {
    for (const a of splitKernelArgs(arg)) if (this.has(a)) this.deleteOne(a);
  }

  /**
   * Upstream ostree_kernel_args_new_replace: `key=new` changes the value of the only
   * occurrence of key; `key=old=new` changes the occurrence whose value is `old`.
   */
  newReplace(arg: string): void {
    for (const a of splitKernelArgs(arg)) {
      const { key, value } = splitKeyValue(a);
      const idx = this.order.map((e, i) => (e.key === key ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) throw new OstreeError('EINVAL', `No key '${key}' found`);
      if (value !== null && value.includes('=')) {
        const { key: oldVal, value: newVal } = splitKeyValue(value);
        const i = idx.find((j) => this.order[j]!.value === oldVal);
        if (i === undefined) throw new OstreeError('EINVAL', `No karg '${key}=${oldVal}' found`);
        this.order[i] = { key, value: newVal };
        continue;
      }
      if (idx.length > 1) throw new OstreeError('EINVAL', `Multiple values for key '${key}' found`);
      this.order[idx[0]!] = { key, value };
    }
  }

  private appendOne(arg: string): void {
    this.order.push(splitKeyValue(arg));
  }

  private deleteOne(arg: string): void {
    const { key, value } = splitKeyValue(arg);
    const idx = this.order.map((e, i) => (e.key === key ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) throw new OstreeError('EINVAL', `No key '${key}' found`);
    if (idx.length === 1) {
      const only = this.order[idx[0]!]!;
      if (value !== null && value !== only.value) {
        throw new OstreeError('EINVAL', `No karg '${key}=${value}' found`);
      }
      this.order.splice(idx[0]!, 1);
      return;
    }
    // Several values: `key` alone matches only a bare occurrence; `key=` only an empty value.
    const i = idx.find((j) => this.order[j]!.value === value);
    if (i === undefined) {
      if (value === null) throw new OstreeError('EINVAL', `Multiple values for key '${arg}' found`);
      throw new OstreeError('EINVAL', `No karg '${arg}' found`);
    }
    this.order.splice(i, 1);
  }
}
