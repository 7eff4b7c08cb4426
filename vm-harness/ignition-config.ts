/**
 * Ignition configs for the scenarios, and the harness's gate in front of Ignition: Debian's
 * Ignition 2.14 accepts config specs up to 3.3.0, so a newer one is refused here, before any boot,
 * with a message saying so.  Configs are checked with Debian's `ignition-validate` too.
 */
import { execa } from 'execa';
import { translate } from '../src/butane/translate.js';
import { HELLO_IMAGE, HELLO_LABEL, HELLO_TARBALL } from './ignition-container.js';

/** The newest config spec Debian's Ignition 2.14 reads. */
export const MAX_SPEC = '3.3.0';

export type IgnitionConfig = Record<string, unknown>;

function semver(v: string): number[] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-experimental)?$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * Refuse a config whose `ignition.version` is newer than MAX_SPEC (Ignition 2.14 would stop the
 * first boot on it).  Text that is not JSON, or has no version, is left to Ignition to report.
 */
export function checkSpecVersion(text: string, file = 'the Ignition config'): void {
  let version: unknown;
  try { version = ((JSON.parse(text) as { ignition?: { version?: unknown } }).ignition ?? {}).version; } catch { return; }
  if (typeof version !== 'string') return;
  const v = semver(version);
  const max = semver(MAX_SPEC)!;
  if (!v) return;
  const newer = v[0]! !== max[0]! ? v[0]! > max[0]! : v[1]! !== max[1]! ? v[1]! > max[1]! : v[2]! > max[2]!;
  if (newer) {
    throw new Error(`${file}: Ignition config spec ${version} is newer than ${MAX_SPEC}, the newest Debian's Ignition 2.14 accepts; ` +
      'write it for spec 3.3.0 (Butane: variant fcos, version 1.4.0) and boot again');
  }
}

/** `ignition-validate` on a config file: its exit code and what it said. */
export async function ignitionValidate(file: string): Promise<{ ok: boolean; out: string }> {
  const r = await execa('ignition-validate', [file], { reject: false, all: true });
  return { ok: r.exitCode === 0, out: String(r.all ?? '') };
}

const dataUrl = (content: Buffer | string) => `data:;base64,${Buffer.from(content).toString('base64')}`;

/** The file Ignition writes into /etc, kept by the staged upgrade's /etc merge. */
export const ETC_FILE = '/etc/hello/greeting.conf';
export const ETC_CONTENT = 'greeting=written by Ignition on the first boot\n';
/** The file Ignition writes into core's home (/var/home/core). */
export const NOTES_CONTENT = 'a file in core\'s home\n';

/** hello.service as the walkthrough has it: podman runs the container, enabled for multi-user.target. */
export const HELLO_UNIT = [
  '[Unit]',
  'Description=hello-server: a busybox httpd container run by podman',
  'After=network.target',
  '',
  '[Service]',
  'Type=oneshot',
  'RemainAfterExit=yes',
  // The image comes on its own disk (no registry here): imported once, then kept in podman's storage.
  `ExecStartPre=/bin/sh -c 'podman image exists ${HELLO_IMAGE} && exit 0; mkdir -p /run/hello-image && ` +
    `mount -o ro LABEL=${HELLO_LABEL} /run/hello-image || exit 1; podman import /run/hello-image/${HELLO_TARBALL} ${HELLO_IMAGE}; ` +
    'rc=$$?; umount /run/hello-image; exit $$rc\'',
  'ExecStartPre=-/usr/bin/podman rm --force --ignore hello-server',
  `ExecStart=/usr/bin/podman run -d --name hello-server -p 8080:8080 ${HELLO_IMAGE} /bin/httpd -f -p 8080 -h /www`,
  'ExecStop=/usr/bin/podman stop --ignore -t 2 hello-server',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
  '',
].join('\n');

/**
 * The walkthrough as its user writes it: a Fedora CoreOS Config (Butane `variant: fcos`,
 * version 1.4.0, which gives Ignition spec 3.3.0): user `core` (sudo group, SSH key), a file in
 * /etc and one in the home, hello.service enabled.
 */
export function walkthroughButane(sshPublicKey: string): string {
  const indent = (text: string, n: number) => text.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');
  return [
    'variant: fcos',
    'version: 1.4.0',
    'passwd:',
    '  users:',
    '    - name: core',
    '      groups: [sudo]',
    '      ssh_authorized_keys:',
    `        - ${sshPublicKey.trim()}`,
    'storage:',
    '  files:',
    `    - path: ${ETC_FILE}`,
    '      mode: 0644',
    '      contents:',
    '        inline: |',
    indent(ETC_CONTENT, 10).trimEnd(),
    '    - path: /var/home/core/notes.txt',
    '      mode: 0644',
    '      user: { name: core }',
    '      group: { name: core }',
    '      contents:',
    '        inline: |',
    indent(NOTES_CONTENT, 10).trimEnd(),
    'systemd:',
    '  units:',
    '    - name: hello.service',
    '      enabled: true',
    '      contents: |',
    indent(HELLO_UNIT, 8).trimEnd(),
    '',
  ].join('\n');
}

/** The walkthrough's Ignition config: walkthroughButane translated by our `butane` (strict). */
export function walkthroughConfig(sshPublicKey: string): IgnitionConfig {
  const { config, specVersion } = translate(walkthroughButane(sshPublicKey), { strict: true });
  if (specVersion !== MAX_SPEC) throw new Error(`butane wrote spec ${specVersion} for fcos 1.4.0; expected ${MAX_SPEC}`);
  return config;
}

/** The smallest provisioning, for the timing: the user and its key, one file. */
export function minimalConfig(sshPublicKey: string): IgnitionConfig {
  return {
    ignition: { version: MAX_SPEC },
    passwd: { users: [{ name: 'core', groups: ['sudo'], sshAuthorizedKeys: [sshPublicKey.trim()] }] },
    storage: { files: [{ path: ETC_FILE, mode: 0o644, contents: { source: dataUrl(ETC_CONTENT) } }] },
  };
}
