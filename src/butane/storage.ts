/**
 * storage.files, storage.directories and storage.links, in the key order of Ignition's Go types
 * (that is the order Butane's JSON has): group, overwrite, path, user, then the node's own keys.
 */
import type { DecodedStruct } from './decode.js';
import { DECIMAL_MODE_WARNING, looksDecimal } from './modes.js';
import { translateResource, type ResourceContext } from './resource.js';

type Json = Record<string, unknown>;

function owner(v: unknown): Json | undefined {
  const o = v as DecodedStruct | undefined;
  if (o === undefined || (o.id === undefined && o.name === undefined)) return undefined;
  const out: Json = {};
  if (o.id !== undefined) out.id = o.id;
  if (o.name !== undefined) out.name = o.name;
  return out;
}

function node(from: DecodedStruct): Json {
  const out: Json = {};
  const group = owner(from.group);
  if (group) out.group = group;
  if (from.overwrite !== undefined) out.overwrite = from.overwrite;
  out.path = from.path ?? '';
  const user = owner(from.user);
  if (user) out.user = user;
  return out;
}

function checkMode(from: DecodedStruct, path: (string | number)[], directory: boolean, ctx: ResourceContext): void {
  if (typeof from.mode === 'number' && looksDecimal(from.mode, directory)) ctx.report.warn([...path, 'mode'], DECIMAL_MODE_WARNING);
}

export function translateFile(from: DecodedStruct, index: number, ctx: ResourceContext): Json {
  const path = ['storage', 'files', index];
  checkMode(from, path, false, ctx);
  const out = node(from);
  const append = (from.append as DecodedStruct[] | undefined) ?? [];
  if (append.length > 0) out.append = append.map((a, i) => translateResource(a, [...path, 'append', i], ctx));
  if (from.contents !== undefined) {
    const contents = translateResource(from.contents as DecodedStruct, [...path, 'contents'], ctx);
    if (Object.keys(contents).length > 0) out.contents = contents;
  }
  if (from.mode !== undefined) out.mode = from.mode;
  return out;
}

export function translateDirectory(from: DecodedStruct, index: number, ctx: ResourceContext): Json {
  checkMode(from, ['storage', 'directories', index], true, ctx);
  const out = node(from);
  if (from.mode !== undefined) out.mode = from.mode;
  return out;
}

export function translateLink(from: DecodedStruct, ctx: ResourceContext): Json {
  const out = node(from);
  if (from.hard !== undefined) out.hard = from.hard;
  // specs before 3.3.0 have a plain string target, always written; later ones omit it when unset
  if (from.target !== undefined) out.target = from.target;
  else if (ctx.spec.minor < 4) out.target = '';
  return out;
}

export function translateStorage(from: DecodedStruct | undefined, ctx: ResourceContext): Json | undefined {
  if (from === undefined) return undefined;
  const out: Json = {};
  const dirs = (from.directories as DecodedStruct[] | undefined) ?? [];
  const files = (from.files as DecodedStruct[] | undefined) ?? [];
  const links = (from.links as DecodedStruct[] | undefined) ?? [];
  if (dirs.length > 0) out.directories = dirs.map((d, i) => translateDirectory(d, i, ctx));
  if (files.length > 0) out.files = files.map((f, i) => translateFile(f, i, ctx));
  if (links.length > 0) out.links = links.map((l) => translateLink(l, ctx));
  return Object.keys(out).length > 0 ? out : undefined;
}
