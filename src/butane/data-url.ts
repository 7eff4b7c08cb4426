/**
 * Embedding file contents in the Ignition config as a `data:` URL, the way Butane chooses the
 * encoding: percent-escaped text, or base64 when shorter, or (fcos 1.1.0 and later, when the
 * user did not set a compression) gzip+base64 when that is shorter still. The gzip stream comes
 * from zlib, not Go's compressor, so its bytes differ from upstream's; what it decompresses to
 * does not.
 */
import { gzipSync } from 'node:zlib';

/** RFC 2396 unreserved characters stay as they are; every other byte becomes %XX. */
export function escapeDataUrl(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface DataUrl {
  source: string;
  /** The compression field to set, or undefined to keep the user's own. */
  compression?: string;
}

/** fcos 1.0.0 (spec 3.0.0): always the percent-escaped form, compression untouched. */
export function plainDataUrl(bytes: Uint8Array): DataUrl {
  return { source: `data:,${escapeDataUrl(bytes)}` };
}

/**
 * fcos 1.1.0 and later. An unset compression is written as "" so that a merged child config
 * cannot inherit a parent's; a compression the user set means the bytes are compressed
 * already, so they are only encoded.
 */
export function makeDataUrl(bytes: Uint8Array, userCompression: string | undefined): DataUrl {
  const userCompressed = userCompression !== undefined && userCompression !== '';
  let opaque = `,${escapeDataUrl(bytes)}`;
  const b64 = `;base64,${Buffer.from(bytes).toString('base64')}`;
  if (b64.length < opaque.length) opaque = b64;
  let compression: string | undefined = userCompressed ? undefined : '';
  if (!userCompressed) {
    const gz = `;base64,${gzipSync(bytes, { level: 9 }).toString('base64')}`;
    if (gz.length + 'gzip'.length < opaque.length) {
      opaque = gz;
      compression = 'gzip';
    }
  }
  return compression === undefined ? { source: `data:${opaque}` } : { source: `data:${opaque}`, compression };
}
