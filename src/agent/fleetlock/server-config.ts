/**
 * The FleetLock server's configuration file, in airlock's keys so an airlock deployment can
 * switch: `[service] address, port, tls`, `[status] enabled, address, port, tls`, `[etcd3]
 * endpoints, transaction_timeout_ms, client_cert_pub_path, client_cert_key_path`, `[lock]
 * default_group_name, default_slots`, `[[lock.groups]] name, slots`. Ours besides:
 * `[etcd3] ca_cert_path, username, password, password_file, key_prefix` and
 * `[lock] holder_lease_secs`. As in airlock, TLS on the service itself is refused (terminate
 * it in front); etcd itself may be TLS with client certificates and password authentication.
 */
import * as fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { OstreeError } from '../../errors.js';
import type { EtcdSettings } from './etcd-store.js';

export interface Listen { address: string; port: number }
export interface ServerConfig {
  service: Listen;
  status: Listen | null;
  etcd: EtcdSettings;
  /** slots per group; the default group always exists */
  groups: Map<string, number>;
  holderLeaseSecs: number;
}

type Table = Record<string, unknown>;

class Reader {
  constructor(readonly file: string) {}
  bad(key: string, want: string): never { throw new OstreeError('ECONFIG', `${this.file}: key ${key}: expected ${want}`, { path: this.file }); }
  table(t: Table, k: string, key: string): Table {
    const v = t[k];
    if (v === undefined) return {};
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Table : this.bad(key, 'a table');
  }
  str(t: Table, k: string, key: string): string | undefined {
    const v = t[k];
    return v === undefined ? undefined : typeof v === 'string' ? v : this.bad(key, 'a string');
  }
  int(t: Table, k: string, key: string, min: number, max: number): number | undefined {
    const v = t[k];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : this.bad(key, `an integer from ${min} to ${max}`);
  }
  bool(t: Table, k: string, key: string): boolean | undefined {
    const v = t[k];
    return v === undefined ? undefined : typeof v === 'boolean' ? v : this.bad(key, 'true or false');
  }
}

function listen(r: Reader, t: Table, section: string, defaults: Listen): Listen {
  if (r.bool(t, 'tls', `${section}.tls`)) r.bad(`${section}.tls`, 'false (TLS is not served here, as in airlock: put a TLS proxy in front)');
  return { address: r.str(t, 'address', `${section}.address`) ?? defaults.address, port: r.int(t, 'port', `${section}.port`, 0, 65535) ?? defaults.port };
}

function etcdSettings(r: Reader, t: Table): EtcdSettings {
  const ep = t['endpoints'];
  if (!Array.isArray(ep) || ep.length === 0 || !ep.every((e) => typeof e === 'string' && /^https?:\/\//.test(e))) {
    r.bad('etcd3.endpoints', 'a non-empty array of http:// or https:// URLs');
  }
  const pwFile = r.str(t, 'password_file', 'etcd3.password_file');
  let password = r.str(t, 'password', 'etcd3.password') ?? null;
  if (pwFile !== undefined) password = fs.readFileSync(pwFile, 'utf8').replace(/\r?\n$/, '');
  const prefix = r.str(t, 'key_prefix', 'etcd3.key_prefix') ?? '/ostree-agent/fleetlock/';
  return {
    endpoints: ep as string[],
    txnTimeoutMs: r.int(t, 'transaction_timeout_ms', 'etcd3.transaction_timeout_ms', 1, 600_000) ?? 3000,
    caCertPath: r.str(t, 'ca_cert_path', 'etcd3.ca_cert_path') ?? null,
    clientCertPath: r.str(t, 'client_cert_pub_path', 'etcd3.client_cert_pub_path') ?? null,
    clientKeyPath: r.str(t, 'client_cert_key_path', 'etcd3.client_cert_key_path') ?? null,
    username: r.str(t, 'username', 'etcd3.username') ?? null,
    password,
    prefix: prefix.endsWith('/') ? prefix : prefix + '/',
  };
}

function lockGroups(r: Reader, t: Table): Map<string, number> {
  const groups = new Map<string, number>();
  const defName = r.str(t, 'default_group_name', 'lock.default_group_name') ?? 'default';
  const defSlots = r.int(t, 'default_slots', 'lock.default_slots', 0, 1_000_000) ?? 1;
  groups.set(defName, defSlots);
  const gs = t['groups'];
  if (gs === undefined) return groups;
  if (!Array.isArray(gs)) return r.bad('lock.groups', 'an array of tables ([[lock.groups]])');
  gs.forEach((g: unknown, i) => {
    const gt = typeof g === 'object' && g !== null ? g as Table : r.bad(`lock.groups[${i}]`, 'a table');
    const name = r.str(gt, 'name', `lock.groups[${i}].name`);
    if (!name || !/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) r.bad(`lock.groups[${i}].name`, 'a group name of [A-Za-z0-9_.:-]');
    groups.set(name!, r.int(gt, 'slots', `lock.groups[${i}].slots`, 0, 1_000_000) ?? defSlots);
  });
  return groups;
}

export function parseServerConfig(text: string, file: string): ServerConfig {
  const r = new Reader(file);
  let doc: Table;
  try { doc = parseToml(text) as Table; } catch (e) {
    throw new OstreeError('ECONFIG', `${file}: invalid TOML: ${(e as Error).message.split('\n')[0]}`, { path: file });
  }
  const status = r.table(doc, 'status', 'status');
  const lock = r.table(doc, 'lock', 'lock');
  return {
    service: listen(r, r.table(doc, 'service', 'service'), 'service', { address: '0.0.0.0', port: 9090 }),
    status: r.bool(status, 'enabled', 'status.enabled') ? listen(r, status, 'status', { address: '127.0.0.1', port: 9091 }) : null,
    etcd: etcdSettings(r, r.table(doc, 'etcd3', 'etcd3')),
    groups: lockGroups(r, lock),
    holderLeaseSecs: r.int(lock, 'holder_lease_secs', 'lock.holder_lease_secs', 1, 30 * 86400) ?? 3600,
  };
}

export function readServerConfig(file: string): ServerConfig {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    throw new OstreeError('ECONFIG', `cannot read ${file}: ${(e as Error).message}`, { path: file });
  }
  return parseServerConfig(text, file);
}
