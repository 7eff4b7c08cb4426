/**
 * `ostree --version` in upstream's layout: the version and the features this build really has.
 * Scripts (upstream's test suite among them) grep this list to decide what to test, so a feature
 * is listed only once it works end to end; each entry names what it promises.
 */
export const UPSTREAM_VERSION = '2022.7';

export const FEATURES: readonly string[] = [
  // GPG signatures (commit --gpg-sign, gpg-sign, show, remote gpg-import, verified pulls), made
  // and checked by GnuPG's gpg binary as upstream's GPGME does.
  'gpgme',
  // The ostree-system-generator (var.mount) and mounts done with mount(2) at boot.
  'systemd',
  'libmount',
  // ed25519 signatures (sign, commit --sign, sign-verify remotes) with node:crypto.
  'sign-ed25519',
  // commit --tree=tar= and export, through the system's libarchive (src/native/libarchive.ts).
  'libarchive',
];

export function versionText(): string {
  return ['libostree:', ` Version: '${UPSTREAM_VERSION}'`, ' Features:', ...FEATURES.map((f) => `  - ${f}`)].join('\n') + '\n';
}
