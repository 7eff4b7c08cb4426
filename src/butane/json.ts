/**
 * The Ignition config as text, byte for byte as Butane prints it: Go's encoding/json escapes
 * <, > and & (and U+2028/U+2029) inside strings, and --pretty indents by two spaces.
 */
export function toIgnitionJson(config: unknown, pretty: boolean): string {
  const text = pretty ? JSON.stringify(config, null, 2) : JSON.stringify(config);
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
