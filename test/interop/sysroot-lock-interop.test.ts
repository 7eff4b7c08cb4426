/**
 * The sysroot lock `ostree/lock` excludes upstream ostree and ours in both directions.
 *
 * Upstream 2022.7 (libglnx glnx_make_lock_file) takes an OFD lock (fcntl F_OFD_SETLK[W]) on the
 * whole file; on Linux OFD locks and flock(2) locks do not see each other, so ours must use OFD
 * locks too.  Checked with:
 * - a Python helper holding an OFD write lock exactly as libglnx does (Python's fcntl module,
 *   F_OFD_SETLK with its own struct flock): our locked verb waits (`Waiting for sysroot lock...`)
 *   and finishes once the helper lets go;
 * - ours holding the lock (Sysroot.lock in this process): upstream `ostree admin cleanup` waits
 *   until we release it, and the helper sees our lock with F_OFD_GETLK;
 * - the helper and upstream, as a control: upstream waits for the helper too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpfsScratch, ok, upstream, CLI, type Scratch } from '../common/sysroot-helpers.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-lock-interop-'); });
after(() => { scratch.cleanup(); });

// Holds an OFD lock on argv[1] (write lock, whole file, as libglnx) until stdin closes, then
// unlinks the file and exits as libglnx's release does.  Prints "locked" once it holds it.
// With argv[2] == "probe" it instead prints what F_OFD_GETLK reports and exits.
const PY_HELPER = String.raw`
import fcntl, os, struct, sys
F_OFD_GETLK, F_OFD_SETLK = 36, 37
fmt = 'hhxxxxqqi4x'   # struct flock on LP64 Linux: short, short, off_t, off_t, pid_t
assert struct.calcsize(fmt) == 32
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
if len(sys.argv) > 2 and sys.argv[2] == 'probe':
    r = fcntl.fcntl(fd, F_OFD_GETLK, struct.pack(fmt, fcntl.F_WRLCK, 0, 0, 0, 0))
    t, _, _, _, pid = struct.unpack(fmt, r)
    print('unlocked' if t == fcntl.F_UNLCK else 'locked-by-ofd' if pid == -1 else 'locked-by-posix')
    sys.exit(0)
fcntl.fcntl(fd, F_OFD_SETLK, struct.pack(fmt, fcntl.F_WRLCK, 0, 0, 0, 0))
print('locked', flush=True)
sys.stdin.read()
os.unlink(p)
os.close(fd)
`;

function newSysroot(name: string): string {
  const sys = path.join(scratch.dir, name);
  fs.mkdirSync(sys);
  ok(upstream(['admin', 'init-fs', sys]));
  ok(upstream(['admin', 'os-init', `--sysroot=${sys}`, 'testos']));
  return sys;
}

/** Start the helper holding the lock; resolves once it holds it. */
async function pyHold(lockPath: string): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', PY_HELPER, lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b) => { out += String(b); if (out.includes('locked')) resolve(); });
    child.on('exit', (c) => reject(new Error(`lock helper exited ${c} before locking`)));
  });
  return child;
}

async function pyRelease(child: ChildProcess): Promise<void> {
  const done = new Promise<number>((res) => child.on('exit', (c) => res(c ?? -1)));
  child.stdin!.end();
  assert.equal(await done, 0, 'lock helper exit status');
}

function pyProbe(lockPath: string): string {
  const r = spawnSync('python3', ['-c', PY_HELPER, lockPath, 'probe'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

interface Running { child: ChildProcess; out: () => string; done: Promise<number> }

function start(cmd: string, args: string[]): Running {
  const child = spawn(cmd, args, { env: { ...process.env, LC_ALL: 'C' } });
  let out = '';
  child.stdout!.on('data', (b) => { out += String(b); });
  child.stderr!.on('data', (b) => { out += String(b); });
  const done = new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
  return { child, out: () => out, done };
}

async function stillRunningAfter(r: Running, ms: number): Promise<boolean> {
  const t = await Promise.race([r.done.then(() => 'exited'), new Promise((res) => setTimeout(() => res('running'), ms))]);
  return t === 'running';
}

test('an OFD lock held like upstream holds it makes our locked admin verb wait', async () => {
  const sys = newSysroot('py-holds-ours-waits');
  const lockPath = path.join(sys, 'ostree/lock');
  const helper = await pyHold(lockPath);
  const ours = start(process.execPath, [CLI, 'admin', 'cleanup', `--sysroot=${sys}`]);
  try {
    assert.ok(await stillRunningAfter(ours, 1500), `ours did not wait for the lock: ${ours.out()}`);
    assert.match(ours.out(), /^Waiting for sysroot lock\.\.\.$/m);
  } finally {
    await pyRelease(helper);
  }
  assert.equal(await ours.done, 0, ours.out());
  assert.ok(!fs.existsSync(lockPath), 'ours unlinks ostree/lock when releasing, as upstream');
});

test('our sysroot lock makes upstream ostree wait, and is an OFD lock', async () => {
  const sys = newSysroot('ours-holds-upstream-waits');
  const lockPath = path.join(sys, 'ostree/lock');
  const s = await Sysroot.open(sys);
  await s.lock();
  let up: Running | null = null;
  try {
    assert.equal(pyProbe(lockPath), 'locked-by-ofd');
    up = start('/usr/bin/ostree', ['admin', 'cleanup', `--sysroot=${sys}`]);
    assert.ok(await stillRunningAfter(up, 1500), `upstream did not wait for our lock: ${up.out()}`);
  } finally {
    s.unlock();
  }
  assert.equal(await up.done, 0, up.out());
  assert.equal(pyProbe(lockPath), 'unlocked');
});

test('control: upstream waits for the helper\'s OFD lock (the helper locks as upstream does)', async () => {
  const sys = newSysroot('py-holds-upstream-waits');
  const helper = await pyHold(path.join(sys, 'ostree/lock'));
  const up = start('/usr/bin/ostree', ['admin', 'cleanup', `--sysroot=${sys}`]);
  try {
    assert.ok(await stillRunningAfter(up, 1500), `upstream did not wait: ${up.out()}`);
  } finally {
    await pyRelease(helper);
  }
  assert.equal(await up.done, 0, up.out());
});
