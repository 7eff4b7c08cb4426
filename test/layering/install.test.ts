/**
 * apt-ostree on a tmpfs sysroot deployed from a real Debian 12 minbase: `install tcpdump`
 * (libpcap0.8 resolved by apt from a local repository), its postinst's system user in the new
 * deployment's /etc/passwd next to the administrator's own edits, status and refs as
 * rpm-ostree shows them, upstream ostree's view, then uninstall and rollback; logrotate for a
 * package with /etc and /var contents.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { aptOstree, fetchDebs, makeAptRepo, makeWorld, type World } from './fixture.js';

let w: World;
const newest = (): string => {
  const d = path.join(w.sysroot, 'ostree/deploy/debian/deploy');
  // the default deployment is the first BLS entry's; read it from upstream's status
  const st = execFileSync('ostree', ['admin', 'status', `--sysroot=${w.sysroot}`], { encoding: 'utf8' });
  return path.join(d, /debian (\S+)/.exec(st)![1]!);
};

before(async () => {
  w = await makeWorld();
  const repoLine = makeAptRepo(path.join(w.dir, 'aptrepo'), fetchDebs(['tcpdump', 'libpcap0.8', 'logrotate', 'libpopt0']));
  const etc = w.deployEtc();
  fs.rmSync(path.join(etc, 'apt/sources.list'), { force: true });
  fs.writeFileSync(path.join(etc, 'apt/sources.list.d/local.list'), repoLine);
  // the administrator's edits: a user of their own and a changed file
  fs.appendFileSync(path.join(etc, 'passwd'), 'admin:x:1000:1000:Admin:/home/admin:/bin/sh\n');
  fs.appendFileSync(path.join(etc, 'group'), 'admin:x:1000:\n');
  fs.writeFileSync(path.join(etc, 'motd'), 'edited by the administrator\n');
});
after(() => w?.cleanup());

test('install tcpdump: apt resolves libpcap0.8, postinst adds its user, admin edits survive', () => {
  const r = aptOstree(w.sysroot, ['install', 'tcpdump']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Added:\n {2}libpcap0\.8-1\.10\.3-1\.amd64\n {2}tcpdump-4\.99\.3-1\.amd64\n/);
  assert.match(r.stdout, /Run "systemctl reboot" to start a reboot/);
  const dep = newest();
  const passwd = fs.readFileSync(path.join(dep, 'etc/passwd'), 'utf8');
  assert.match(passwd, /^tcpdump:x:\d+:\d+::\/nonexistent:\/usr\/sbin\/nologin$/m);
  assert.match(passwd, /^admin:x:1000:1000:Admin:/m);
  assert.match(fs.readFileSync(path.join(dep, 'etc/group'), 'utf8'), /^tcpdump:x:/m);
  assert.equal(fs.readFileSync(path.join(dep, 'etc/motd'), 'utf8'), 'edited by the administrator\n');
  assert.ok(fs.statSync(path.join(dep, 'usr/bin/tcpdump')).isFile());
  assert.ok(fs.existsSync(path.join(dep, 'usr/etc/apparmor.d/usr.bin.tcpdump')), 'conffile lands in /usr/etc');
  const dpkg = execFileSync('dpkg-query', [`--admindir=${path.join(dep, 'usr/lib/dpkg-db')}`, '-W', '-f=${Status} ${Version}', 'tcpdump'], { encoding: 'utf8' });
  assert.equal(dpkg, 'install ok installed 4.99.3-1');
});

test('status shows the layer as rpm-ostree does; --json has its keys', () => {
  const r = aptOstree(w.sysroot, ['status']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^State: idle\nAutomaticUpdates: disabled\nDeployments:\n/);
  assert.match(r.stdout, / {16}BaseCommit: [0-9a-f]{64}\n {22}Diff: 2 added\n {11}LayeredPackages: tcpdump\n/);
  const j = JSON.parse(aptOstree(w.sysroot, ['status', '--json']).stdout) as { deployments: Array<Record<string, unknown>>; transaction: unknown };
  assert.equal(j.transaction, null);
  assert.deepEqual(j.deployments[0]!['requested-packages'], ['tcpdump']);
  assert.equal(j.deployments[0]!['base-checksum'], j.deployments[1]!['checksum']);
});

test('refs, package commit and origin as rpm-ostree writes them; upstream sees an unknown origin type', () => {
  const refs = execFileSync('ostree', [`--repo=${w.repoDir}`, 'refs'], { encoding: 'utf8' }).split('\n');
  assert.ok(refs.includes('apt-ostree/pkg/tcpdump/4.99.3-1.amd64'));
  assert.ok(refs.includes('apt-ostree/pkg/libpcap0.8/1.10.3-1.amd64'));
  assert.ok(refs.includes('apt-ostree/base/0'));
  const ls = execFileSync('ostree', [`--repo=${w.repoDir}`, 'ls', '-R', 'apt-ostree/pkg/tcpdump/4.99.3-1.amd64'], { encoding: 'utf8' });
  assert.match(ls, / \/usr\/bin\/tcpdump\n/);
  assert.doesNotMatch(ls, / \/etc\//, 'package /etc is under /usr/etc');
  const st = execFileSync('ostree', ['admin', 'status', `--sysroot=${w.sysroot}`], { encoding: 'utf8' });
  assert.match(st, /origin: <unknown origin type>/);
  const origin = fs.readFileSync(`${newest()}.origin`, 'utf8');
  assert.match(origin, /^\[origin\]\nbaserefspec=debian\/stable\n/);
  assert.match(origin, /\[packages\]\nrequested=tcpdump;\n/);
  execFileSync('ostree', [`--repo=${w.repoDir}`, 'fsck', '-q']);
});

test('a package with /etc and /var contents: /usr/etc and tmpfiles.d', () => {
  const r = aptOstree(w.sysroot, ['install', 'logrotate']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Added:\n {2}libpopt0-[^\n]+\n {2}logrotate-/);
  const dep = newest();
  assert.ok(fs.existsSync(path.join(dep, 'usr/etc/logrotate.conf')));
  assert.ok(fs.existsSync(path.join(dep, 'etc/logrotate.conf')), 'new config reaches the deployment /etc');
  assert.deepEqual(fs.readdirSync(path.join(dep, 'var')), [], 'nothing in the tree /var');
  const conf = fs.readFileSync(path.join(dep, 'usr/lib/tmpfiles.d/apt-ostree-pkg-logrotate.conf'), 'utf8');
  assert.match(conf, /^d \/var\/lib\/logrotate 0755 root root -$/m);
  const st = aptOstree(w.sysroot, ['status']).stdout;
  assert.match(st, /LayeredPackages: tcpdump logrotate\n/);
});

test('uninstall prints Removed:, rollback moves the previous deployment first', () => {
  const u = aptOstree(w.sysroot, ['uninstall', 'tcpdump']);
  assert.equal(u.status, 0, u.stderr);
  assert.match(u.stdout, /Removed:\n {2}libpcap0\.8-1\.10\.3-1\.amd64\n {2}tcpdump-4\.99\.3-1\.amd64\n/);
  assert.ok(!fs.existsSync(path.join(newest(), 'usr/bin/tcpdump')));
  const second = JSON.parse(aptOstree(w.sysroot, ['status', '--json']).stdout).deployments[1] as { checksum: string; serial: number };
  const r = aptOstree(w.sysroot, ['rollback']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Moving '${second.checksum}\\.${second.serial}' to be first deployment\\n`));
  assert.ok(fs.existsSync(path.join(newest(), 'usr/bin/tcpdump')));
});

test('db list and db diff read the package lists without a checkout', () => {
  const l = aptOstree(w.sysroot, ['db', 'list']);
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /^ tcpdump-4\.99\.3-1\.amd64$/m);
  const d = aptOstree(w.sysroot, ['db', 'diff']);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /Added:\n {2}libpcap0\.8-1\.10\.3-1\.amd64\n {2}tcpdump-/);
});

test('a package the base already ships cannot be layered', () => {
  const r = aptOstree(w.sysroot, ['install', 'adduser']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: Package 'adduser' is already in the base commit/);
});

test('override remove: a base package purged by dpkg, its files gone from the layered tree', () => {
  const r = aptOstree(w.sysroot, ['override', 'remove', 'mokutil']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Removed:\n {2}mokutil-/);
  const dep = newest();
  assert.ok(!fs.existsSync(path.join(dep, 'usr/bin/mokutil')));
  assert.ok(fs.existsSync(path.join(dep, 'usr/bin/tcpdump')), 'the layered packages stay');
  assert.match(aptOstree(w.sysroot, ['status']).stdout, /RemovedBasePackages: mokutil-[^\n]+\n/);
  const reset = aptOstree(w.sysroot, ['override', 'reset', 'mokutil']);
  assert.equal(reset.status, 0, reset.stderr);
  assert.ok(fs.existsSync(path.join(newest(), 'usr/bin/mokutil')));
});

test('upgrade and rebase -b re-apply the layered packages on the new base', () => {
  execFileSync('ostree', [`--repo=${w.repoDir}`, 'commit', '-b', 'debian/stable', '--tree=ref=debian/stable', '-s', 'v2', '--add-metadata-string=version=12.2']);
  const u = aptOstree(w.sysroot, ['upgrade']);
  assert.equal(u.status, 0, u.stderr);
  let st = aptOstree(w.sysroot, ['status']).stdout;
  assert.match(st, /^ {2}debian\/stable\n {19}Version: 12\.2 [^\n]+\n {16}BaseCommit: [0-9a-f]{64}\n(?: {22}Diff: [^\n]+\n)? {11}LayeredPackages: tcpdump logrotate\n/m);
  assert.ok(fs.existsSync(path.join(newest(), 'usr/bin/tcpdump')));
  execFileSync('ostree', [`--repo=${w.repoDir}`, 'commit', '-b', 'debian/testing', '--tree=ref=debian/stable', '-s', 't', '--add-metadata-string=version=testing.1']);
  const r = aptOstree(w.sysroot, ['rebase', '-b', 'debian/testing']);
  assert.equal(r.status, 0, r.stderr);
  st = aptOstree(w.sysroot, ['status']).stdout;
  assert.match(st, /^ {2}debian\/testing\n {19}Version: testing\.1 [^\n]+\n {16}BaseCommit: [0-9a-f]{64}\n(?: {22}Diff: [^\n]+\n)? {11}LayeredPackages: tcpdump logrotate\n/m);
  const refs = execFileSync('ostree', [`--repo=${w.repoDir}`, 'refs', 'apt-ostree/base'], { encoding: 'utf8' });
  assert.ok(refs.split('\n').filter((l) => l !== '').length >= 2, `bases of every layered deployment are kept: ${refs}`);
});

test('kargs --append makes a new deployment with the argument; reset drops every layer', () => {
  const k = aptOstree(w.sysroot, ['kargs', '--append=quiet']);
  assert.equal(k.status, 0, k.stderr);
  assert.match(aptOstree(w.sysroot, ['kargs']).stdout, /\bquiet\b/);
  // the deployment kargs dropped is parked as the spare, and reset's deployment is made from it
  const parked = sparesOf(w.sysroot);
  assert.equal(parked.length, 1, `one spare after kargs: ${parked.join(' ')}`);
  const r = aptOstree(w.sysroot, ['reset']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Removed:\n/);
  assert.match(fs.readFileSync(`${newest()}.origin`, 'utf8'), /^\[origin\]\nrefspec=debian\/testing\n$/);
  assert.ok(!sparesOf(w.sysroot).includes(parked[0]!), 'reset took the spare');
  const dep = newest();
  const csum = path.basename(dep).split('.')[0]!;
  assert.deepEqual(usrListing(dep), repoUsrListing(w.repoDir, csum), "the patched /usr is the commit's tree, entry for entry");
});

/** The commits parked as spares of the `debian` stateroot. */
function sparesOf(sysroot: string): string[] {
  const dir = path.join(sysroot, 'ostree/deploy/debian/recycle');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** `type mode size path` of every entry under a deployment's /usr, sorted. */
function usrListing(dep: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dep, rel))) {
      const r = `${rel}/${name}`;
      const st = fs.lstatSync(path.join(dep, r));
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-';
      out.push(`${type} ${(st.mode & 0o7777).toString(8)} ${type === '-' ? st.size : 0} /${r}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('usr');
  return out.sort();
}

/** The same listing of `/usr` in commit `csum`, as upstream's `ostree ls -R` prints it. */
function repoUsrListing(repoDir: string, csum: string): string[] {
  const text = execFileSync('ostree', [`--repo=${repoDir}`, 'ls', '-R', csum, '/usr'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const m = /^([-dl])0(\d+) +\d+ +\d+ +(\d+) (\/\S+)/.exec(l)!;
    return `${m[1]} ${m[2]!.replace(/^0+/, '')} ${m[1] === '-' ? m[3] : 0} ${m[4]}`;
  }).filter((l) => !l.endsWith(' /usr')).sort();
}
