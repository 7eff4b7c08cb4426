/**
 * src/native/libc.ts calls that need a filesystem of our own: the immutable flag and
 * FIFREEZE/FITHAW on a loop-mounted ext4 image, bind mounts and read-only remounts, and tmpfs
 * (EOPNOTSUPP for FIFREEZE, trusted.* xattrs). Needs root and loop devices.
 *
 * FIFREEZE is only ever issued on the loop-mounted image created here (checked before each call).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as L from '../../src/native/libc.js';
import { isErrno } from '../../src/errors.js';
import { tempDir } from '../common/tmp.js';

let base: string;
let img: string;
let ext4: string;      // loop-mounted ext4
let tmpfs: string;     // our tmpfs
const mounted: string[] = [];   // our mount points, innermost last
const immutables: string[] = []; // paths we made immutable (cleared before unmount)

function isMountPoint(p: string): boolean {
  const real = fs.realpathSync(p);
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  return lines.some((l) => l.split(' ')[4] === real);
}

/** Hard check before any FIFREEZE: the path must be our own loop-mounted ext4, not the host. */
function assertOurLoopExt4(p: string): void {
  assert.ok(mounted.includes(ext4), 'ext4 image is mounted');
  assert.equal(fs.realpathSync(p), fs.realpathSync(ext4), 'freeze target is the ext4 mount point');
  assert.ok(isMountPoint(ext4), 'ext4 mount point is a mount point');
  assert.equal(L.isOnRootFilesystem(ext4), false, 'not on the host root filesystem');
  assert.notEqual(fs.statSync(ext4).dev, fs.statSync(base).dev, 'different device from the tmp dir');
}

before(() => {
  base = tempDir('native-mounts-');
  img = path.join(base, 'ext4.img');
  ext4 = path.join(base, 'ext4');
  tmpfs = path.join(base, 'tmpfs');
  fs.mkdirSync(ext4);
  fs.mkdirSync(tmpfs);
  execFileSync('truncate', ['-s', '64M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', img]);
  execFileSync('mount', ['-o', 'loop', img, ext4]);
  mounted.push(ext4);
  L.mountTmpfs(tmpfs, 'mode=0755,size=16m');
  mounted.push(tmpfs);
});

after(() => {
  // Never leave anything frozen, immutable or mounted, whatever failed above.
  if (ext4 && mounted.includes(ext4)) {
    try { L.fsThaw(ext4); } catch { /* not frozen: EINVAL */ }
  }
  for (const p of immutables) {
    try { L.setImmutable(p, false); } catch { /* gone */ }
  }
  for (const m of [...mounted].reverse()) {
    try { L.umount2(m); } catch {
      try { L.umount2(m, L.MNT_DETACH); } catch { /* already gone */ }
    }
  }
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('immutable flag (ext4 loop image)', () => {
  it('setImmutable(true) blocks writes and unlink; setImmutable(false) lifts it', () => {
    const f = path.join(ext4, 'file');
    fs.writeFileSync(f, 'one');
    assert.equal(L.getInodeFlags(f) & L.FS_IMMUTABLE_FL, 0);
    immutables.push(f);
    L.setImmutable(f, true);
    assert.ok(L.isImmutable(f));
    assert.ok(L.getInodeFlags(f) & L.FS_IMMUTABLE_FL);
    assert.match(execFileSync('lsattr', ['-d', f], { encoding: 'utf8' }).split(' ')[0]!, /i/);
    assert.throws(() => fs.writeFileSync(f, 'two'), (e) => isErrno(e, 'EPERM'));
    assert.throws(() => fs.unlinkSync(f), (e) => isErrno(e, 'EPERM'));
    L.setImmutable(f, true); // idempotent
    L.setImmutable(f, false);
    assert.equal(L.isImmutable(f), false);
    fs.writeFileSync(f, 'two');
    assert.equal(fs.readFileSync(f, 'utf8'), 'two');
  });

  it('an immutable directory refuses new entries (as ostree deployment roots)', () => {
    const d = path.join(ext4, 'deploy-root');
    fs.mkdirSync(d);
    immutables.push(d);
    L.setImmutable(d, true);
    assert.throws(() => fs.writeFileSync(path.join(d, 'new'), 'x'), (e) => isErrno(e, 'EPERM'));
    L.setImmutable(d, false);
    fs.writeFileSync(path.join(d, 'new'), 'x');
  });

  it('setInodeFlags writes the whole flag word (append-only round-trip)', () => {
    const f = path.join(ext4, 'flags');
    fs.writeFileSync(f, 'a');
    const orig = L.getInodeFlags(f);
    immutables.push(f);
    L.setInodeFlags(f, orig | L.FS_APPEND_FL);
    assert.equal(L.getInodeFlags(f), (orig | L.FS_APPEND_FL) >>> 0);
    assert.throws(() => fs.writeFileSync(f, 'b'), (e) => isErrno(e, 'EPERM')); // truncation refused
    fs.appendFileSync(f, 'b');
    L.setInodeFlags(f, orig);
    assert.equal(L.getInodeFlags(f), orig);
    assert.equal(fs.readFileSync(f, 'utf8'), 'ab');
  });

  it('missing path gives ENOENT with errno and syscall', () => {
    assert.throws(() => L.setImmutable(path.join(ext4, 'nope'), true), (e) => {
      const err = e as L.NativeError;
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.errno, -2);
      assert.equal(typeof err.syscall, 'string');
      return true;
    });
  });
});

describe('FIFREEZE / FITHAW (ext4 loop image only)', () => {
  it('freezes: a writer blocks until thaw; double freeze EBUSY; double thaw EINVAL', async () => {
    assertOurLoopExt4(ext4);
    const target = path.join(ext4, 'written-while-frozen');
    L.fsFreeze(ext4);
    let exited = false;
    let child: ReturnType<typeof spawn> | undefined;
    try {
      assert.throws(() => L.fsFreeze(ext4), (e) => isErrno(e, 'EBUSY'));
      child = spawn('sh', ['-c', `echo x > '${target}'`], { stdio: 'ignore' });
      child.on('exit', () => { exited = true; });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(exited, false, 'writer must block while the fs is frozen');
    } finally {
      L.fsThaw(ext4);
    }
    if (child && !exited) await new Promise((r) => child!.on('exit', r));
    assert.equal(fs.readFileSync(target, 'utf8'), 'x\n');
    assert.throws(() => L.fsThaw(ext4), (e) => {
      const err = e as L.NativeError;
      assert.equal(err.code, 'EINVAL');
      assert.equal(err.errno, -22);
      assert.equal(err.syscall, 'ioctl');
      return true;
    });
  });

  it('fsFreezeThawCycle leaves the fs writable', () => {
    assertOurLoopExt4(ext4);
    L.fsFreezeThawCycle(ext4);
    fs.writeFileSync(path.join(ext4, 'after-cycle'), 'ok');
    assert.throws(() => L.fsThaw(ext4), (e) => isErrno(e, 'EINVAL')); // not frozen any more
  });

  it('tmpfs answers EOPNOTSUPP', () => {
    assert.ok(mounted.includes(tmpfs) && isMountPoint(tmpfs));
    assert.throws(() => L.fsFreeze(tmpfs), (e) => isErrno(e, 'EOPNOTSUPP'));
    assert.throws(() => L.fsFreezeThawCycle(tmpfs), (e) => isErrno(e, 'EOPNOTSUPP'));
  });
});

describe('bind mounts and remounts', () => {
  it('read-only bind mount: reads work, writes fail EROFS, source stays writable', () => {
    const src = path.join(ext4, 'bind-src');
    const dst = path.join(base, 'bind-ro');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(src, 'f'), 'content');
    L.bindMount(src, dst, { readOnly: true });
    mounted.push(dst);
    assert.ok(isMountPoint(dst));
    assert.equal(fs.readFileSync(path.join(dst, 'f'), 'utf8'), 'content');
    assert.throws(() => fs.writeFileSync(path.join(dst, 'g'), 'x'), (e) => isErrno(e, 'EROFS'));
    assert.throws(() => L.lsetxattr(path.join(dst, 'f'), 'user.x', Buffer.from('1')), (e) => isErrno(e, 'EROFS'));
    fs.writeFileSync(path.join(src, 'g'), 'x');
    assert.equal(fs.readFileSync(path.join(dst, 'g'), 'utf8'), 'x');
    L.umount2(dst);
    mounted.splice(mounted.indexOf(dst), 1);
    assert.equal(isMountPoint(dst), false);
    assert.deepEqual(fs.readdirSync(dst), []);
  });

  it('remount toggles a bind mount between rw and ro', () => {
    const src = path.join(ext4, 'bind-src2');
    const dst = path.join(base, 'bind-rw');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    L.bindMount(src, dst);
    mounted.push(dst);
    fs.writeFileSync(path.join(dst, 'a'), '1');
    L.remount(dst, L.MS_BIND | L.MS_RDONLY);
    assert.throws(() => fs.writeFileSync(path.join(dst, 'b'), '2'), (e) => isErrno(e, 'EROFS'));
    L.remount(dst, L.MS_BIND);
    fs.writeFileSync(path.join(dst, 'b'), '2');
    assert.equal(fs.readFileSync(path.join(src, 'b'), 'utf8'), '2');
    L.umount2(dst, L.MNT_DETACH);
    mounted.splice(mounted.indexOf(dst), 1);
    assert.equal(isMountPoint(dst), false);
  });

  it('recursive bind carries submounts', () => {
    const dst = path.join(base, 'rbind');
    fs.mkdirSync(dst);
    fs.mkdirSync(path.join(base, 'rbind-src'));
    fs.mkdirSync(path.join(base, 'rbind-src', 'sub'));
    const sub = path.join(base, 'rbind-src', 'sub');
    L.mountTmpfs(sub);
    mounted.push(sub);
    fs.writeFileSync(path.join(sub, 'in-tmpfs'), 'y');
    L.bindMount(path.join(base, 'rbind-src'), dst, { recursive: true });
    mounted.push(dst);
    assert.equal(fs.readFileSync(path.join(dst, 'sub', 'in-tmpfs'), 'utf8'), 'y');
    L.umount2(dst, L.MNT_DETACH);
    mounted.splice(mounted.indexOf(dst), 1);
    L.umount2(sub);
    mounted.splice(mounted.indexOf(sub), 1);
  });

  it('mount/umount2 errors carry code, errno and syscall', () => {
    assert.throws(() => L.bindMount(path.join(base, 'no-src'), path.join(base, 'no-dst')), (e) => {
      const err = e as L.NativeError;
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.errno, -2);
      assert.equal(err.syscall, 'mount');
      return true;
    });
    const notMounted = path.join(base, 'not-a-mount');
    fs.mkdirSync(notMounted);
    assert.throws(() => L.umount2(notMounted), (e) => {
      const err = e as L.NativeError;
      assert.equal(err.code, 'EINVAL');
      assert.equal(err.syscall, 'umount2');
      assert.equal(err.path, notMounted);
      return true;
    });
  });
});

describe('other calls on our own filesystems', () => {
  it('renameExchange across filesystems fails EXDEV', () => {
    const a = path.join(ext4, 'xdev-a'), b = path.join(tmpfs, 'xdev-b');
    fs.writeFileSync(a, 'a'); fs.writeFileSync(b, 'b');
    assert.throws(() => L.renameExchange(a, b), (e) => isErrno(e, 'EXDEV'));
  });

  it('syncfs on the ext4 image and on tmpfs', () => {
    L.syncfs(ext4);
    L.syncfs(tmpfs);
  });

  it('trusted.* xattrs on tmpfs, user.* as the kernel allows (>= 6.6)', () => {
    const f = path.join(tmpfs, 'x');
    fs.writeFileSync(f, '');
    L.lsetxattr(f, 'trusted.overlay.opaque', Buffer.from('y'));
    assert.deepEqual(L.lgetxattr(f, 'trusted.overlay.opaque'), Buffer.from('y'));
    assert.ok(L.llistxattr(f).includes('trusted.overlay.opaque'));
    const [maj, min] = os.release().split('.').map((x) => parseInt(x, 10)) as [number, number];
    if (maj > 6 || (maj === 6 && min >= 6)) {
      L.lsetxattr(f, 'user.k', Buffer.from('v'));
      assert.deepEqual(L.lgetxattr(f, 'user.k'), Buffer.from('v'));
    } else {
      assert.throws(() => L.lsetxattr(f, 'user.k', Buffer.from('v')), (e) => isErrno(e, 'EOPNOTSUPP'));
    }
  });

  it('security/trusted xattrs and user xattrs coexist on ext4 and list in full', () => {
    const f = path.join(ext4, 'xattrs');
    fs.writeFileSync(f, '');
    L.lsetxattr(f, 'user.a', Buffer.from('1'));
    L.lsetxattr(f, 'trusted.b', Buffer.from('2'));
    const names = new Set(L.llistxattr(f));
    assert.ok(names.has('user.a') && names.has('trusted.b'));
  });
});
