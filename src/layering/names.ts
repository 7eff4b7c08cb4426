/**
 * Names and places apt-ostree owns, in one file:
 *   refs     apt-ostree/pkg/<name>/<version.arch> (one commit per imported .deb),
 *            apt-ostree/base/N (the base commits of the layered deployments, kept from prune);
 *   tree     the dpkg database lives in the tree under /usr (DPKG_DB_REL) so each deployment
 *            has its own accurate `dpkg -l`; /var/lib/dpkg is a symlink to it made by tmpfiles;
 *   metadata keys of the layered commit.
 * Ref components are escaped as rpm-ostree does: `_` -> `__`, every byte that a ref cannot hold
 * -> `_XX` (upper-case hex), so `14:4.9.3-1` becomes `14_3A4.9.3-1`.
 */
export const REF_PREFIX = 'apt-ostree';
export const PKG_REF_PREFIX = `${REF_PREFIX}/pkg`;
export const BASE_REF_PREFIX = `${REF_PREFIX}/base`;

/** The dpkg database (what Debian keeps in /var/lib/dpkg), relative to the tree's root. */
export const DPKG_DB_REL = 'usr/lib/dpkg-db';
/** The tmpfiles.d snippet that makes /var/lib/dpkg point at it on a booted deployment. */
export const DPKG_DB_TMPFILES_REL = 'usr/lib/tmpfiles.d/apt-ostree-dpkg.conf';
export const DPKG_DB_TMPFILES = `L /var/lib/dpkg - - - - ../../${DPKG_DB_REL}\n`;

/** Commit metadata of a layered commit. */
export const META_CLIENT_LAYER = 'apt-ostree.clientlayer';
/** `as`: `name<TAB>version<TAB>arch` of every installed package of the tree, sorted. */
export const META_PACKAGES = 'apt-ostree.packages';
/** `as`: `file:name` for each user/group entry the maintainer scripts added (passwd merge). */
export const META_SYSUSERS = 'apt-ostree.sysusers';
/** Package commits: `s` name, version, architecture. */
export const META_PKG_NAME = 'apt-ostree.pkg.name';
export const META_PKG_VERSION = 'apt-ostree.pkg.version';
export const META_PKG_ARCH = 'apt-ostree.pkg.arch';

/** rpm-ostree's ref escaping of one component. */
export function escapeRefComponent(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (c === '_') out += '__';
    else if (/[A-Za-z0-9.-]/.test(c)) out += c;
    else out += `_${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function unescapeRefComponent(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '_' && s[i + 1] === '_') { bytes.push(0x5f); i++; }
    else if (s[i] === '_') { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(s.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `apt-ostree/pkg/<name>/<version.arch>` */
export function pkgRef(name: string, version: string, arch: string): string {
  return `${PKG_REF_PREFIX}/${escapeRefComponent(name)}/${escapeRefComponent(`${version}.${arch}`)}`;
}

export function baseRef(n: number): string { return `${BASE_REF_PREFIX}/${n}`; }
