/** `ostree-agent fleetlock-server --config FILE`: the server over etcd until SIGTERM/SIGINT. */
import { EtcdLockStore } from './etcd-store.js';
import { FleetLockServer } from './server.js';
import { readServerConfig } from './server-config.js';

export async function startFleetLockServer(configFile: string, log: (line: string) => void): Promise<void> {
  const cfg = readServerConfig(configFile);
  const server = new FleetLockServer({ store: new EtcdLockStore(cfg.etcd), groups: cfg.groups, holderLeaseSecs: cfg.holderLeaseSecs, log });
  const bound = await server.start(cfg.service, cfg.status);
  log(`fleetlock-server: listening on ${bound.service.address}:${bound.service.port}${bound.status ? `, status on ${bound.status.address}:${bound.status.port}` : ''}; etcd ${cfg.etcd.endpoints.join(',')}`);
  // The bound ports on stdout, one line, for whoever started us with port 0.
  process.stdout.write(JSON.stringify({ service: bound.service.port, status: bound.status?.port ?? null }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => { resolve(); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.stop();
}
