/** Byte size as GLib's g_format_size (SI units, NO-BREAK SPACE before the unit): `10 bytes`, `1.2\u00a0kB`. */
export function formatSize(n: number): string {
  if (n < 1000) return n === 1 ? '1 byte' : `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(1)}\u00a0${units[i]}`;
}
