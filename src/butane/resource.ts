/**
 * A file's contents (or an append fragment) in Ignition's form: `inline:` and `local:` become
 * `data:` URLs, `source:` passes through, `http_headers` become `httpHeaders`.
 */
import type { Report, YamlPath } from './diagnostics.js';
import type { DecodedStruct } from './decode.js';
import { makeDataUrl, plainDataUrl } from './data-url.js';
import { LocalFileError, readLocalFile } from './local-file.js';
import type { SpecVersion } from './versions.js';

export interface ResourceContext {
  spec: SpecVersion;
  filesDir: string | undefined;
  report: Report;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Butane: at most one of inline, local and source (reported at the last of them; at inline in 1.0.0). */
export function checkResourceSources(res: DecodedStruct, path: YamlPath, report: Report, minor: number): boolean {
  const set = (['local', 'inline', 'source'] as const).filter((k) => res[k] !== undefined);
  if (set.length > 1) {
    report.error([...path, minor === 0 ? 'inline' : set[set.length - 1]!], 'only one of the following can be set: inline, local, source');
    return false;
  }
  return true;
}

function embedded(bytes: Uint8Array, compression: string | undefined, ctx: ResourceContext) {
  return ctx.spec.minor === 0 ? plainDataUrl(bytes) : makeDataUrl(bytes, compression);
}

export function translateResource(res: DecodedStruct, path: YamlPath, ctx: ResourceContext): Record<string, unknown> {
  let compression = str(res.compression);
  let source = str(res.source);
  if (checkResourceSources(res, path, ctx.report, ctx.spec.minor)) {
    let bytes: Uint8Array | undefined;
    if (res.inline !== undefined) bytes = Buffer.from(str(res.inline)!, 'utf8');
    if (res.local !== undefined) {
      try {
        bytes = readLocalFile(str(res.local)!, ctx.filesDir);
      } catch (e) {
        if (!(e instanceof LocalFileError)) throw e;
        ctx.report.error([...path, 'local'], e.message);
      }
    }
    if (bytes !== undefined) {
      const url = embedded(bytes, compression, ctx);
      source = url.source;
      if (url.compression !== undefined) compression = url.compression;
    }
  }
  const out: Record<string, unknown> = {};
  if (compression !== undefined) out.compression = compression;
  const headers = res.http_headers as DecodedStruct[] | undefined;
  if (headers !== undefined && headers.length > 0) {
    out.httpHeaders = headers.map((h) => (h.value !== undefined ? { name: str(h.name) ?? '', value: h.value } : { name: str(h.name) ?? '' }));
  }
  if (source !== undefined) out.source = source;
  const hash = str((res.verification as DecodedStruct | undefined)?.hash);
  if (hash !== undefined) out.verification = { hash };
  return out;
}
