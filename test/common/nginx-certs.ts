/**
 * Keys and passwords for the nginx tests, made with openssl by the test itself: a CA, a server
 * certificate for 127.0.0.1 signed by it, a client certificate signed by it (and one signed by
 * another CA, which the server must refuse), and htpasswd lines for basic auth.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not know. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { cert, key };
}

function signed(dir: string, name: string, ca: { cert: string; key: string }, ext: string[]): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  fs.writeFileSync(extFile, ext.join('\n') + '\n');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extFile], dir);
  return { cert, key };
}

/** A CA, a server certificate for 127.0.0.1/localhost, client certificates; all under `dir`. */
export function makePki(dir: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'test-ca');
  const server = signed(dir, 'server', ca, ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
  const client = signed(dir, 'client', ca, ['extendedKeyUsage=clientAuth']);
  const other = makeCa(dir, 'other-ca');
  const stranger = signed(dir, 'stranger', other, ['extendedKeyUsage=clientAuth']);
  return {
    caCert: ca.cert, serverCert: server.cert, serverKey: server.key,
    clientCert: client.cert, clientKey: client.key, strangerCert: stranger.cert, strangerKey: stranger.key,
  };
}

/** One htpasswd line for `user`/`password` (apr1 hash, which nginx reads). */
export function htpasswdLine(user: string, password: string): string {
  const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: password + '\n', encoding: 'utf8' }).trim();
  return `${user}:${hash}\n`;
}
