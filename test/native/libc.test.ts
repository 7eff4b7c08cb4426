/**
 * src/native/libc.ts calls that work on any local filesystem: renameat2, syncfs/fsync,
 * user.* xattrs, flock, mknod, and the Node-style error shape. Runs in a tmp dir on the host fs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as L from '../../src/native/libc.js';
import { isErrno } from '../../src/errors.js';
import { tempDir } from '../common/tmp.js';

let dir: string;
before(() => { dir = tempDir('native-libc-'); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function assertNodeError(e: unknown, code: string, errno: number, syscall: string): true {
  const err = e as L.NativeError;
  assert.ok(err instanceof Error, 'is an Error');
  assert.equal(err.code, code);
  assert.equal(err.errno, -errno);
  assert.equal(err.syscall, syscall);
  assert.match(err.message, new RegExp(`^${code}: `));
  assert.ok(isErrno(err, code));
  return true;
}

describe('renameat2', () => {
  it('RENAME_EXCHANGE swaps two files', () => {
    const a = path.join(dir, 'xa'), b = path.join(dir, 'xb');
    fs.writeFileSync(a, 'A'); fs.writeFileSync(b, 'B');
    L.renameExchange(a, b);
    assert.equal(fs.readFileSync(a, 'utf8'), 'B');
    assert.equal(fs.readFileSync(b, 'utf8'), 'A');
  });

  it('RENAME_EXCHANGE swaps a symlink and a directory', () => {
    const link = path.join(dir, 'xlink'), d = path.join(dir, 'xdir');
    fs.symlinkSync('target-1', link);
    fs.mkdirSync(d); fs.writeFileSync(path.join(d, 'f'), '1');
    L.renameExchange(link, d);
    assert.ok(fs.lstatSync(d).isSymbolicLink());
    assert.equal(fs.readlinkSync(d), 'target-1');
    assert.equal(fs.readFileSync(path.join(link, 'f'), 'utf8'), '1');
  });

  it('RENAME_EXCHANGE with a missing side fails ENOENT and changes nothing', () => {
    const a = path.join(dir, 'xonly');
    fs.writeFileSync(a, 'only');
    assert.throws(() => L.renameExchange(a, path.join(dir, 'xmissing')),
      (e) => assertNodeError(e, 'ENOENT', 2, 'renameat2'));
    assert.equal(fs.readFileSync(a, 'utf8'), 'only');
  });

  it('RENAME_NOREPLACE moves to a free name and refuses an existing one with EEXIST', () => {
    const a = path.join(dir, 'na'), b = path.join(dir, 'nb'), c = path.join(dir, 'nc');
    fs.writeFileSync(a, 'A'); fs.writeFileSync(b, 'B');
    assert.throws(() => L.renameNoReplace(a, b), (e) => {
      assertNodeError(e, 'EEXIST', 17, 'renameat2');
      assert.equal((e as L.NativeError).path, a);
      assert.equal((e as L.NativeError).dest, b);
      return true;
    });
    assert.equal(fs.readFileSync(a, 'utf8'), 'A');
    assert.equal(fs.readFileSync(b, 'utf8'), 'B');
    L.renameNoReplace(a, c);
    assert.equal(fs.existsSync(a), false);
    assert.equal(fs.readFileSync(c, 'utf8'), 'A');
  });
});

describe('syncfs / fsync', () => {
  it('syncfs on a directory and on a file', () => {
    const f = path.join(dir, 'sync-file');
    fs.writeFileSync(f, 'data');
    L.syncfs(dir);
    L.syncfs(f);
  });

  it('fsyncPath on a directory and on a file', () => {
    const f = path.join(dir, 'fsync-file');
    fs.writeFileSync(f, 'data');
    L.fsyncPath(dir);
    L.fsyncPath(f);
  });

  it('ENOENT paths give Node-style errors', () => {
    assert.throws(() => L.syncfs(path.join(dir, 'nope')), (e) => isErrno(e, 'ENOENT'));
    assert.throws(() => L.fsyncPath(path.join(dir, 'nope')), (e) => isErrno(e, 'ENOENT'));
  });
});

describe('xattrs on the host filesystem', () => {
  it('lsetxattr / lgetxattr / llistxattr / lremovexattr round-trip user.* with binary values', () => {
    const f = path.join(dir, 'xattr-file');
    fs.writeFileSync(f, '');
    assert.deepEqual(L.llistxattr(f), []);
    const bin = Buffer.from([0, 1, 2, 255, 0, 42]);
    L.lsetxattr(f, 'user.one', Buffer.from('1'));
    L.lsetxattr(f, 'user.bin', bin);
    L.lsetxattr(f, 'user.empty', Buffer.alloc(0));
    assert.deepEqual(new Set(L.llistxattr(f)), new Set(['user.one', 'user.bin', 'user.empty']));
    assert.deepEqual(L.lgetxattr(f, 'user.bin'), bin);
    assert.deepEqual(L.lgetxattr(f, 'user.empty'), Buffer.alloc(0));
    assert.equal(L.lgetxattr(f, 'user.absent'), null);
    assert.deepEqual(new Map(L.lgetxattrs(f)).get('user.one'), Buffer.from('1'));
    L.lremovexattr(f, 'user.one');
    L.lremovexattr(f, 'user.one'); // absent: no error
    assert.deepEqual(new Set(L.llistxattr(f)), new Set(['user.bin', 'user.empty']));
  });

  it('returned values do not alias the shared scratch buffer', () => {
    const f = path.join(dir, 'xattr-alias');
    fs.writeFileSync(f, '');
    L.lsetxattr(f, 'user.a', Buffer.from('aaaa'));
    L.lsetxattr(f, 'user.b', Buffer.from('bbbb'));
    const a = L.lgetxattr(f, 'user.a');
    const b = L.lgetxattr(f, 'user.b');
    assert.equal(a?.toString(), 'aaaa');
    assert.equal(b?.toString(), 'bbbb');
  });

  it('values and name lists larger than the scratch buffer grow it (ERANGE path)', () => {
    const f = path.join(dir, 'xattr-big');
    fs.writeFileSync(f, '');
    const big = Buffer.alloc(3000, 0x5a);
    L.lsetxattr(f, 'user.big', big);
    L.lsetxattr(f, 'user.another-rather-long-attribute-name', Buffer.from('x'));
    L._setXattrScratchSize(8);
    try {
      assert.deepEqual(L.lgetxattr(f, 'user.big'), big);
      L._setXattrScratchSize(8);
      assert.deepEqual(new Set(L.llistxattr(f)), new Set(['user.big', 'user.another-rather-long-attribute-name']));
    } finally {
      L._setXattrScratchSize(64 * 1024);
    }
  });

  it('fd variants: fsetxattr / fgetxattr / flistxattr', () => {
    const f = path.join(dir, 'xattr-fd');
    fs.writeFileSync(f, '');
    const fd = fs.openSync(f, 'r');
    try {
      assert.deepEqual(L.flistxattr(fd), []);
      L.fsetxattr(fd, 'user.fd', Buffer.from('via-fd'));
      assert.deepEqual(L.flistxattr(fd), ['user.fd']);
      assert.deepEqual(L.fgetxattr(fd, 'user.fd'), Buffer.from('via-fd'));
      assert.equal(L.fgetxattr(fd, 'user.none'), null);
      assert.deepEqual(L.lgetxattr(f, 'user.fd'), Buffer.from('via-fd'));
    } finally {
      fs.closeSync(fd);
    }
    assert.throws(() => L.flistxattr(fd), (e) => assertNodeError(e, 'EBADF', 9, 'flistxattr'));
  });

  it('XATTR_CREATE refuses an existing name with EEXIST', () => {
    const f = path.join(dir, 'xattr-create');
    fs.writeFileSync(f, '');
    L.lsetxattr(f, 'user.k', Buffer.from('v'), L.XATTR_CREATE);
    assert.throws(() => L.lsetxattr(f, 'user.k', Buffer.from('w'), L.XATTR_CREATE),
      (e) => assertNodeError(e, 'EEXIST', 17, 'lsetxattr'));
  });

  it('operates on the symlink itself, not its target', () => {
    const target = path.join(dir, 'xattr-target'), link = path.join(dir, 'xattr-link');
    fs.writeFileSync(target, '');
    L.lsetxattr(target, 'user.t', Buffer.from('t'));
    fs.symlinkSync(target, link);
    assert.deepEqual(L.llistxattr(link).filter((n) => n.startsWith('user.')), []);
    assert.equal(L.lgetxattr(link, 'user.t'), null);
  });

  it('ENOENT paths give code/errno/syscall', () => {
    const p = path.join(dir, 'nope');
    assert.throws(() => L.llistxattr(p), (e) => assertNodeError(e, 'ENOENT', 2, 'llistxattr'));
    assert.throws(() => L.lgetxattr(p, 'user.x'), (e) => assertNodeError(e, 'ENOENT', 2, 'lgetxattr'));
    assert.throws(() => L.lsetxattr(p, 'user.x', Buffer.from('1')), (e) => {
      assertNodeError(e, 'ENOENT', 2, 'lsetxattr');
      assert.equal((e as L.NativeError).path, p);
      return true;
    });
  });
});

describe('flock', () => {
  it('LOCK_EX|LOCK_NB from a second fd fails EWOULDBLOCK until the first unlocks', () => {
    const f = path.join(dir, 'lockfile');
    fs.writeFileSync(f, '');
    const fd1 = fs.openSync(f, 'r');
    const fd2 = fs.openSync(f, 'r');
    try {
      L.flock(fd1, L.LOCK_EX | L.LOCK_NB);
      assert.throws(() => L.flock(fd2, L.LOCK_EX | L.LOCK_NB), (e) => assertNodeError(e, 'EWOULDBLOCK', 11, 'flock'));
      assert.throws(() => L.flock(fd2, L.LOCK_SH | L.LOCK_NB), (e) => isErrno(e, 'EWOULDBLOCK'));
      L.flock(fd1, L.LOCK_UN);
      L.flock(fd2, L.LOCK_SH | L.LOCK_NB);
      L.flock(fd1, L.LOCK_SH | L.LOCK_NB); // shared locks coexist
      assert.throws(() => L.flock(fd1, L.LOCK_EX | L.LOCK_NB), (e) => isErrno(e, 'EWOULDBLOCK'));
    } finally {
      fs.closeSync(fd1);
      fs.closeSync(fd2);
    }
  });

  it('a bad fd gives EBADF', () => {
    assert.throws(() => L.flock(987654, L.LOCK_EX), (e) => assertNodeError(e, 'EBADF', 9, 'flock'));
  });
});

describe('OFD locks (fcntl F_OFD_*)', () => {
  it('exclusive excludes other open file descriptions; shared coexist; unlock; conversion', () => {
    const f = path.join(dir, 'ofdlock');
    fs.writeFileSync(f, '');
    const fd1 = fs.openSync(f, 'r+');
    const fd2 = fs.openSync(f, 'r+');
    try {
      assert.equal(L.ofdGetLock(fd2, true), null);
      L.ofdLock(fd1, { exclusive: true });
      assert.deepEqual(L.ofdGetLock(fd2, false), { type: L.F_WRLCK, pid: -1 }); // -1: an OFD lock
      assert.throws(() => L.ofdLock(fd2, { exclusive: true }), (e) => assertNodeError(e, 'EWOULDBLOCK', 11, 'fcntl(F_OFD_SETLK)'));
      assert.throws(() => L.ofdLock(fd2, { exclusive: false }), (e) => isErrno(e, 'EWOULDBLOCK'));
      L.ofdLock(fd1, { exclusive: false });          // converted to shared
      L.ofdLock(fd2, { exclusive: false });          // shared locks coexist
      assert.throws(() => L.ofdLock(fd1, { exclusive: true }), (e) => isErrno(e, 'EWOULDBLOCK'));
      L.ofdUnlock(fd2);
      L.ofdLock(fd1, { exclusive: true });
      L.ofdUnlock(fd1);
      assert.equal(L.ofdGetLock(fd2, true), null);
      L.ofdLock(fd2, { exclusive: true, wait: true }); // free: F_OFD_SETLKW returns at once
    } finally {
      fs.closeSync(fd1);
      fs.closeSync(fd2);
    }
  });

  it('closing the fd drops the lock; OFD and flock locks do not see each other (why upstream interop needs OFD)', () => {
    const f = path.join(dir, 'ofdlock2');
    fs.writeFileSync(f, '');
    const fd1 = fs.openSync(f, 'r+');
    let fd2 = fs.openSync(f, 'r+');
    try {
      L.ofdLock(fd1, { exclusive: true });
      L.flock(fd2, L.LOCK_EX | L.LOCK_NB); // succeeds despite the OFD lock: separate lock families
      fs.closeSync(fd1);
      fd2 = (fs.closeSync(fd2), fs.openSync(f, 'r+'));
      L.ofdLock(fd2, { exclusive: true });
    } finally {
      fs.closeSync(fd2);
    }
  });

  it('lockFd/unlockFd take OFD locks; an exclusive lock needs a writable fd (EBADF)', () => {
    const f = path.join(dir, 'ofdlock3');
    fs.writeFileSync(f, '');
    const ro = fs.openSync(f, 'r');
    const rw = fs.openSync(f, 'r+');
    try {
      assert.throws(() => L.ofdLock(ro, { exclusive: true }), (e) => isErrno(e, 'EBADF'));
      assert.equal(L.lockFd(rw, { exclusive: true }), 'ofd');
      assert.throws(() => L.lockFd(ro, { exclusive: false }), (e) => isErrno(e, 'EWOULDBLOCK'));
      L.unlockFd(rw, 'ofd');
      assert.equal(L.lockFd(ro, { exclusive: false }), 'ofd');
    } finally {
      fs.closeSync(ro);
      fs.closeSync(rw);
    }
  });
});

describe('mknod', () => {
  it('makedev matches glibc for small and large numbers', () => {
    assert.equal(L.makedev(0, 0), 0);
    assert.equal(L.makedev(8, 1), 0x801);
    assert.equal(L.makedev(259, 65536), 0x10010300);
    assert.equal(L.makedev(4096, 0), 0x100000000000);
  });

  it('creates a 0:0 character device (overlay whiteout)', () => {
    const p = path.join(dir, 'whiteout');
    L.mknod(p, L.S_IFCHR | 0o000, L.makedev(0, 0));
    const st = fs.lstatSync(p);
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
    assert.equal(st.mode & 0o7777, 0);
    const p2 = path.join(dir, 'whiteout2');
    L.mkWhiteout(p2);
    assert.ok(fs.lstatSync(p2).isCharacterDevice());
  });

  it('creates a char device with a real device number and a FIFO', () => {
    const p = path.join(dir, 'null-copy');
    L.mknod(p, L.S_IFCHR | 0o600, L.makedev(1, 3));
    assert.equal(fs.lstatSync(p).rdev, L.makedev(1, 3));
    const fifo = path.join(dir, 'fifo');
    L.mknod(fifo, L.S_IFIFO | 0o644, 0);
    assert.ok(fs.lstatSync(fifo).isFIFO());
  });

  it('existing path gives EEXIST, missing parent ENOENT', () => {
    const p = path.join(dir, 'whiteout-exists');
    L.mkWhiteout(p);
    assert.throws(() => L.mkWhiteout(p), (e) => assertNodeError(e, 'EEXIST', 17, 'mknod'));
    assert.throws(() => L.mknod(path.join(dir, 'no', 'x'), L.S_IFCHR, 0), (e) => assertNodeError(e, 'ENOENT', 2, 'mknod'));
  });
});

describe('errno names', () => {
  it('maps numbers to the usual names', () => {
    assert.equal(L.errnoName(2), 'ENOENT');
    assert.equal(L.errnoName(-17), 'EEXIST');
    assert.equal(L.errnoName(95), 'EOPNOTSUPP');
    assert.equal(L.errnoName(11), 'EAGAIN');
    assert.equal(L.errnoName(61), 'ENODATA');
    assert.equal(L.errnoName(30), 'EROFS');
  });
});

describe('fsFreeze guard', () => {
  it('recognises the host root filesystem (so fsFreeze refuses it) without calling FIFREEZE', () => {
    // Only the predicate is exercised here: a broken guard must never get a chance to freeze the host.
    assert.equal(L.isOnRootFilesystem('/'), true);
    assert.equal(L.isOnRootFilesystem('/proc'), false);
  });
});

describe('directory-relative calls (lstatAt, linkAt, mkdirAt)', () => {
  it('agree with fs.lstatSync, link and mkdir relative to open directories, and fail like fs', () => {
    const base = fs.mkdtempSync(path.join(dir, 'at-'));
    fs.mkdirSync(path.join(base, 'src/sub'), { recursive: true });
    fs.writeFileSync(path.join(base, 'src/sub/f'), 'twelve bytes');
    fs.chmodSync(path.join(base, 'src/sub/f'), 0o4751);
    fs.symlinkSync('target', path.join(base, 'src/link'));
    fs.mkdirSync(path.join(base, 'dst'));
    const src = fs.openSync(path.join(base, 'src'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const dst = fs.openSync(path.join(base, 'dst'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      const out = { mode: 0, uid: -1, gid: -1, size: -1 };
      for (const rel of ['sub/f', 'link', 'sub']) {
        L.lstatAt(src, rel, out);
        const st = fs.lstatSync(path.join(base, 'src', rel));
        assert.deepEqual(out, { mode: st.mode, uid: st.uid, gid: st.gid, size: st.size }, rel);
      }
      L.lstatAt(L.AT_FDCWD, path.join(base, 'src/sub/f'), out);
      assert.equal(out.size, 12);
      L.linkAt(src, 'sub/f', dst, 'linked');
      assert.equal(fs.statSync(path.join(base, 'dst/linked')).ino, fs.statSync(path.join(base, 'src/sub/f')).ino);
      L.mkdirAt(dst, 'newdir', 0o700);
      assert.equal(fs.statSync(path.join(base, 'dst/newdir')).mode & 0o7777, 0o700);
      assert.throws(() => L.lstatAt(src, 'missing', out), (e: unknown) => isErrno(e, 'ENOENT') && (e as L.NativeError).syscall === 'statx');
      assert.throws(() => L.linkAt(src, 'sub/f', dst, 'linked'), (e: unknown) => isErrno(e, 'EEXIST'));
      assert.throws(() => L.mkdirAt(dst, 'newdir', 0o700), (e: unknown) => isErrno(e, 'EEXIST') && (e as L.NativeError).syscall === 'mkdirat');
    } finally {
      fs.closeSync(src);
      fs.closeSync(dst);
    }
  });
});
