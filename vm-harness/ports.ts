/**
 * A TCP port free on the loopback now: the kernel picks one for a listener that is closed at
 * once. Shared by the VM harness (the guest's SSH forward) and the tests' servers (nginx, the
 * fault proxy). Another process may take it before the caller binds it; callers that start a
 * server retry on a bind failure.
 */
import * as net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
