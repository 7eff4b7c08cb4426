/**
 * What a remote's options mean for a pull: TLS and proxy options, the content URL and the kind
 * of URL. Signature policy is src/repo/sign's (remote-policy.ts, summary.ts); the remotes
 * themselves (REPO/config and remotes.d) are remotes.ts's.
 */
import { OstreeError } from '../../errors.js';
import { parseBool, type RemoteConfig } from '../remotes.js';
import type { FetcherOptions } from './transport.js';

export type RemoteUrlKind = 'file' | 'http' | 'metalink';

/** What a remote URL names: a local repository (file://), an HTTP one (http(s)://, mirrorlist=),
 *  or a metalink that names the summary's mirrors (metalink=). */
export function remoteUrlKind(remoteName: string, url: string): RemoteUrlKind {
  if (url.startsWith('file://')) return 'file';
  if (/^(https?:\/\/|mirrorlist=)/.test(url)) return 'http';
  if (url.startsWith('metalink=')) return 'metalink';
  throw new OstreeError('EINVAL', `Invalid URI scheme in ${url} (remote "${remoteName}": expected file://, http://, https://, mirrorlist= or metalink=)`);
}

/** Refusals before anything is fetched: a remote served by another program, or one its owner
 *  marked as not usable yet (`unconfigured-state`), in upstream's words. */
export function checkRemoteUsable(r: RemoteConfig): void {
  const backend = r.options.get('custom-backend');
  if (backend) throw new OstreeError('EINVAL', `Cannot fetch via libostree - remote '${r.name}' uses custom backend '${backend}'`);
  const unconfigured = r.options.get('unconfigured-state');
  if (unconfigured) throw new OstreeError('ECONFIG', `remote unconfigured-state: ${unconfigured}`);
  if (r.url === '') throw new OstreeError('ECONFIG', `No "url" option in remote "${r.name}" (${r.file})`);
}

/** The local path of a `file://` URL. */
export function fileUrlPath(url: string): string {
  return decodeURIComponent(new URL(url).pathname);
}

/** HTTP client options from the remote's TLS keys and its proxy. */
export function remoteFetcherOptions(r: RemoteConfig, base: FetcherOptions): FetcherOptions {
  const fo: FetcherOptions = { ...base };
  const proxy = r.options.get('proxy'); if (proxy) fo.proxy = proxy;
  const permissive = r.options.get('tls-permissive');
  if (permissive !== undefined && parseBool(permissive, `remote "${r.name}": tls-permissive`)) fo.tlsPermissive = true;
  const ca = r.options.get('tls-ca-path'); if (ca) fo.tlsCaPath = ca;
  const cert = r.options.get('tls-client-cert-path'); if (cert) fo.tlsClientCertPath = cert;
  const key = r.options.get('tls-client-key-path'); if (key) fo.tlsClientKeyPath = key;
  return fo;
}
