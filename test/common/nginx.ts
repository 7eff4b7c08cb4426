/**
 * A real nginx for pull tests and benches: started on 127.0.0.1 (never another address) on a
 * free port, with a configuration generated here and its own prefix, pid, temp and log files in
 * a directory of its own, serving a directory (an archive repository) as static files.
 * Optional: TLS with a server certificate (and client certificates checked against a CA),
 * basic auth, a required request header. The access log is one line per request, so tests can
 * count what was fetched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from '../../vm-harness/ports.js';

export const NGINX = process.env['NGINX'] ?? '/usr/sbin/nginx';

export interface NginxOptions {
  /** Directory served at `/`. */
  root: string;
  /** Where nginx keeps its config, pid, logs and temp files (made when missing). */
  dir: string;
  /** TLS: the server's certificate and key; with `clientCa`, a client certificate signed by it is
   *  required; with `http2`, HTTP/2 is offered (ALPN). */
  tls?: { cert: string; key: string; clientCa?: string; http2?: boolean };
  /** Basic auth: an htpasswd file (see htpasswdLine). */
  htpasswd?: string;
  /** Refuse (403) requests without this header and value. */
  requireHeader?: [string, string];
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Extra directives inside the server block. */
  extra?: string;
}

export interface AccessEntry { method: string; path: string; status: number; bytes: number; range: string; protocol: string }

export interface Nginx {
  url: string;
  port: number;
  /** The requests served so far (from the access log). */
  access(): AccessEntry[];
  /** Forget the requests logged so far. */
  clearLog(): void;
  /** Stop it (SIGKILL: as if the server died). */
  kill(): Promise<void>;
  /** Stop it gracefully. */
  stop(): Promise<void>;
}

function config(o: NginxOptions, port: number): string {
  const d = o.dir;
  const tls = o.tls;
  const lines = [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    'user root;', // files under the tests' private temp dirs are readable by their owner only
    `pid ${d}/nginx.pid;`,
    `error_log ${d}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  default_type application/octet-stream;',
    '  log_format counted \'$request_method $uri $status $body_bytes_sent "$http_range" $server_protocol\';',
    `  access_log ${d}/access.log counted;`,
    `  client_body_temp_path ${d}/tmp/body;`,
    `  proxy_temp_path ${d}/tmp/proxy;`,
    `  fastcgi_temp_path ${d}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${d}/tmp/uwsgi;`,
    `  scgi_temp_path ${d}/tmp/scgi;`,
    '  sendfile on;',
    '  tcp_nopush on;',
    '  keepalive_requests 100000;',
    '  server {',
    `    listen 127.0.0.1:${port}${tls ? ' ssl' : ''}${tls?.http2 ? ' http2' : ''};`,
    '    server_name localhost;',
    `    root ${o.root};`,
  ];
  if (tls) {
    lines.push(`    ssl_certificate ${tls.cert};`, `    ssl_certificate_key ${tls.key};`);
    if (tls.clientCa) lines.push(`    ssl_client_certificate ${tls.clientCa};`, '    ssl_verify_client on;');
  }
  if (o.htpasswd) lines.push('    auth_basic "repo";', `    auth_basic_user_file ${o.htpasswd};`);
  lines.push('    location / {');
  if (o.requireHeader) {
    const [name, value] = o.requireHeader;
    const variable = `$http_${name.toLowerCase().replace(/-/g, '_')}`;
    lines.push(`      if (${variable} != "${value}") { return 403; }`);
  }
  lines.push('    }');
  if (o.extra) lines.push(o.extra);
  lines.push('  }', '}', '');
  return lines.join('\n');
}

function parseAccess(text: string): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+) (\d+) (\d+) "(.*)" (\S+)$/.exec(line);
    if (m) out.push({ method: m[1]!, path: m[2]!, status: Number(m[3]), bytes: Number(m[4]), range: m[5] === '-' ? '' : m[5]!, protocol: m[6]! });
  }
  return out;
}

async function waitListening(port: number, child: ChildProcess, errorLog: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) {
      let why = '';
      try { why = fs.readFileSync(errorLog, 'utf8'); } catch { /* none */ }
      throw new Error(`nginx exited with ${child.exitCode}: ${why}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port}`);
}

/** Start nginx as `o` says; resolves once it accepts connections. */
export async function startNginx(o: NginxOptions): Promise<Nginx> {
  for (const sub of ['', 'tmp', 'logs']) fs.mkdirSync(path.join(o.dir, sub), { recursive: true });
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = o.port ?? await freePort();
    const conf = path.join(o.dir, 'nginx.conf');
    fs.writeFileSync(conf, config(o, port));
    const accessLog = path.join(o.dir, 'access.log');
    fs.writeFileSync(accessLog, '');
    const child = spawn(NGINX, ['-p', o.dir, '-c', conf, '-e', path.join(o.dir, 'error.log')], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      await waitListening(port, child, path.join(o.dir, 'error.log'));
    } catch (e) {
      lastError = e;
      child.kill('SIGKILL');
      await exited;
      if (o.port !== undefined) break;
      continue; // the port was taken in between: another one
    }
    let logOffset = 0;
    const killAll = async (sig: NodeJS.Signals): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (sig === 'SIGKILL') {
        // the workers are children of the master: kill them too, or they keep serving
        const pids = childrenOf(child.pid!);
        child.kill('SIGKILL');
        for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
      } else child.kill(sig);
      await exited;
    };
    return {
      url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      port,
      access: () => parseAccess(fs.readFileSync(accessLog, 'utf8').slice(logOffset)),
      clearLog: () => { logOffset = fs.statSync(accessLog).size; },
      kill: () => killAll('SIGKILL'),
      stop: () => killAll('SIGQUIT'),
    };
  }
  throw lastError instanceof Error ? lastError : new Error('nginx did not start');
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}
