/**
 * `ostree --version` in upstream's layout: the version and the features this build really has.
 * Scripts (upstream's test suite among them) grep this list to decide what to test, so a feature
 * is listed only once it works end to end; each entry names what it promises.
 */
export const UPSTREAM_VERSION = '2022.7';

export const FEATURES: readonly string[] = [
  // The ostree-system-generator (var.mount) and mounts done with mount(2) at boot.
  'systemd',
  'libmount',
  // commit --tree=tar= and export, through the system's libarchive (src/native/libarchive.ts).
  'libarchive',
];

export function versionText(): string {
  return ['libostree:', ` Version: '${UPSTREAM_VERSION}'`, ' Features:', ...FEATURES.map((f) => `  - ${f}`)].join('\n') + '\n';
}
