/**
 * The images, and when to build them.  The OSTree disk (what `make vm-demo` boots): the guest
 * tree (tree.ts) committed and deployed, with the `ostree` CLI chosen by OSTREE_CLI (ours by
 * default), into a physical root that becomes a GPT disk booting under BIOS and UEFI (disk.ts).
 * The test disks (only what `make vm-test` needs): an "update" disk holding an archive repo with a second commit (BRANCH)
 * for the offline update and a third (CONFLICT_BRANCH) whose finalization fails, and the same
 * tree as a plain root, for the boot-time baseline.
 *
 * $VM_WORK_DIR/image.json records what was built and from which inputs (image-key.ts); a build
 * removes it first and writes it last, so a half-built image is never reused.  VM_REUSE_IMAGE:
 * unset or `auto` reuses while the inputs are unchanged, `1` reuses whatever was built without
 * checking, `0` always rebuilds.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_DIR, WORK_DIR, copyFile, log, mkdirp, ostree, ostreeCommand, rmTree, rmrf, run, symlink, writeFile } from './common.js';
import { makeDisk, makeExt4Image } from './disk.js';
import { ensureEfiChain } from './efi-chain.js';
import { changedInputs, imageInputs, keyOf, type Inputs } from './image-key.js';
import { BRANCH, CONFLICT_BRANCH, CONFLICT_FILE, OSNAME, PLAIN_LABEL, ROOT_LABEL, UPDATE_LABEL } from './names.js';
import { done, phase, type Phase } from './progress.js';
import { ensureDownloads, prepareTree } from './tree.js';

export { BRANCH, CONFLICT_BRANCH, CONFLICT_FILE, OSNAME, PLAIN_LABEL, ROOT_LABEL, UPDATE_LABEL };

export interface OstreeImage {
  /** this build (the test disks name the build they belong to) */
  id: string;
  key: string;
  inputs: Inputs;
  builtAt: string;
  /** qcow2 of the OSTree disk */
  disk: string;
  kver: string;
  /** kernel and initramfs (for direct kernel boots) */
  kernel: string;
  initramfs: string;
  /** kernel arguments of the deployment, without ostree= */
  kargs: string[];
  commit1: string;
}

export interface TestDisks {
  /** the OstreeImage.id these were made with */
  forImage: string;
  /** qcow2 of the same tree as a plain root filesystem */
  plainDisk: string;
  /** ext4 image carrying an archive repo with the update commits (`repo/`) */
  updateDisk: string;
  commit2: string;
  /** CONFLICT_BRANCH on the update disk */
  commit3: string;
}

export type BuiltImage = OstreeImage & TestDisks;

interface State { image: OstreeImage; test?: TestDisks }

const STATE = path.join(WORK_DIR, 'image.json');
const TREE = path.join(WORK_DIR, 'tree');
const SYSROOT = path.join(WORK_DIR, 'sysroot');
const KARGS = [`root=LABEL=${ROOT_LABEL}`, 'rw', 'console=ttyS0,115200'];

function readState(): State | null {
  try {
    const s = JSON.parse(fs.readFileSync(STATE, 'utf8')) as Partial<State>;
    // An image.json of an older harness (no key) describes an image of unknown inputs.
    return s.image?.key ? s as State : null;
  } catch {
    return null;
  }
}

function writeState(s: State): void {
  writeFile(STATE + '.tmp', JSON.stringify(s, null, 2) + '\n');
  fs.renameSync(STATE + '.tmp', STATE);
}

function reuseMode(): 'auto' | 'always' | 'never' {
  const v = process.env['VM_REUSE_IMAGE'] ?? 'auto';
  if (v === '1') return 'always';
  if (v === '0') return 'never';
  if (v === 'auto' || v === '') return 'auto';
  throw new Error(`VM_REUSE_IMAGE=${v}: expected auto (the default), 1 or 0`);
}

const exist = (...files: string[]) => files.every((f) => fs.existsSync(f));
const when = (iso: string) => new Date(iso).toLocaleString('sv-SE');

/** The OSTree disk: reused while its inputs are unchanged, else built. */
export async function ensureOstreeImage(): Promise<OstreeImage> {
  const mode = reuseMode();
  const img = readState()?.image;
  const usable = img && exist(img.disk, img.kernel, img.initramfs, path.join(SYSROOT, 'boot/loader'));
  if (usable && mode === 'always') {
    done('OSTree disk', `reusing the image built at ${when(img.builtAt)} (VM_REUSE_IMAGE=1: inputs not checked)`);
    return img;
  }
  if (usable && mode === 'auto') {
    const now = imageInputs(KARGS);
    if (keyOf(now) === img.key) {
      done('OSTree disk', `reusing image built at ${when(img.builtAt)} (inputs unchanged)`);
      return img;
    }
    log(`rebuilding the OSTree disk: ${changedInputs(img.inputs, now).join(', ')} changed since ${when(img.builtAt)}`);
  } else if (mode === 'never') {
    log('rebuilding the OSTree disk (VM_REUSE_IMAGE=0)');
  }
  return buildOstreeImage();
}

async function buildOstreeImage(): Promise<OstreeImage> {
  rmrf(STATE);
  mkdirp(WORK_DIR);
  const o = ostreeCommand();
  log(`building the OSTree disk in ${WORK_DIR} with ${o.upstream ? 'UPSTREAM /usr/bin/ostree (the oracle)' : 'our ostree CLI'}`);
  const downloads = await ensureDownloads();
  const chain = await ensureEfiChain();
  const inputs = imageInputs(KARGS);
  const { kver } = downloads;
  await phase('guest tree', (p) => prepareTree(TREE, downloads, p), 'Debian + kernel + ostree-ts + initramfs');
  const kernel = path.join(WORK_DIR, 'vmlinuz');
  const initramfs = path.join(WORK_DIR, 'initramfs.img');
  copyFile(path.join(TREE, `usr/lib/modules/${kver}/vmlinuz`), kernel);
  copyFile(path.join(TREE, `usr/lib/modules/${kver}/initramfs.img`), initramfs);
  const commit1 = await phase('ostree commit', (p) => commitIntoSysroot(p), 'the tree into the sysroot\'s repository');
  await phase('ostree admin deploy', () => deploy(o.upstream), `${BRANCH} into the sysroot`);
  const disk = path.join(WORK_DIR, 'ostree-disk.qcow2');
  await phase('OSTree disk', (p) => makeDisk(SYSROOT, ROOT_LABEL, disk, WORK_DIR, 1536, p, chain), 'GPT: BIOS GRUB + ESP (shim, GRUB) + ext4, qcow2');
  const img: OstreeImage = {
    id: randomUUID(), key: keyOf(inputs), inputs, builtAt: new Date().toISOString(),
    disk, kver, kernel, initramfs, kargs: KARGS, commit1,
  };
  writeState({ image: img });
  return img;
}

async function commit(repo: string, tree: string, subject: string, version: string, branch = BRANCH): Promise<string> {
  await ostree([`--repo=${repo}`, 'commit', `--branch=${branch}`, `--subject=${subject}`,
    `--add-metadata-string=version=${version}`, `--tree=dir=${tree}`]);
  return (await ostree([`--repo=${repo}`, 'rev-parse', branch])).trim();
}

/** A new physical root with the stateroot, and the tree committed into its repository. */
async function commitIntoSysroot(p: Phase): Promise<string> {
  if (fs.existsSync(SYSROOT)) {
    p.note('removing the previous sysroot');
    await rmTree(SYSROOT);
  }
  p.note('admin init-fs, os-init');
  mkdirp(SYSROOT);
  await ostree(['admin', 'init-fs', SYSROOT]);
  await ostree(['admin', 'os-init', `--sysroot=${SYSROOT}`, OSNAME]);
  symlink('../loader/grub.cfg', path.join(SYSROOT, 'boot/grub/grub.cfg'));
  p.note(`commit ${BRANCH} (v1)`);
  return commit(path.join(SYSROOT, 'ostree/repo'), TREE, 'ostree-ts test image v1', '1');
}

async function deploy(upstream: boolean): Promise<void> {
  const env: Record<string, string> = upstream
    ? { OSTREE_GRUB2_EXEC: path.join(PROJECT_DIR, 'vm-harness/guest/oracle-grub-generator.sh') } : {};
  await ostree(['admin', 'deploy', `--sysroot=${SYSROOT}`, `--os=${OSNAME}`, ...KARGS.map((k) => `--karg=${k}`), BRANCH], env);
}

/** The OSTree disk plus the disks only the scenarios use, each reused while built with this image. */
export async function ensureTestImages(): Promise<BuiltImage> {
  const img = await ensureOstreeImage();
  const test = readState()?.test;
  if (test && test.forImage === img.id && exist(test.plainDisk, test.updateDisk)) {
    done('update and plain-root disks', 'reusing the ones built with this image (inputs unchanged)');
    return { ...img, ...test };
  }
  if (!exist(path.join(TREE, 'usr'), path.join(SYSROOT, 'ostree/deploy'))) {
    throw new Error(`the guest tree or the sysroot of the built image is gone from ${WORK_DIR}: rebuild with VM_REUSE_IMAGE=0`);
  }
  const upd = await phase('update disk', (p) => buildUpdateDisk(p), 'commits v2 and v3 in an archive repository');
  const plainDisk = await phase('plain-root disk', (p) => buildPlainDisk(img, p), 'the same tree without OSTree (the boot-time baseline)');
  const built: TestDisks = { forImage: img.id, plainDisk, ...upd };
  writeState({ image: img, test: built });
  return { ...img, ...built };
}

/** v2 (a changed file in /usr, a new default in /usr/etc) and v3 (an /etc conflict), on an ext4 disk. */
async function buildUpdateDisk(p: Phase): Promise<{ updateDisk: string; commit2: string; commit3: string }> {
  const tree2 = path.join(WORK_DIR, 'tree2');
  rmrf(tree2);
  await run('cp', ['-al', TREE, tree2]);
  const replace = (rel: string, text: string) => { rmrf(path.join(tree2, rel)); writeFile(path.join(tree2, rel), text); };
  replace('usr/share/ostree-test/version', '2\n');
  writeFile(path.join(tree2, 'usr/etc/ostree-test-default.conf'), 'new-default=from-v2\n');
  const upd = path.join(WORK_DIR, 'update');
  rmrf(upd);
  mkdirp(upd);
  const updRepo = path.join(upd, 'repo');
  await ostree([`--repo=${updRepo}`, 'init', '--mode=archive']);
  p.note(`commit ${BRANCH} (v2)`);
  const commit2 = await commit(updRepo, tree2, 'ostree-ts test image v2', '2');
  // Third commit (own branch): v2 with /usr/etc/CONFLICT_FILE a directory.
  rmrf(path.join(tree2, `usr/etc/${CONFLICT_FILE}`));
  writeFile(path.join(tree2, `usr/etc/${CONFLICT_FILE}/default.conf`), 'conflict=directory-in-v3\n');
  replace('usr/share/ostree-test/version', '3\n');
  p.note(`commit ${CONFLICT_BRANCH} (v3)`);
  const commit3 = await commit(updRepo, tree2, 'ostree-ts test image v3 (/etc conflict)', '3', CONFLICT_BRANCH);
  rmrf(tree2);
  p.note('ext4 image');
  const updateDisk = path.join(WORK_DIR, 'update.img');
  await makeExt4Image(upd, UPDATE_LABEL, updateDisk, 64);
  return { updateDisk, commit2, commit3 };
}

/** The deployment's files (with its merged /etc) as a plain root, kernel in /boot. */
async function buildPlainDisk(img: OstreeImage, p: Phase): Promise<string> {
  const deployDir = (await run('sh', ['-c', `ls -d '${SYSROOT}'/ostree/deploy/${OSNAME}/deploy/*.0`])).trim();
  const plain = path.join(WORK_DIR, 'plainroot');
  await rmTree(plain);
  await run('cp', ['-al', deployDir, plain]);
  await run('chattr', ['-i', plain]).catch(() => undefined);
  copyFile(img.kernel, path.join(plain, 'boot/vmlinuz'));
  copyFile(img.initramfs, path.join(plain, 'boot/initrd.img'));
  writeFile(path.join(plain, 'boot/grub/grub.cfg'),
    'serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\ndefault=0\ntimeout=3\n\n' +
    `menuentry 'Debian (plain root, no OSTree)' {\n\tlinux /boot/vmlinuz root=LABEL=${PLAIN_LABEL} rw console=ttyS0,115200\n\tinitrd /boot/initrd.img\n}\n`);
  const plainDisk = path.join(WORK_DIR, 'plain-disk.qcow2');
  await makeDisk(plain, PLAIN_LABEL, plainDisk, WORK_DIR, 256, p, await ensureEfiChain());
  await rmTree(plain);
  return plainDisk;
}
