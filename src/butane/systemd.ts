/** systemd.units with their drop-ins; fcos 1.5's contents_local reads the unit text from --files-dir. */
import type { DecodedStruct } from './decode.js';
import { LocalFileError, readLocalFile } from './local-file.js';
import type { ResourceContext } from './resource.js';

type Json = Record<string, unknown>;

function contents(from: DecodedStruct, path: (string | number)[], ctx: ResourceContext): string | undefined {
  if (from.contents !== undefined && from.contents_local !== undefined) {
    ctx.report.error([...path, 'contents_local'], 'only one of the following can be set: contents, contents_local');
    return from.contents as string;
  }
  if (typeof from.contents_local === 'string' && from.contents_local !== '') {
    try {
      return readLocalFile(from.contents_local, ctx.filesDir).toString('utf8');
    } catch (e) {
      if (!(e instanceof LocalFileError)) throw e;
      ctx.report.error([...path, 'contents_local'], e.message);
    }
  }
  return from.contents as string | undefined;
}

function translateDropin(from: DecodedStruct, path: (string | number)[], ctx: ResourceContext): Json {
  const out: Json = {};
  const text = contents(from, path, ctx);
  if (text !== undefined) out.contents = text;
  out.name = from.name ?? '';
  return out;
}

function translateUnit(from: DecodedStruct, index: number, ctx: ResourceContext): Json {
  const path = ['systemd', 'units', index];
  const out: Json = {};
  const text = contents(from, path, ctx);
  if (text !== undefined) out.contents = text;
  const dropins = (from.dropins as DecodedStruct[] | undefined) ?? [];
  if (dropins.length > 0) out.dropins = dropins.map((d, i) => translateDropin(d, [...path, 'dropins', i], ctx));
  if (from.enabled !== undefined) out.enabled = from.enabled;
  if (from.mask !== undefined) out.mask = from.mask;
  out.name = from.name ?? '';
  return out;
}

export function translateSystemd(from: DecodedStruct | undefined, ctx: ResourceContext): Json | undefined {
  const units = (from?.units as DecodedStruct[] | undefined) ?? [];
  return units.length > 0 ? { units: units.map((u, i) => translateUnit(u, i, ctx)) } : undefined;
}
