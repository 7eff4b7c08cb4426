/**
 * VM launcher: one interface, two backends.
 *  - `qemu`: plain `qemu-system-x86_64 -accel tcg` (KVM only with VM_ACCEL=kvm), serial console
 *    to a file, QEMU monitor on a unix socket (used to drive the GRUB menu with `sendkey`).
 *  - `virt-install`: used when libvirt is installed and libvirtd answers (or VM_BACKEND=virt-install);
 *    a transient domain, `--virt-type qemu`, serial to a file, keys via `virsh send-key`.
 * Every boot has a timeout; a guest still running after it (or after any failure) is killed or
 * destroyed.  The guest ends a boot by powering off or rebooting (`-no-reboot`: QEMU exits).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { log, mkdirp, rmrf, run, sleep } from './common.js';
import { qemuFirmwareArgs, varsFileFor, virtInstallFirmwareArgs, type FirmwareChoice } from './firmware.js';
import { VERBOSE } from './progress.js';

/** `firmware` (default bios) and `varsTemplate`: firmware.ts; a UEFI machine's NVRAM lives beside `disk`. */
export interface BootOptions extends FirmwareChoice {
  /** name of this boot (log file names, libvirt domain name) */
  name: string;
  /** qcow2 disk to boot from (first virtio disk); boots through its GRUB unless `kernel` is set */
  disk: string;
  /** direct kernel boot */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** further disks, attached as virtio disks after `disk` (raw images) */
  extraDisks?: string[];
  /** fw_cfg entries (name e.g. opt/ostree-ts/script, file) */
  fwCfg?: Array<{ name: string; file: string }>;
  /**
   * Further QEMU arguments, e.g. Ignition's `-fw_cfg name=opt/com.coreos/config,file=…`
   * (virt-install: each one passed with --qemu-commandline).
   */
  qemuArgs?: string[];
  /**
   * User-mode network restricted to the host (the guest reaches nothing), the guest's port 22
   * forwarded to 127.0.0.1:sshPort.  Default: no network device.
   */
  sshPort?: number;
  serialLog: string;
  timeoutMs: number;
  /**
   * Keys to press once the GRUB menu shows on the serial console (QEMU key names, e.g.
   * ['down', 'ret']).  Default ['ret']: boot the default entry without waiting for GRUB's
   * timeout.  [] leaves GRUB alone.
   */
  grubKeys?: string[];
  memoryMiB?: number;
  cpus?: number;
  /** called once per boot stage seen on the console (BOOT_MILESTONES), in console order */
  onMilestone?: (text: string) => void;
  /**
   * Power cut: kill the guest as soon as the serial console matches.  The disk then runs with
   * cache=writeback instead of unsafe, so what the guest flushed survives the kill and nothing
   * else is promised, as on real hardware.
   */
  powerCutWhen?: RegExp;
  /** This boot's backend, whatever VM_BACKEND and libvirt say (e.g. a scenario of the plain-QEMU path). */
  backend?: 'qemu' | 'virt-install';
}

export interface BootResult {
  name: string;
  backend: 'qemu' | 'virt-install';
  /** the serial console output */
  log: string;
  timedOut: boolean;
  /** QEMU start → "@@OSTREE-TEST BOOTED" marker, ms (null if never seen) */
  bootedMs: number | null;
  /** QEMU start → GRUB menu seen, ms */
  grubMs: number | null;
  totalMs: number;
  /** killed by `powerCutWhen` */
  powerCut?: boolean;
  /** QEMU start → each boot milestone (BOOT_MILESTONES' labels) first seen on the console, ms */
  milestoneMs: Record<string, number>;
}

/** Guests running now: killed when the harness itself is interrupted. */
const running = new Set<() => void>();
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping ${running.size} running guest(s)`);
      for (const k of running) k();
      process.exit(130);
    });
  }
}

export const BOOTED_MARKER = '@@OSTREE-TEST BOOTED';
const GRUB_MENU_RE = /GNU GRUB|Use the \^ and v keys|Press enter to boot/;

/** Boot stages as the serial console shows them, for the progress line while a guest runs. */
const BOOT_MILESTONES: Array<[RegExp, string]> = [
  [GRUB_MENU_RE, 'GRUB menu'],
  [/Linux version \d/, 'kernel started'],
  [/ostree-prepare-root: deployment: /, 'initramfs: deployment found'],
  [/ostree-prepare-root: error/, 'initramfs: prepare-root refused the boot'],
  [/Welcome to (?!GRUB)|systemd\[1\]: /, 'systemd started'],
  [/Reached target .*Multi-User System/, 'multi-user.target reached'],
  [/@@OSTREE-TEST BOOTED/, 'booted: the marker unit reports'],
  [/@@OSTREE-TEST BEGIN script\r?\n/, 'running the scenario script'],
  [/@@OSTREE-TEST BEGIN systemctl-reboot/, 'systemctl reboot'],
  [/@@OSTREE-TEST POWEROFF/, 'powering off'],
  [/reboot: Restarting system/, 'restarting'],
  [/reboot: Power down/, 'powered off'],
];

/** Report the milestones newly visible in `text` (each once, in the order the console shows them). */
function milestones(text: string, seen: Set<number>, report: (t: string) => void): void {
  const found: Array<[number, string]> = [];
  BOOT_MILESTONES.forEach(([re, label], i) => {
    if (seen.has(i)) return;
    const m = re.exec(text);
    if (m) { seen.add(i); found.push([m.index, label]); }
  });
  for (const [, label] of found.sort((a, b) => a[0] - b[0])) report(label);
}

export function backend(): 'qemu' | 'virt-install' {
  const b = process.env['VM_BACKEND'];
  if (b === 'qemu' || b === 'virt-install') return b;
  return libvirtAvailable ? 'virt-install' : 'qemu';
}
let libvirtAvailable = false;

/** Detect libvirt once (auto backend): virt-install installed and libvirtd answering. */
export async function detectBackend(): Promise<'qemu' | 'virt-install'> {
  if (process.env['VM_BACKEND'] === undefined || process.env['VM_BACKEND'] === 'auto') {
    const vi = await execa('sh', ['-c', 'command -v virt-install'], { reject: false });
    if (vi.exitCode === 0) {
      const v = await execa('virsh', ['-c', 'qemu:///system', 'version'], { reject: false, timeout: 10000 });
      libvirtAvailable = v.exitCode === 0;
    }
  }
  return backend();
}

/** A throwaway qcow2 overlay on top of `base` (a new machine: its UEFI NVRAM goes too). */
export async function createOverlay(base: string, overlay: string): Promise<string> {
  rmrf(overlay);
  rmrf(varsFileFor(overlay));
  mkdirp(path.dirname(overlay));
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.resolve(base), '-F', 'qcow2', overlay]);
  return overlay;
}

function accel(): string {
  return process.env['VM_ACCEL'] === 'kvm' ? 'kvm' : 'tcg';
}

/** The QEMU arguments of `sshPort` and `qemuArgs` (shared by both backends). */
function extraQemuArgs(o: BootOptions): string[] {
  const args: string[] = [];
  if (o.sshPort !== undefined) {
    // A fixed PCI slot: under libvirt QEMU would otherwise give it a slot libvirt assigned to its own devices.
    args.push('-netdev', `user,id=ostreets0,restrict=on,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22`, '-device', 'virtio-net-pci,netdev=ostreets0,addr=0x10');
  }
  return [...args, ...(o.qemuArgs ?? [])];
}

export async function boot(o: BootOptions): Promise<BootResult> {
  const which = o.backend ?? backend();
  return which === 'virt-install' ? bootVirtInstall(o) : bootQemu(o);
}

/** Watch the serial log while the VM runs: GRUB menu keys, booted marker, timeout. */
async function watch(o: BootOptions, t0: number, done: () => boolean, sendKeys: (keys: string[]) => Promise<void>, kill: () => Promise<void>):
  Promise<{ timedOut: boolean; bootedMs: number | null; grubMs: number | null; powerCut: boolean; milestoneMs: Record<string, number> }> {
  let bootedMs: number | null = null;
  let grubMs: number | null = null;
  const keys = o.grubKeys ?? ['ret'];
  let timedOut = false;
  let powerCut = false;
  const seen = new Set<number>();
  const milestoneMs: Record<string, number> = {};
  const reached = (label: string) => { milestoneMs[label] ??= Date.now() - t0; o.onMilestone?.(label); };
  let lastLength = -1;
  while (!done()) {
    let text = '';
    try { text = fs.readFileSync(o.serialLog, 'latin1'); } catch { /* not yet */ }
    if (text.length !== lastLength) milestones(text, seen, reached);
    lastLength = text.length;
    if (grubMs === null && !o.kernel && GRUB_MENU_RE.test(text)) {
      grubMs = Date.now() - t0;
      if (keys.length > 0) {
        await sleep(300);
        await sendKeys(keys).catch((e: unknown) => log(`${o.name}: sending keys failed: ${String(e)}`));
      }
    }
    if (bootedMs === null && text.includes(BOOTED_MARKER)) bootedMs = Date.now() - t0;
    if (o.powerCutWhen?.test(text)) {
      powerCut = true;
      log(`${o.name}: power cut (the console matched ${String(o.powerCutWhen)}): killing the VM`);
      await kill();
      break;
    }
    if (Date.now() - t0 > o.timeoutMs) {
      timedOut = true;
      log(`${o.name}: timeout after ${o.timeoutMs / 1000} s: killing the VM`);
      await kill();
      break;
    }
    await sleep(100);
  }
  // The guest's last words (e.g. "reboot: Restarting system") arrive as it exits.
  try { milestones(fs.readFileSync(o.serialLog, 'latin1'), seen, reached); } catch { /* no log */ }
  return { timedOut, bootedMs, grubMs, powerCut, milestoneMs };
}

async function bootQemu(o: BootOptions): Promise<BootResult> {
  mkdirp(path.dirname(o.serialLog));
  rmrf(o.serialLog);
  const mon = path.join(path.dirname(o.serialLog), `${o.name}.monitor.sock`);
  rmrf(mon);
  const args = [
    '-accel', accel(), ...qemuFirmwareArgs(o, o.disk), ...(process.env['VM_CPU'] ? ['-cpu', process.env['VM_CPU']] : []), '-m', String(o.memoryMiB ?? 1536), '-smp', String(o.cpus ?? 2),
    '-display', 'none', '-vga', 'std', '-no-reboot',
    '-serial', `file:${o.serialLog}`, '-monitor', `unix:${mon},server,nowait`,
    '-drive', `file=${o.disk},format=qcow2,if=virtio,cache=${o.powerCutWhen ? 'writeback' : 'unsafe'}`,
    '-nic', 'none',
  ];
  for (const d of o.extraDisks ?? []) args.push('-drive', `file=${d},format=raw,if=virtio,cache=unsafe`);
  for (const f of o.fwCfg ?? []) args.push('-fw_cfg', `name=${f.name},file=${f.file}`);
  args.push(...extraQemuArgs(o));
  if (o.kernel) {
    args.push('-kernel', o.kernel);
    if (o.initrd) args.push('-initrd', o.initrd);
    if (o.append) args.push('-append', o.append);
  }
  if (VERBOSE) log(`${o.name}: qemu-system-x86_64 ${args.join(' ')}`);
  const t0 = Date.now();
  const child: ResultPromise = execa('qemu-system-x86_64', args, { reject: false, all: true });
  let exited = false;
  hookSignals();
  const killNow = () => { child.kill('SIGKILL'); };
  running.add(killNow);
  const exitP = child.then((r) => { exited = true; running.delete(killNow); return r; });
  const sendKeys = async (keys: string[]) => {
    for (const k of keys) {
      await monitorCommand(mon, `sendkey ${k}`);
      await sleep(200);
    }
  };
  const kill = async () => {
    child.kill('SIGKILL');
    await exitP;
  };
  let w;
  try {
    w = await watch(o, t0, () => exited, sendKeys, kill);
  } catch (e) {
    await kill();
    throw e;
  }
  const r = await exitP;
  const totalMs = Date.now() - t0;
  rmrf(mon);
  if (!w.timedOut && !w.powerCut && r.exitCode !== 0) log(`${o.name}: qemu exited ${r.exitCode}: ${String(r.all ?? '').slice(-2000)}`);
  let text = '';
  try { text = fs.readFileSync(o.serialLog, 'latin1'); } catch { /* none */ }
  return { name: o.name, backend: 'qemu', log: text, timedOut: w.timedOut, bootedMs: w.bootedMs, grubMs: w.grubMs, totalMs, powerCut: w.powerCut, milestoneMs: w.milestoneMs };
}

function monitorCommand(sock: string, cmd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    c.on('error', reject);
    c.on('connect', () => {
      c.write(cmd + '\n');
      setTimeout(() => { c.end(); resolve(); }, 100);
    });
  });
}

const VIRSH_KEYS: Record<string, string> = { ret: 'KEY_ENTER', down: 'KEY_DOWN', up: 'KEY_UP', e: 'KEY_E', esc: 'KEY_ESC' };

async function bootVirtInstall(o: BootOptions): Promise<BootResult> {
  mkdirp(path.dirname(o.serialLog));
  rmrf(o.serialLog);
  const dom = `ostree-ts-${o.name}`.replace(/[^A-Za-z0-9_-]/g, '-');
  await execa('virsh', ['-c', 'qemu:///system', 'destroy', dom], { reject: false });
  const args = [
    '--connect', 'qemu:///system', '--name', dom, '--virt-type', 'qemu', '--memory', String(o.memoryMiB ?? 1536),
    '--vcpus', String(o.cpus ?? 2), '--import', '--transient', '--noautoconsole', '--graphics', 'none',
    '--network', 'none', '--osinfo', 'detect=on,require=off', '--serial', `file,path=${o.serialLog}`,
    '--events', 'on_reboot=destroy,on_poweroff=destroy',
    '--disk', `path=${o.disk},format=qcow2,bus=virtio,cache=${o.powerCutWhen ? 'writeback' : 'unsafe'}`,
    '--wait', String(Math.ceil(o.timeoutMs / 60000)),
  ];
  const fw = virtInstallFirmwareArgs(o, o.disk);
  args.push(...fw.args);
  for (const d of o.extraDisks ?? []) args.push('--disk', `path=${d},format=raw,bus=virtio`);
  const bootOpts = [...fw.boot];
  if (o.kernel) {
    bootOpts.push(`kernel=${o.kernel}`, ...(o.initrd ? [`initrd=${o.initrd}`] : []), ...(o.append ? [`kernel_args="${o.append}"`] : []));
  }
  if (bootOpts.length > 0) args.push('--boot', bootOpts.join(','));
  (o.fwCfg ?? []).forEach((f, i) => args.push('--sysinfo', `type=fwcfg,entry${i}.name=${f.name},entry${i}.file=${f.file}`));
  // An option and its value are one --qemu-commandline each ("-fw_cfg name=…,file=…").
  const extra = extraQemuArgs(o);
  for (let i = 0; i < extra.length; i++) {
    const takesValue = extra[i]!.startsWith('-') && i + 1 < extra.length && !extra[i + 1]!.startsWith('-');
    args.push(`--qemu-commandline=${takesValue ? `${extra[i]} ${extra[++i]}` : extra[i]}`);
  }
  if (VERBOSE) log(`${o.name}: virt-install ${args.join(' ')}`);
  const t0 = Date.now();
  const child: ResultPromise = execa('virt-install', args, { reject: false, all: true });
  let exited = false;
  hookSignals();
  const killNow = () => { spawnSync('virsh', ['-c', 'qemu:///system', 'destroy', dom], { stdio: 'ignore' }); child.kill('SIGKILL'); };
  running.add(killNow);
  const exitP = child.then((r) => { exited = true; running.delete(killNow); return r; });
  const destroy = async () => {
    await execa('virsh', ['-c', 'qemu:///system', 'destroy', dom], { reject: false });
    child.kill('SIGKILL');
    await exitP;
  };
  const sendKeys = async (keys: string[]) => {
    for (const k of keys) {
      await execa('virsh', ['-c', 'qemu:///system', 'send-key', dom, VIRSH_KEYS[k] ?? k], { reject: false });
      await sleep(200);
    }
  };
  let w;
  try {
    w = await watch(o, t0, () => exited, sendKeys, destroy);
  } catch (e) {
    await destroy();
    throw e;
  }
  const r = await exitP;
  if (!w.timedOut && r.exitCode !== 0) log(`${o.name}: virt-install exited ${r.exitCode}: ${String(r.all ?? '').slice(-2000)}`);
  await execa('virsh', ['-c', 'qemu:///system', 'destroy', dom], { reject: false });
  let text = '';
  try { text = fs.readFileSync(o.serialLog, 'latin1'); } catch { /* none */ }
  return { name: o.name, backend: 'virt-install', log: text, timedOut: w.timedOut, bootedMs: w.bootedMs, grubMs: w.grubMs, totalMs: Date.now() - t0, powerCut: w.powerCut, milestoneMs: w.milestoneMs };
}

/** The sections `@@OSTREE-TEST BEGIN name` … `@@OSTREE-TEST END name rc=N` of a serial log. */
export function sections(logText: string): Map<string, { text: string; rc: number }> {
  // Sections nest (the scenario script's own sections sit inside "script"): match each BEGIN
  // with the next END of the same name.
  const out = new Map<string, { text: string; rc: number }>();
  const text = logText.replace(/\r/g, '');
  const begin = /^@@OSTREE-TEST BEGIN (\S+)\n/gm;
  let m;
  while ((m = begin.exec(text)) !== null) {
    const name = m[1]!;
    const endRe = new RegExp(`^@@OSTREE-TEST END ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} rc=(\\d+)`, 'gm');
    endRe.lastIndex = begin.lastIndex;
    const e = endRe.exec(text);
    if (!e) continue;
    out.set(name, { text: text.slice(begin.lastIndex, e.index), rc: Number(e[1]) });
  }
  return out;
}
