/**
 * libvirtd for the virt-install backend.  `make deps` installs libvirt and `make vm-libvirt-config`
 * configures it (vm.mk: QEMU as root, file stdio handler, the libvirt-qemu user); a machine
 * without systemd as PID 1 has nothing that starts the daemon, so the harness does: when
 * libvirtd does not answer, it starts `libvirtd -d`, and stops it (by its pid) when the run ends.
 *
 * Several harness runs may share one daemon (checkouts side by side): each run that uses it
 * registers its pid in USERS_DIR; a daemon a harness run started is recorded in STARTED_FILE, and
 * the last registered run to end stops it.  A daemon started by anything else is left alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { log, sleep } from './common.js';

const USERS_DIR = '/run/ostree-ts-vm/libvirt-users';
const STARTED_FILE = '/run/ostree-ts-vm/libvirtd-started-by-harness';
const PID_FILE = '/run/libvirtd.pid';
const URI = 'qemu:///system';

async function answers(): Promise<boolean> {
  const v = await execa('virsh', ['-c', URI, 'version'], { reject: false, timeout: 10000 });
  return v.exitCode === 0;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/**
 * libvirtd answering on qemu:///system: already running, or started here.  Returns false (with
 * the reason logged) when libvirt is not installed or will not start: the harness then boots
 * with plain QEMU.
 */
export async function ensureLibvirtd(): Promise<boolean> {
  const vi = await execa('sh', ['-c', 'command -v virt-install && command -v libvirtd'], { reject: false });
  if (vi.exitCode !== 0) {
    log('libvirt: virt-install or libvirtd is not installed (make deps): booting with plain QEMU');
    return false;
  }
  fs.mkdirSync(USERS_DIR, { recursive: true });
  fs.writeFileSync(path.join(USERS_DIR, String(process.pid)), '');
  if (await answers()) return true;
  log('libvirt: starting libvirtd (stopped again when this run ends)');
  fs.mkdirSync('/var/log/libvirt', { recursive: true });
  fs.mkdirSync('/var/lib/libvirt', { recursive: true });
  const r = await execa('libvirtd', ['-d', '-p', PID_FILE], { reject: false, all: true });
  if (r.exitCode !== 0) {
    log(`libvirt: libvirtd -d failed (exit ${r.exitCode}): ${String(r.all ?? '').slice(-500)}; run \`make vm-libvirt-config\``);
    return false;
  }
  for (let i = 0; i < 30; i++) {
    if (await answers()) {
      try { fs.copyFileSync(PID_FILE, STARTED_FILE); } catch { /* no pid file: never stopped */ }
      return true;
    }
    await sleep(500);
  }
  log('libvirt: libvirtd started but does not answer on qemu:///system after 15 s: booting with plain QEMU');
  return false;
}

/** Stop the libvirtd a harness run started, unless another live harness run still uses it. */
export async function releaseLibvirtd(): Promise<void> {
  try { fs.rmSync(path.join(USERS_DIR, String(process.pid)), { force: true }); } catch { /* not registered */ }
  let pid: number;
  try { pid = Number(fs.readFileSync(STARTED_FILE, 'utf8').trim()); } catch { return; }
  let others: number[] = [];
  try { others = fs.readdirSync(USERS_DIR).map(Number).filter((p) => p !== process.pid && alive(p)); } catch { /* none */ }
  if (others.length > 0) {
    log(`libvirt: leaving libvirtd (pid ${pid}) running for the harness run(s) still using it (pid ${others.join(', ')})`);
    return;
  }
  fs.rmSync(STARTED_FILE, { force: true });
  if (!pid || !alive(pid)) return;
  log(`libvirt: stopping the libvirtd a harness run started (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 40 && alive(pid); i++) await sleep(250);
}
