/**
 * The checks Ignition's own validation makes on the generated config, which Butane runs before
 * it prints anything, for the sections this translator writes. Paths are reported in the YAML's
 * terms: every list keeps its YAML index in the output.
 */
import { posix } from 'node:path';
import type { Report, YamlPath } from './diagnostics.js';
import { parseUnit } from './unit-file.js';
import { specMinor, type SpecVersion } from './versions.js';

type Json = Record<string, unknown>;
const list = (v: unknown) => (v as Json[] | undefined) ?? [];

const UNIT_SUFFIXES = new Set(['.service', '.socket', '.device', '.mount', '.automount', '.swap', '.target', '.path', '.timer', '.snapshot', '.slice', '.scope']);

/** Go's path.Clean, whose output Ignition requires paths to equal. */
function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function pathError(p: string): string | undefined {
  if (p === '') return 'path not specified';
  if (!p.startsWith('/')) return 'path not absolute';
  if (cleanPath(p) !== p) return 'path is not fully simplified';
  return undefined;
}

function schemes(spec: SpecVersion): Set<string> {
  const s = new Set(['http', 'https', 'tftp', 's3', 'data']);
  if (specMinor(spec) >= 2) s.add('gs');
  if (specMinor(spec) >= 4) s.add('arn');
  return s;
}

function urlError(source: string, spec: SpecVersion): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(source)?.[1]?.toLowerCase();
  if (scheme === undefined) return source === '' ? undefined : 'invalid url scheme';
  return schemes(spec).has(scheme) ? undefined : 'invalid url scheme';
}

function hashError(hash: string, spec: SpecVersion): string | undefined {
  const dash = hash.indexOf('-');
  if (dash === -1) return 'malformed hash specifier';
  const [fn, sum] = [hash.slice(0, dash), hash.slice(dash + 1)];
  const sizes: Record<string, number> = specMinor(spec) >= 1 ? { sha512: 128, sha256: 64 } : { sha512: 128 };
  if (sizes[fn] === undefined) return 'unrecognized hash function';
  return sum.length === sizes[fn] ? undefined : 'incorrect size for hash sum';
}

function checkResource(res: Json, path: YamlPath, spec: SpecVersion, r: Report): void {
  const c = res.compression as string | undefined;
  if (c !== undefined && c !== '' && c !== 'gzip') r.error([...path, 'compression'], 'invalid compression method');
  const source = res.source as string | undefined;
  const hash = (res.verification as Json | undefined)?.hash as string | undefined;
  if (hash !== undefined && source === undefined) r.error([...path, 'verification', 'hash'], 'source must be specified if verification is specified');
  else if (hash !== undefined) {
    const e = hashError(hash, spec);
    if (e) r.error([...path, 'verification', 'hash'], e);
  }
  if (source !== undefined) {
    const e = urlError(source, spec);
    if (e) r.error([...path, 'source'], e);
  }
  if (list(res.httpHeaders).length > 0) {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(source ?? '')?.[1]?.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') r.error([...path, 'http_headers'], source ? 'cannot use HTTP headers with this source scheme' : 'unable to parse url');
    list(res.httpHeaders).forEach((h, i) => {
      if (h.name === '') r.error([...path, 'http_headers', i, 'name'], "HTTP header name can't be empty");
    });
  }
}

function checkNode(node: Json, path: YamlPath, r: Report): void {
  const e = pathError(node.path as string);
  if (e) r.error([...path, 'path'], e);
  for (const who of ['user', 'group']) {
    const o = node[who] as Json | undefined;
    if (o?.id !== undefined && o.name !== undefined && o.name !== '') r.error([...path, who], 'cannot set both id and name');
  }
}

function checkMode(node: Json, path: YamlPath, r: Report): void {
  const mode = node.mode as number | undefined;
  if (mode === undefined) return;
  if (mode < 0 || mode > 0o7777) r.error([...path, 'mode'], 'illegal file mode');
  else if (mode & 0o7000) r.warn([...path, 'mode'], 'setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0');
}

function checkStorage(storage: Json, spec: SpecVersion, r: Report): void {
  const seen = new Set<string>();
  const dup = (p: string, path: YamlPath) => {
    if (seen.has(p)) r.error(path, 'duplicate entry defined');
    seen.add(p);
  };
  const links = list(storage.links);
  const underLink = (p: string) => links.some((l) => p.startsWith(`${l.path as string}/`));
  list(storage.directories).forEach((d, i) => {
    const path = ['storage', 'directories', i];
    checkNode(d, path, r);
    checkMode(d, path, r);
    dup(d.path as string, path);
    if (underLink(d.path as string)) r.error(path, 'directory path includes link in config');
  });
  list(storage.files).forEach((f, i) => {
    const path = ['storage', 'files', i];
    checkNode(f, path, r);
    checkMode(f, path, r);
    dup(f.path as string, path);
    if (underLink(f.path as string)) r.error(path, 'file path includes link in config');
    if (f.overwrite === true && (f.contents as Json | undefined)?.source === undefined) r.error([...path, 'overwrite'], 'overwrite must be false if source is unspecified');
    if (f.contents) checkResource(f.contents as Json, [...path, 'contents'], spec, r);
    list(f.append).forEach((a, j) => checkResource(a, [...path, 'append', j], spec, r));
  });
  links.forEach((l, i) => {
    const path = ['storage', 'links', i];
    checkNode(l, path, r);
    dup(l.path as string, path);
    if (underLink(l.path as string)) r.error(path, 'link path includes link in config');
    checkLinkTarget(l, path, storage, spec, r);
  });
}

function checkLinkTarget(l: Json, path: YamlPath, storage: Json, spec: SpecVersion, r: Report): void {
  const target = (l.target as string | undefined) ?? '';
  // before spec 3.3.0 the target is a plain string Ignition does not require
  if (specMinor(spec) >= 3 && target === '') {
    r.error([...path, 'target'], 'link target is required');
    return;
  }
  if (l.hard !== true) return;
  const resolved = target.startsWith('/') ? cleanPath(target) : posix.join(l.path as string, target);
  if (list(storage.directories).some((d) => d.path === resolved)) r.error(path, 'hard link target is a directory');
  for (const [who, key] of [['user', 'id'], ['user', 'name'], ['group', 'id'], ['group', 'name']] as const) {
    if ((l[who] as Json | undefined)?.[key] !== undefined) r.warn([...path, who, key], 'user/group ignored for hard link');
  }
}

function checkUnits(systemd: Json, r: Report): Set<string> {
  const written = new Set<string>();
  const names = new Set<string>();
  list(systemd.units).forEach((u, i) => {
    const path = ['systemd', 'units', i];
    const name = u.name as string;
    if (names.has(name)) r.error(path, 'duplicate entry defined');
    names.add(name);
    if (!UNIT_SUFFIXES.has(posix.extname(name))) r.error([...path, 'name'], 'invalid systemd unit extension');
    const contents = u.contents as string | undefined;
    if (contents !== undefined) {
      const parsed = parseUnit(contents);
      if (parsed.error) r.error([...path, 'contents'], `invalid unit content: ${parsed.error}`);
      else if (u.enabled === true && contents !== '' && !parsed.sections.includes('Install')) {
        r.warn([...path, 'contents'], `unit ${JSON.stringify(name)} is enabled, but has no install section so enable does nothing`);
      }
      if (contents !== '') written.add(`/etc/systemd/system/${name}`);
    }
    const dropinNames = new Set<string>();
    list(u.dropins).forEach((d, j) => {
      const dpath = [...path, 'dropins', j];
      if (dropinNames.has(d.name as string)) r.error(dpath, 'duplicate entry defined');
      dropinNames.add(d.name as string);
      const dc = d.contents as string | undefined;
      const parsed = dc === undefined ? {} : parseUnit(dc);
      if ('error' in parsed && parsed.error) r.error([...dpath, 'contents'], `invalid unit content: ${parsed.error}`);
      if (posix.extname(d.name as string) !== '.conf') r.error([...dpath, 'name'], 'invalid systemd drop-in extension');
      if (dc !== undefined && dc !== '') written.add(`/etc/systemd/system/${name}.d/${d.name as string}`);
    });
  });
  return written;
}

function checkPasswd(passwd: Json, r: Report): void {
  for (const kind of ['users', 'groups']) {
    const names = new Set<string>();
    list(passwd[kind]).forEach((e, i) => {
      if (names.has(e.name as string)) r.error(['passwd', kind, i], 'duplicate entry defined');
      names.add(e.name as string);
    });
  }
}

export function validateIgnition(config: Json, spec: SpecVersion, r: Report): void {
  const storage = (config.storage as Json | undefined) ?? {};
  checkStorage(storage, spec, r);
  checkPasswd((config.passwd as Json | undefined) ?? {}, r);
  const unitPaths = checkUnits((config.systemd as Json | undefined) ?? {}, r);
  for (const kind of ['files', 'directories', 'links']) {
    list(storage[kind]).forEach((n, i) => {
      if (unitPaths.has(n.path as string)) r.error(['storage', kind, i, 'path'], 'path conflicts with systemd unit or dropin');
    });
  }
}
