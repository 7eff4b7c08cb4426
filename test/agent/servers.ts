/**
 * Real servers for the agent's tests, on 127.0.0.1 and free ports: etcd (Debian's
 * etcd-server, a temporary data directory; stop and start again on the same ports and data to
 * fake an outage) and nginx (Debian's, one foreground process serving a directory); and the
 * sysroot a node starts from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../common/tmp.js';
import { freePort } from '../../vm-harness/ports.js';
import { ok, ours } from '../common/sysroot-helpers.js';

async function waitFor(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}

export class Etcd {
  private proc: ChildProcess | null = null;
  readonly dir = tempDir('agent-etcd-');
  log = '';
  private constructor(readonly clientPort: number, readonly peerPort: number) {}
  get endpoint(): string { return `http://127.0.0.1:${this.clientPort}`; }

  static async start(): Promise<Etcd> {
    const e = new Etcd(await freePort(), await freePort());
    await e.start();
    return e;
  }

  async start(): Promise<void> {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.proc = spawn('etcd', ['--name', 'agent-test', '--data-dir', path.join(this.dir, 'data'),
      '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `agent-test=${peer}`,
      '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => { this.log = (this.log + d.toString()).slice(-4000); });
    await waitFor('etcd', async () => (await fetch(`${this.endpoint}/health`)).ok);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    p.kill('SIGTERM');
    await exited(p);
  }
}

export class Nginx {
  private constructor(private readonly proc: ChildProcess, readonly port: number, readonly root: string) {}
  get url(): string { return `http://127.0.0.1:${this.port}`; }

  static async start(root: string): Promise<Nginx> {
    const port = await freePort();
    const d = tempDir('agent-nginx-');
    const conf = path.join(d, 'nginx.conf');
    fs.writeFileSync(conf, `daemon off;
master_process off;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d}/body; proxy_temp_path ${d}/proxy; fastcgi_temp_path ${d}/fcgi;
  uwsgi_temp_path ${d}/uwsgi; scgi_temp_path ${d}/scgi;
  keepalive_requests 100000;
  types { application/json json; }
  default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`);
    const proc = spawn('nginx', ['-c', conf, '-p', d, '-e', `${d}/error.log`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const n = new Nginx(proc, port, root);
    await waitFor('nginx', async () => (await fetch(`${n.url}/`)).status > 0);
    return n;
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    await exited(this.proc);
  }
}

/**
 * A sysroot at DIR/sysroot whose stateroot `testos` has one deployment of `testos/stable`,
 * pulled from `repoUrl` (remote `os`), as a node the agent runs on starts out.
 */
export function deployedFromRemote(dir: string, repoUrl: string): string {
  const phys = path.join(dir, 'sysroot');
  fs.mkdirSync(phys);
  ok(ours(['admin', 'init-fs', phys]));
  ok(ours(['admin', 'os-init', `--sysroot=${phys}`, 'testos']));
  const repo = `--repo=${path.join(phys, 'ostree/repo')}`;
  ok(ours(['remote', 'add', repo, '--no-gpg-verify', 'os', repoUrl, 'testos/stable']));
  ok(ours(['pull', repo, 'os', 'testos/stable']));
  ok(ours(['admin', 'deploy', `--sysroot=${phys}`, '--os=testos', '--karg=root=LABEL=ROOT', 'os:testos/stable'], { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' }));
  return phys;
}
