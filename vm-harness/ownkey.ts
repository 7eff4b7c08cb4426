/**
 * Secure Boot with the project's own keys, for users who sign their own boot chain:
 *  - keys: PK, KEK and db, each an RSA-2048 self-signed certificate made with openssl;
 *  - enrollment: OVMF's Secure Boot firmware started with the empty vars template is in setup
 *    mode, where the OS may write the key variables.  The OSTree disk boots once like that and
 *    writes db, KEK and finally PK (authenticated variables made with efitools'
 *    cert-to-efi-sig-list + sign-efi-sig-list, passed through fw_cfg) into efivarfs; PK switches
 *    the firmware to user mode, and that machine's vars file becomes the own-key template.
 *    (Editing the vars file offline needs virt-fw-vars, which Debian 12 does not package.)
 *  - the chain signed with db only (sbattach --remove drops the vendors' signatures, sbsign adds
 *    ours): shim, Debian's GRUB and the deployment's kernel on a disk of their own.  Microsoft's
 *    and Debian's keys are not enrolled, so this boots only through our signatures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORK_DIR, copyFile, mkdirp, rmTree, rmrf, run, writeFile } from './common.js';
import { makeDisk } from './disk.js';
import { ensureEfiChain } from './efi-chain.js';
import { OVMF_FILES } from './firmware.js';
import { ROOT_LABEL } from './names.js';
import type { Phase } from './progress.js';

export const OWNKEY_DIR = path.join(WORK_DIR, 'ownkey');
/** EFI_GLOBAL_VARIABLE (PK, KEK, SecureBoot) and EFI_IMAGE_SECURITY_DATABASE (db). */
export const GLOBAL_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
export const DB_GUID = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
/** NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS | TIME_BASED_AUTHENTICATED_WRITE_ACCESS */
const AUTH_ATTRS = 0x27;
/** Owner GUID written into our signature lists. */
const OWNER_GUID = '6f737472-6565-2d74-732d-766d2d6b6579';

const k = (f: string) => path.join(OWNKEY_DIR, f);

/** PK, KEK, db: key + certificate, made once per work directory. */
export async function ensureKeys(): Promise<void> {
  mkdirp(OWNKEY_DIR);
  for (const name of ['PK', 'KEK', 'db']) {
    if (fs.existsSync(k(`${name}.crt`))) continue;
    await run('openssl', ['req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
      '-subj', `/CN=ostree-ts VM test ${name}/`, '-keyout', k(`${name}.key`), '-out', k(`${name}.crt`)]);
  }
}

/**
 * The efivarfs payloads (attributes + authenticated variable) that enroll db, KEK and PK, in
 * the order they must be written.  Returns [name, guid, file] triples.
 */
export async function enrollmentPayloads(): Promise<Array<[string, string, string]>> {
  await ensureKeys();
  const out: Array<[string, string, string]> = [];
  const signer: Record<string, string> = { db: 'KEK', KEK: 'PK', PK: 'PK' };
  for (const name of ['db', 'KEK', 'PK']) {
    const guid = name === 'db' ? DB_GUID : GLOBAL_GUID;
    await run('cert-to-efi-sig-list', ['-g', OWNER_GUID, k(`${name}.crt`), k(`${name}.esl`)]);
    const s = signer[name]!;
    await run('sign-efi-sig-list', ['-g', OWNER_GUID, '-k', k(`${s}.key`), '-c', k(`${s}.crt`), name, k(`${name}.esl`), k(`${name}.auth`)]);
    const attrs = Buffer.alloc(4);
    attrs.writeUInt32LE(AUTH_ATTRS);
    const payload = k(`${name}.efivar`);
    fs.writeFileSync(payload, Buffer.concat([attrs, fs.readFileSync(k(`${name}.auth`))]));
    out.push([name, guid, payload]);
  }
  return out;
}

/** Guest script: write each payload (from fw_cfg) into efivarfs in one write each. */
export function enrollScript(payloads: Array<[string, string, string]>): string {
  const lines = ['modprobe qemu_fw_cfg', 'fw=/sys/firmware/qemu_fw_cfg/by_name/opt/ostree-ts'];
  for (const [name, guid] of payloads) {
    lines.push(`echo "@@OSTREE-TEST BEGIN enroll-${name}"`,
      // efivarfs takes a variable in a single write(2): one dd block.
      `dd if=$fw/${name}/raw of=/sys/firmware/efi/efivars/${name}-${guid} bs=1M iflag=fullblock status=none`,
      `echo "@@OSTREE-TEST END enroll-${name} rc=$?"`);
  }
  return lines.join('\n') + '\n';
}

/** The empty vars template: the machine starts in setup mode. */
export const SETUP_MODE_VARS = OVMF_FILES.vars;

async function resign(src: string, dest: string): Promise<void> {
  const tmp = dest + '.unsigned';
  copyFile(src, tmp);
  await run('sbattach', ['--remove', tmp]).catch(() => undefined); // no signature: nothing to remove
  rmrf(dest);
  await run('sbsign', ['--key', k('db.key'), '--cert', k('db.crt'), '--output', dest, tmp]);
  rmrf(tmp);
}

/**
 * The own-key disk: the built sysroot with its kernels re-signed by db, and an ESP whose shim
 * and GRUB are re-signed by db.  Returns the qcow2.
 */
export async function buildOwnKeyDisk(sysroot: string, p: Phase): Promise<string> {
  await ensureKeys();
  const chain = await ensureEfiChain();
  p.note('signing shim and GRUB with the own db key');
  const shim = k('shimx64.efi');
  const grub = k('grubx64.efi');
  await resign(chain.shim, shim);
  await resign(chain.grub, grub);
  const root = path.join(WORK_DIR, 'ownkey-root');
  await rmTree(root);
  p.note('copying the sysroot (hard links), signing its kernels with the own db key');
  await run('cp', ['-al', sysroot, root]);
  const kernels = (await run('sh', ['-c', `ls '${root}'/boot/ostree/*/vmlinuz-*`])).trim().split('\n').filter(Boolean);
  for (const kf of kernels) {
    const signed = kf + '.signed';
    await resign(kf, signed);
    // A new file, not a write through the hard link into the built sysroot.
    fs.renameSync(signed, kf);
  }
  const disk = path.join(WORK_DIR, 'ownkey-disk.qcow2');
  await makeDisk(root, ROOT_LABEL, disk, WORK_DIR, 1536, p, { ...chain, shim, grub });
  await rmTree(root);
  writeFile(k('signed-kernels.txt'), kernels.map((x) => path.relative(root, x)).join('\n') + '\n');
  return disk;
}
