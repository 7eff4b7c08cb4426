/**
 * `ostree pull` (our CLI) from a real nginx on 127.0.0.1 serving an archive repository that
 * upstream's CLI wrote: plain HTTP, TLS (a CA the test makes), client certificates, basic auth
 * in the URL, request headers, a proxy (`proxy=`), mirrorlist= and contenturl=, and pulls
 * interrupted (the client or the server killed) that resume without fetching again what they
 * already stored, counted in nginx's access log. Every pulled repo is checked by upstream's fsck.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startNginx, type Nginx } from '../common/nginx.js';
import { htpasswdLine, makePki, type TestPki } from '../common/nginx-certs.js';
import { startProxy } from '../common/http-proxy.js';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI } from '../common/cli-paths.js';
import { destRepo, objectOfPath, objectsIn, ours, refOf, run, servedRepo, up, upstreamFsck, type Served } from './fixtures.js';

let work = '';
let served: Served;
let pki: TestPki;
const servers: Nginx[] = [];

before(() => {
  work = tempDir('pull-nginx-');
  served = servedRepo(work, 1500);
  pki = makePki(path.join(work, 'pki'));
});
after(async () => { for (const s of servers) await s.stop(); });

async function nginx(name: string, o: Omit<Parameters<typeof startNginx>[0], 'dir' | 'root'> & { root?: string } = {}): Promise<Nginx> {
  const n = await startNginx({ root: served.repo, dir: path.join(work, `nginx-${name}`), ...o });
  servers.push(n);
  return n;
}

let destCount = 0;
const nextDest = (url: string, options: string[] = []): Promise<string> => destRepo(work, `dest${destCount++}`, url, options);

/** Pull origin's ref into `dest`; asserts success and the ref. */
async function pullOk(dest: string, extra: string[] = []): Promise<string> {
  const r = await ours([`--repo=${dest}`, 'pull', ...extra, 'origin', served.ref]);
  assert.equal(r.code, 0, `pull failed: ${r.stderr}`);
  assert.equal(refOf(dest, `origin:${served.ref}`), served.commit);
  return r.stdout;
}

async function pullFails(dest: string, re: RegExp, extra: string[] = []): Promise<void> {
  const r = await ours([`--repo=${dest}`, 'pull', '--network-retries=0', ...extra, 'origin', served.ref]);
  assert.notEqual(r.code, 0, 'pull should have failed');
  assert.match(r.stderr, re);
  assert.equal(refOf(dest, `origin:${served.ref}`), null, 'no ref after a failed pull');
}

test('plain HTTP: pulled, fsck clean, only GETs; a second pull fetches no object', async () => {
  const n = await nginx('plain');
  const dest = await nextDest(n.url);
  const out = await pullOk(dest);
  assert.match(out, /^\d+ metadata, \d+ content objects fetched; \d+ KiB transferred in \d+ seconds; .* content written\n$/);
  upstreamFsck(dest);
  const first = n.access();
  assert.ok(first.every((e) => e.method === 'GET' && e.protocol === 'HTTP/1.1'));
  assert.ok(first.filter((e) => objectOfPath(e.path) !== null && e.status === 200).length > 1500);
  n.clearLog();
  await pullOk(dest);
  assert.deepEqual(n.access().filter((e) => objectOfPath(e.path) !== null && !e.path.endsWith('.commitmeta')), [], 'nothing fetched again');
});

test('TLS: the CA from tls-ca-path; an unknown CA is refused with a clear error; tls-permissive', async () => {
  const n = await nginx('tls', { tls: { cert: pki.serverCert, key: pki.serverKey } });
  assert.match(n.url, /^https:/);
  await pullFails(await nextDest(n.url), /certificate/i);
  const dest = await nextDest(n.url, [`tls-ca-path=${pki.caCert}`]);
  await pullOk(dest);
  upstreamFsck(dest);
  // `remote refs` reaches the remote with the same keys
  const refs = await ours([`--repo=${dest}`, 'remote', 'refs', 'origin']);
  assert.equal(refs.code, 0, refs.stderr);
  assert.match(refs.stdout, new RegExp(`^origin:${served.ref}$`, 'm'));
  await pullOk(await nextDest(n.url, ['tls-permissive=true']));
});

test('HTTP/2 when the server offers it (ALPN), with HTTP/1.1 servers unchanged', async () => {
  const n = await nginx('h2', { tls: { cert: pki.serverCert, key: pki.serverKey, http2: true } });
  const dest = await nextDest(n.url, [`tls-ca-path=${pki.caCert}`]);
  const r = await ours([`--repo=${dest}`, 'pull', 'origin', served.ref]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no warning printed');
  assert.equal(refOf(dest, `origin:${served.ref}`), served.commit);
  const log = n.access();
  assert.ok(log.length > 1500 && log.every((e) => e.protocol === 'HTTP/2.0'), [...new Set(log.map((e) => e.protocol))].join(','));
  upstreamFsck(dest);
});

test('TLS client certificates: required by the server; ours sent from tls-client-cert-path/-key-path; a stranger one refused', async () => {
  const n = await nginx('mtls', { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } });
  await pullFails(await nextDest(n.url, [`tls-ca-path=${pki.caCert}`]), /HTTP 400|certificate|alert/i);
  await pullFails(await nextDest(n.url, [`tls-ca-path=${pki.caCert}`, `tls-client-cert-path=${pki.strangerCert}`, `tls-client-key-path=${pki.strangerKey}`]), /HTTP 400|certificate|alert/i);
  const dest = await nextDest(n.url, [`tls-ca-path=${pki.caCert}`, `tls-client-cert-path=${pki.clientCert}`, `tls-client-key-path=${pki.clientKey}`]);
  await pullOk(dest);
  upstreamFsck(dest);
  assert.ok(n.access().some((e) => e.status === 200));
});

test('basic auth in the URL: sent to that server; missing or wrong credentials are a clear 401', async () => {
  const htpasswd = path.join(work, 'htpasswd');
  fs.writeFileSync(htpasswd, htpasswdLine('fleet', 's3cr:et pw'));
  const n = await nginx('auth', { htpasswd });
  const port = n.port;
  await pullFails(await nextDest(n.url), /HTTP 401/);
  await pullFails(await nextDest(`http://fleet:wrong@127.0.0.1:${port}`), /HTTP 401/);
  const dest = await nextDest(`http://fleet:${encodeURIComponent('s3cr:et pw')}@127.0.0.1:${port}`);
  await pullOk(dest);
  upstreamFsck(dest);
});

test('--http-header: sent with every request (the server refuses requests without it)', async () => {
  const n = await nginx('header', { requireHeader: ['X-Fleet-Token', 'abc123'] });
  await pullFails(await nextDest(n.url), /HTTP 403/);
  const dest = await nextDest(n.url);
  n.clearLog();
  await pullOk(dest, ['--http-header', 'X-Fleet-Token=abc123']);
  assert.ok(n.access().length > 1500 && n.access().every((e) => e.status !== 403));
});

test('proxy=: http targets forwarded by the proxy, https ones tunnelled with CONNECT', async () => {
  const proxy = await startProxy();
  try {
    const plain = await nginx('proxied');
    const dest = await nextDest(plain.url, [`proxy=${proxy.url}`]);
    await pullOk(dest);
    assert.ok(proxy.log.some((l) => l.startsWith(`GET ${plain.url}/objects/`)), 'objects came through the proxy');
    assert.ok(proxy.log.every((l) => l.startsWith(`GET ${plain.url}/`)));
    proxy.log.length = 0;
    const tls = await nginx('proxied-tls', { tls: { cert: pki.serverCert, key: pki.serverKey } });
    const dest2 = await nextDest(tls.url, [`proxy=${proxy.url.replace('http://', '')}`, `tls-ca-path=${pki.caCert}`]);
    await pullOk(dest2);
    assert.ok(proxy.log.length > 0 && proxy.log.every((l) => l === `CONNECT 127.0.0.1:${tls.port}`), proxy.log.join(','));
    upstreamFsck(dest2);
  } finally { await proxy.close(); }
  // a proxy that is not there: a clear error, no ref
  const n = await nginx('noproxy');
  await pullFails(await nextDest(n.url, ['proxy=http://127.0.0.1:1']), /ECONNREFUSED|connect/i);
});

test('mirrorlist= (a dead mirror first) and contenturl= (objects from another server)', async () => {
  const listDir = path.join(work, 'mirrorlist');
  fs.mkdirSync(listDir, { recursive: true });
  const mirror = await nginx('mirror');
  fs.writeFileSync(path.join(listDir, 'mirrors'), `# mirrors\nhttp://127.0.0.1:1/dead\n\n${mirror.url}\n`);
  const lists = await nginx('lists', { root: listDir });
  const dest = await nextDest(`mirrorlist=${lists.url}/mirrors`);
  await pullOk(dest);
  upstreamFsck(dest);
  assert.ok(mirror.access().some((e) => objectOfPath(e.path) !== null));

  const meta = await nginx('meta');
  const content = await nginx('content');
  const dest2 = await nextDest(meta.url, [`contenturl=${content.url}`]);
  await pullOk(dest2);
  const metaObjects = meta.access().filter((e) => objectOfPath(e.path) !== null);
  assert.ok(metaObjects.every((e) => e.path.endsWith('.commitmeta')), 'only detached metadata from url=');
  assert.ok(content.access().filter((e) => e.path.endsWith('.filez')).length > 1500);
  assert.ok(content.access().every((e) => !e.path.startsWith('/summary') && !e.path.startsWith('/refs')));
});

/** Every object request in `n`'s log since its last clearLog, as `XX/REST.EXT`, with its status. */
function objectRequests(n: Nginx): Array<{ obj: string; status: number }> {
  return n.access().flatMap((e) => { const o = objectOfPath(e.path); return o !== null ? [{ obj: o, status: e.status }] : []; });
}

/** After an interrupted pull: the next pull completes and asks for no object the repo already had. */
async function resumes(n: Nginx, dest: string): Promise<void> {
  const had = objectsIn(dest);
  assert.ok(had.size > 50, `the interrupted pull stored some objects (${had.size})`);
  n.clearLog();
  await pullOk(dest);
  const again = objectRequests(n).filter((r) => had.has(r.obj) && !r.obj.endsWith('.commitmeta'));
  assert.deepEqual(again, [], 'objects already stored were fetched again');
  upstreamFsck(dest);
}

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the client killed mid-pull (SIGKILL): the next pull resumes, nothing stored is fetched again', async () => {
  const n = await nginx('kill-client');
  const dest = await nextDest(n.url);
  let child: ChildProcess | null = null;
  const run = ours([`--repo=${dest}`, 'pull', 'origin', served.ref], { onSpawn: (c) => { child = c; } });
  await waitFor(() => objectRequests(n).length >= 400, '400 object requests');
  child!.kill('SIGKILL');
  const r = await run;
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(refOf(dest, `origin:${served.ref}`), null);
  await resumes(n, dest);
});

test('the server killed mid-pull: a clear error, no ref; once it is back the pull resumes without fetching again', async () => {
  const n = await nginx('kill-server');
  const dest = await nextDest(n.url);
  const run = ours([`--repo=${dest}`, 'pull', '--network-retries=1', 'origin', served.ref]);
  await waitFor(() => objectRequests(n).length >= 400, '400 object requests');
  await n.kill();
  const r = await run;
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ECONNREFUSED|other side closed|socket|connect/i);
  assert.equal(refOf(dest, `origin:${served.ref}`), null);
  const again = await nginx('kill-server-2', { port: n.port });
  await resumes(again, dest);
});

test('output: on a terminal a progress line as upstream prints it, then the summary; without one, the summary only', async () => {
  const n = await nginx('output');
  const dest = await nextDest(n.url);
  // a pseudo-terminal for stdout (util-linux script), as a user at a console has
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(OURS_CLI)} --repo=${dest} pull origin ${served.ref}`;
  const tty = await run('script', ['-qec', cmd, '/dev/null'], { COLUMNS: '120' });
  assert.equal(tty.code, 0, tty.stderr);
  assert.match(tty.stdout, /Receiving (metadata )?objects: /);
  assert.match(tty.stdout, /Receiving objects: \d+% \(\d+\/\d+\) (-|[\d.]+\u00a0[kMG]B)\/s [\d.]+\u00a0[kMG]B/);
  assert.match(tty.stdout, /\r\x1b\[K\d+ metadata, \d+ content objects fetched; \d+ KiB transferred in \d+ seconds; .* content written\r?\n$/);
  const dest2 = await nextDest(n.url);
  const piped = await ours([`--repo=${dest2}`, 'pull', 'origin', served.ref]);
  assert.equal(piped.code, 0);
  assert.equal(piped.stderr, '');
  assert.match(piped.stdout, /^\d+ metadata, \d+ content objects fetched; \d+ KiB transferred in \d+ seconds; .* content written\n$/);
});

test('static deltas: chosen when the summary lists one, and the summary line says so', async () => {
  const repo = path.join(work, 'delta-served');
  fs.cpSync(served.repo, repo, { recursive: true });
  const tree = path.join(work, 'delta-tree');
  up(`--repo=${repo}`, 'checkout', '-U', served.commit, tree);
  fs.writeFileSync(path.join(tree, 'usr/share/d0/f0'), 'changed\n');
  fs.writeFileSync(path.join(tree, 'usr/new'), 'new file\n');
  const c2 = up(`--repo=${repo}`, 'commit', '-b', served.ref, '--no-xattrs', `--tree=dir=${tree}`).trim();
  up(`--repo=${repo}`, 'static-delta', 'generate', `--from=${served.commit}`, `--to=${c2}`);
  up(`--repo=${repo}`, 'summary', '-u');
  const n = await nginx('delta', { root: repo });
  const dest = await nextDest(n.url);
  const first = await ours([`--repo=${dest}`, 'pull', 'origin', `${served.ref}@${served.commit}`]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^\d+ metadata, \d+ content objects fetched/, 'no delta from scratch: object by object');
  n.clearLog();
  const upd = await ours([`--repo=${dest}`, 'pull', 'origin', served.ref]);
  assert.equal(upd.code, 0, upd.stderr);
  assert.match(upd.stdout, /^1 delta parts, \d+ loose fetched; /);
  assert.ok(n.access().some((e) => /^\/deltas\/.+\/0$/.test(e.path) && e.status === 200), 'the part was fetched');
  assert.ok(!n.access().some((e) => e.path.endsWith('.filez')), 'no content object fetched loose');
  assert.equal(refOf(dest, `origin:${served.ref}`), c2);
  upstreamFsck(dest);
  const again = await nextDest(n.url);
  await ours([`--repo=${again}`, 'pull', 'origin', `${served.ref}@${served.commit}`]);
  const objects = await ours([`--repo=${again}`, 'pull', '--disable-static-deltas', 'origin', served.ref]);
  assert.match(objects.stdout, /^\d+ metadata, \d+ content objects fetched/, '--disable-static-deltas: object by object');
});

test('an update object by object fetches exactly the new objects; what a partial old commit lost is fetched again', async () => {
  const repo = path.join(work, 'update-served');
  fs.cpSync(served.repo, repo, { recursive: true });
  const tree = path.join(work, 'update-tree');
  up(`--repo=${repo}`, 'checkout', '-U', served.commit, tree);
  for (const f of ['usr/share/d3/f3', 'usr/share/d7/f47', 'usr/bin/tool']) fs.appendFileSync(path.join(tree, f), 'changed\n');
  fs.writeFileSync(path.join(tree, 'usr/share/d9/new'), 'new file\n');
  const c2 = up(`--repo=${repo}`, 'commit', '-b', served.ref, '--no-xattrs', `--tree=dir=${tree}`).trim();
  up(`--repo=${repo}`, 'summary', '-u');
  const n = await nginx('update', { root: repo });

  const dest = await nextDest(n.url);
  assert.equal((await ours([`--repo=${dest}`, 'pull', 'origin', `${served.ref}@${served.commit}`])).code, 0);
  const before = objectsIn(dest);
  n.clearLog();
  const upd = await ours([`--repo=${dest}`, 'pull', '--disable-static-deltas', 'origin', served.ref]);
  assert.equal(upd.code, 0, upd.stderr);
  assert.equal(refOf(dest, `origin:${served.ref}`), c2);
  const fetched = n.access().filter((e) => e.status === 200).map((e) => objectOfPath(e.path)).filter((o): o is string => o !== null);
  const added = [...objectsIn(dest)].filter((o) => !before.has(o) && !o.endsWith('.commitmeta'));
  assert.deepEqual([...fetched].sort(), added.sort(), 'each new object fetched once, nothing the old commit holds');
  assert.equal(fetched.filter((o) => o.endsWith('.filez')).length, 4, 'three changed files and a new one');
  upstreamFsck(dest);

  // The old commit marked partial (as fsck --delete leaves it) with a shared object gone: an
  // update cannot trust it, so it scans the new commit in full and fetches that object again.
  const broken = await nextDest(n.url);
  assert.equal((await ours([`--repo=${broken}`, 'pull', 'origin', `${served.ref}@${served.commit}`])).code, 0);
  const shared = up(`--repo=${broken}`, 'ls', '-C', served.commit, '/usr/share/d5/f5').trim().split(/\s+/)[4]!;
  fs.rmSync(path.join(broken, 'objects', shared.slice(0, 2), `${shared.slice(2)}.file`));
  fs.writeFileSync(path.join(broken, 'state', `${served.commit}.commitpartial`), '');
  n.clearLog();
  const repaired = await ours([`--repo=${broken}`, 'pull', '--disable-static-deltas', 'origin', served.ref]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.ok(n.access().some((e) => e.path.endsWith(`${shared.slice(2)}.filez`)), 'the lost object was fetched again');
  upstreamFsck(broken);
});
