/** passwd.users and passwd.groups: snake_case keys become Ignition's camelCase, in Go's key order. */
import type { DecodedStruct } from './decode.js';
import { LocalFileError, readLocalFile } from './local-file.js';
import type { ResourceContext } from './resource.js';

type Json = Record<string, unknown>;

const USER_KEYS: [string, string][] = [
  ['gecos', 'gecos'],
  ['groups', 'groups'],
  ['home_dir', 'homeDir'],
  ['name', 'name'],
  ['no_create_home', 'noCreateHome'],
  ['no_log_init', 'noLogInit'],
  ['no_user_group', 'noUserGroup'],
  ['password_hash', 'passwordHash'],
  ['primary_group', 'primaryGroup'],
  ['ssh_authorized_keys', 'sshAuthorizedKeys'],
  ['shell', 'shell'],
  ['should_exist', 'shouldExist'],
  ['system', 'system'],
  ['uid', 'uid'],
];

const GROUP_KEYS: [string, string][] = [
  ['gid', 'gid'],
  ['name', 'name'],
  ['password_hash', 'passwordHash'],
  ['should_exist', 'shouldExist'],
  ['system', 'system'],
];

function copyKeys(from: DecodedStruct, keys: [string, string][]): Json {
  const out: Json = {};
  for (const [yamlKey, jsonKey] of keys) {
    const v = from[yamlKey];
    if (jsonKey === 'name') out.name = v ?? '';
    else if (Array.isArray(v) ? v.length > 0 : v !== undefined) out[jsonKey] = v;
  }
  return out;
}

/** fcos 1.5: each non-empty line of each ssh_authorized_keys_local file is one more key. */
function localKeys(from: DecodedStruct, index: number, ctx: ResourceContext): string[] {
  const files = (from.ssh_authorized_keys_local as string[] | undefined) ?? [];
  const keys: string[] = [];
  files.forEach((name, i) => {
    try {
      const text = readLocalFile(name, ctx.filesDir).toString('utf8');
      keys.push(...text.split(/\r?\n/).filter((line) => line !== ''));
    } catch (e) {
      if (!(e instanceof LocalFileError)) throw e;
      const path = ['passwd', 'users', index, 'ssh_authorized_keys_local'];
      ctx.report.error(ctx.filesDir ? [...path, i] : path, e.message);
    }
  });
  return keys;
}

function translateUser(from: DecodedStruct, index: number, ctx: ResourceContext): Json {
  const extra = localKeys(from, index, ctx);
  const keys = [...((from.ssh_authorized_keys as string[] | undefined) ?? []), ...extra];
  return copyKeys({ ...from, ssh_authorized_keys: keys }, USER_KEYS);
}

export function translatePasswd(from: DecodedStruct | undefined, ctx: ResourceContext): Json | undefined {
  if (from === undefined) return undefined;
  const out: Json = {};
  const groups = (from.groups as DecodedStruct[] | undefined) ?? [];
  const users = (from.users as DecodedStruct[] | undefined) ?? [];
  if (groups.length > 0) out.groups = groups.map((g) => copyKeys(g, GROUP_KEYS));
  if (users.length > 0) out.users = users.map((u, i) => translateUser(u, i, ctx));
  return Object.keys(out).length > 0 ? out : undefined;
}
