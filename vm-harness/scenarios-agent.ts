/**
 * `make vm-test` scenarios a1-a2: the update agent (`ostree-agent`, docs/agent.md) in the guest,
 * on one throwaway overlay, in order.  The guest has no network: nginx runs inside it on
 * 127.0.0.1:8080 (a unit the first boot writes to /etc, so it comes back on every later boot
 * before the agent), serving the update disk's archive repository (/repo/) and a Cincinnati
 * graph written by the scenario (/graph/v1/graph).  The booted deployment's origin is pointed at
 * that repository with `ostree admin set-origin`.  The harness never reboots the guest here:
 * every reboot is the agent's.
 *
 * a1. update in the window: with a closed periodic window `ostree-agent check` stages release 2
 *     and waits for the window, and the daemon started then says so in `ostree admin status` and
 *     `apt-ostree status` (AutomaticUpdatesDriver / DriverState); with an open one the daemon (`systemctl start ostree-agent`)
 *     reboots the machine itself; the next boot is release 2, and the daemon, started at boot,
 *     judges it good (the agent's steady state) and finds nothing newer.
 * a2. a bad release is refused (needs a1): the graph gains release 3 (the update disk's commit
 *     whose /etc merge fails here, as in scenario 7); `ostree-agent check` stages it and reboots;
 *     finalization fails at shutdown, so release 2 boots again: the daemon records the rollback
 *     in its denylist, and `ostree-agent check` then refuses 3 and stages nothing.
 * a3. FleetLock (needs a2): etcd and `ostree-agent fleetlock-server` run in the guest, on its
 *     127.0.0.1 (the guest has no network; the host's etcd binary and etcdctl come on a small
 *     labelled disk, see fleetDisk); `ostree-agent forget 3` takes 3 off the denylist and the
 *     /etc edit that broke its finalization is undone; with strategy fleet_lock the daemon
 *     stages 3, takes the group's one slot and reboots; after the good boot it reports steady
 *     state and the slot is free again: etcd's history shows the holder key put then deleted,
 *     the server logged the lock (previous boot) and the unlock, and its admin view lists no
 *     holder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAT, RUNS, STATUS_SNIPPET, checkBooted, clean, runBoot as runOneBoot, script, sec, statusDeployments, type Results, type RunBootOptions } from './checks.js';
import { log } from './common.js';
import { BRANCH, CONFLICT_FILE, UPDATE_LABEL, type BuiltImage } from './image.js';
import { createOverlay, type BootResult } from './launch.js';
import { makeExt4Image } from './disk.js';

/** Staging pulls and deploys in the guest, under TCG on a shared machine. */
const SLOW_BOOT_MS = 600_000;
/** A TCG flake on a loaded host (see scenarios-bootcount.ts): the kernel dies before userspace. */
const HOST_FLAKE = /Kernel panic - not syncing: IO-APIC \+ timer doesn't work/;

async function runBoot(res: Results, o: RunBootOptions): Promise<BootResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runOneBoot(res, { timeoutMs: SLOW_BOOT_MS, ...o, name: attempt === 1 ? o.name : `${o.name}-again${attempt}` });
    if (!HOST_FLAKE.test(r.log) || r.bootedMs !== null || attempt === 3) return r;
    log(`${o.name}: the guest kernel failed its timer check under the host's load (a TCG flake): booting again`);
  }
}

const PORT = 8080;
const GRAPH_DIR = '/var/lib/ostree-test-www/graph/v1';
const AGENT_CONF = '/etc/ostree-agent/config.d/50-vm-test.toml';

/** Write `text` to `file` in the guest (a quoted here-document: nothing is expanded). */
const writeGuest = (file: string, text: string): string => `cat > ${file} <<'OSTREE_TEST_EOF'\n${text.trimEnd()}\nOSTREE_TEST_EOF`;

const NGINX_CONF = `user root;
worker_processes 1;
pid /run/ostree-test-nginx/nginx.pid;
events { worker_connections 64; }
http {
  access_log /var/log/ostree-test-nginx/access.log;
  client_body_temp_path /run/ostree-test-nginx/body;
  proxy_temp_path /run/ostree-test-nginx/proxy;
  fastcgi_temp_path /run/ostree-test-nginx/fastcgi;
  uwsgi_temp_path /run/ostree-test-nginx/uwsgi;
  scgi_temp_path /run/ostree-test-nginx/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${PORT};
    location /repo/ { root /run/update; }
    location /graph/ { alias /var/lib/ostree-test-www/graph/; default_type application/json; }
  }
}`;

const MOUNT_UNIT = `[Unit]
Description=ostree-test: the update disk
[Mount]
What=/dev/disk/by-label/${UPDATE_LABEL}
Where=/run/update
Options=ro`;

const NGINX_UNIT = `[Unit]
Description=ostree-test: nginx on 127.0.0.1:${PORT} serving the update disk's repository and the update graph
RequiresMountsFor=/run/update
Before=ostree-agent.service
[Service]
Type=forking
PIDFile=/run/ostree-test-nginx/nginx.pid
ExecStartPre=/bin/mkdir -p /run/ostree-test-nginx /var/log/ostree-test-nginx
ExecStart=/usr/sbin/nginx -c /etc/ostree-test/nginx.conf -e /var/log/ostree-test-nginx/error.log
[Install]
WantedBy=multi-user.target`;

/** A Cincinnati graph as Fedora CoreOS serves it: releases 1..n in order, `edges` given. */
function graph(commits: string[], edges: Array<[number, number]>): string {
  const nodes = commits.map((c, i) => ({
    version: String(i + 1), payload: c,
    metadata: { 'org.fedoraproject.coreos.scheme': 'checksum', 'org.fedoraproject.coreos.releases.age_index': String(i) },
  }));
  return JSON.stringify({ nodes, edges });
}

/** Shell lines: publish `json` as the graph (temp name, then rename: the agent never reads half a file). */
const publishGraph = (json: string): string[] => [`mkdir -p ${GRAPH_DIR}`, writeGuest(`${GRAPH_DIR}/graph.tmp`, json), `mv ${GRAPH_DIR}/graph.tmp ${GRAPH_DIR}/graph`];

/**
 * The agent's configuration: a periodic window on `day` (a guest shell expression) from `start`
 * for `minutes`; a long steady interval so the daemon's only cycles are the one at its start and
 * the ones the scenario asks for.
 */
const agentConfig = (day: string, start: string, minutes: number): string[] => [
  'mkdir -p /etc/ostree-agent/config.d',
  `cat > ${AGENT_CONF} <<OSTREE_TEST_EOF
[agent]
timing.steady_interval_secs = 3600
[cincinnati]
base_url = "http://127.0.0.1:${PORT}/graph"
[updates]
strategy = "periodic"
[updates.periodic]
time_zone = "UTC"
[[updates.periodic.window]]
days = ["${day}"]
start_time = "${start}"
length_minutes = ${minutes}
OSTREE_TEST_EOF`,
];

/** Wait until the daemon started at boot has ended its first cycle (its "cycle: ..." line). */
const WAIT_DAEMON_CYCLE = 'for i in $(seq 1 300); do journalctl -b -o cat -u ostree-agent.service | grep -q "cycle: " && break; sleep 1; done';

/** The script hands the boot to the agent: if the agent does not reboot, the marker powers off after this. */
const LET_THE_AGENT_REBOOT = ['touch /run/ostree-test-keep-running', 'sleep 300', 'rm -f /run/ostree-test-keep-running'];

export async function runAgentScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<void> {
  // each continues from the one before on the same disk: a3 runs a1 and a2's boots first
  const a3 = want('a3');
  const a2 = want('a2') || a3;
  if (!want('a1') && !a2) return;
  const disk = await createOverlay(img.disk, path.join(RUNS, 'agent.qcow2'));
  if (!(await stageInWindow(res, img, disk))) return;
  await updatedBoot(res, img, disk, a2);
  if (a2) await refusedAfterRollback(res, img, disk);
  if (a3) await fleetLockUpdate(res, img, disk);
}

/** a1, first boot: nginx, origin, graph 1→2; staged while the window is closed; the daemon reboots when it opens. */
async function stageInWindow(res: Results, img: BuiltImage, disk: string): Promise<boolean> {
  const s = script('a1-stage', [
    'echo "@@OSTREE-TEST BEGIN setup"',
    '( set -ex',
    'mkdir -p /etc/ostree-test',
    writeGuest('/etc/ostree-test/nginx.conf', NGINX_CONF),
    writeGuest('/etc/systemd/system/run-update.mount', MOUNT_UNIT),
    writeGuest('/etc/systemd/system/ostree-test-nginx.service', NGINX_UNIT),
    ...publishGraph(graph([img.commit1, img.commit2], [[0, 1]])),
    'systemctl daemon-reload',
    'systemctl enable ostree-test-nginx.service',
    'systemctl start ostree-test-nginx.service',
    `ostree admin set-origin --set=gpg-verify=false upd http://127.0.0.1:${PORT}/repo ${BRANCH}`,
    ')',
    'echo "@@OSTREE-TEST END setup rc=$?"',
    CAT('listening', 'ss -Hltn'),
    CAT('origin', 'cat /ostree/deploy/debian/deploy/*.origin'),
    // closed: a window three days from now
    ...agentConfig('$(date -u -d "+3 days" +%a)', '03:00', 30),
    CAT('check-closed', 'ostree-agent check'),
    STATUS_SNIPPET('staged-status'),
    // the daemon with the window still closed: the status commands show what it waits for
    CAT('start-daemon-closed', 'systemctl start ostree-agent.service'),
    WAIT_DAEMON_CYCLE,
    STATUS_SNIPPET('driver-status'),
    CAT('apt-status', 'apt-ostree status'),
    CAT('stop-daemon', 'systemctl stop ostree-agent.service'),
    // open: since ten minutes ago, for twelve hours
    ...agentConfig('$(date -u -d "-10 min" +%a)', '$(date -u -d "-10 min" +%H:%M)', 720),
    CAT('config-open', `cat ${AGENT_CONF}`),
    CAT('start-daemon', 'systemctl start ostree-agent.service'),
    ...LET_THE_AGENT_REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'a1-stage', disk, extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const sc = 'a1-agent-update';
  checkBooted(res, sc, r, img.commit1);
  const setup = sec(r, 'setup');
  const ok = res.check(sc, 'nginx (its own unit, 127.0.0.1 only) serves the update disk; the origin names the remote upd', setup.rc === 0 &&
    new RegExp(`^LISTEN\\s+\\d+\\s+\\d+\\s+127\\.0\\.0\\.1:${PORT}\\s`, 'm').test(sec(r, 'listening').text) &&
    !new RegExp(`(0\\.0\\.0\\.0|\\*|\\[::\\]):${PORT}\\s`).test(sec(r, 'listening').text) &&
    new RegExp(`^refspec=upd:${BRANCH}$`, 'm').test(sec(r, 'origin').text),
  `${setup.text.slice(-2000) || r.log.slice(-2000)}\n${sec(r, 'listening').text}\n${sec(r, 'origin').text}`);
  const chk = sec(r, 'check-closed');
  res.check(sc, 'window closed: `ostree-agent check` stages release 2 and waits for the window', chk.rc === 0 &&
    /^phase: staged$/m.test(chk.text) && new RegExp(`^target: 2 \\(${img.commit2}\\)$`, 'm').test(chk.text) &&
    /^waiting for: the next update window \(\d{4}-/m.test(chk.text) && /^event: staging 2$/m.test(chk.text), chk.text);
  const st = sec(r, 'staged-status').text;
  res.check(sc, '`ostree admin status` shows release 2 staged', new RegExp(`^  \\S+ ${img.commit2}\\.\\d+ \\(staged\\)`, 'm').test(st), st);
  const drv = sec(r, 'driver-status').text;
  const apt = sec(r, 'apt-status').text;
  const waitLine = /^ {2}DriverState: active; update 2 staged; waiting for the next update window \(\d{4}-[^)]*\) \(last checked \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/m;
  res.check(sc, 'the daemon waiting for the window: `ostree admin status` and `apt-ostree status` say so (AutomaticUpdatesDriver / DriverState)',
    sec(r, 'start-daemon-closed').rc === 0 && /^AutomaticUpdatesDriver: ostree-agent$/m.test(drv) && waitLine.test(drv) &&
    /^State: idle\nAutomaticUpdatesDriver: ostree-agent\n/.test(apt) && waitLine.test(apt) && /^Deployments:$/m.test(apt), `${drv}\n${apt}`);
  const con = clean(r.log);
  res.check(sc, 'window open: the daemon reboots the machine itself (the script only started it)',
    !r.timedOut && sec(r, 'start-daemon').rc === 0 && /reboot: Restarting system/.test(con) && !con.includes('@@OSTREE-TEST POWEROFF'),
    `${sec(r, 'config-open').text}\ntimed out: ${r.timedOut}\n${con.slice(-1500)}`);
  return ok;
}

/** a1, second boot: release 2 booted; the daemon judged it good. Then (a2) the graph gains 3 and `check` takes it. */
async function updatedBoot(res: Results, img: BuiltImage, disk: string, thenBad: boolean): Promise<void> {
  const s = script('a1-updated', [
    WAIT_DAEMON_CYCLE,
    CAT('version', 'cat /usr/share/ostree-test/version'),
    CAT('prev-agent', 'journalctl -b -1 -o cat -u ostree-agent.service'),
    CAT('prev-finalize', 'journalctl -b -1 -o cat -u ostree-finalize-staged.service'),
    CAT('agent-journal', 'journalctl -b -o cat -u ostree-agent.service'),
    CAT('agent-status', 'ostree-agent status'),
    STATUS_SNIPPET('driver-after'),
    CAT('access-log', 'cat /var/log/ostree-test-nginx/access.log'),
    ...(thenBad ? [
      ...publishGraph(graph([img.commit1, img.commit2, img.commit3], [[0, 1], [1, 2]])),
      // an edited /etc file that release 3 turns into a directory: its finalization will fail
      `echo "edited-on-release-2" >> /etc/${CONFLICT_FILE}`,
      'echo "@@OSTREE-TEST BEGIN check-3"',
      'touch /run/ostree-test-keep-running',
      'ostree-agent check',
      'echo "@@OSTREE-TEST END check-3 rc=$?"',
      ...LET_THE_AGENT_REBOOT,
    ] : []),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'a1-updated', disk, extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const sc = 'a1-agent-update';
  checkBooted(res, sc, r, img.commit2);
  res.check(sc, 'the /usr file is release 2\'s', sec(r, 'version').text.trim() === '2', sec(r, 'version').text);
  const prev = sec(r, 'prev-agent').text;
  res.check(sc, 'previous boot\'s journal: the daemon logged "rebooting into 2 (<commit>)"; the finalization ran at shutdown',
    prev.includes(`rebooting into 2 (${img.commit2})`) && /Transaction complete/.test(sec(r, 'prev-finalize').text), `${prev}\n${sec(r, 'prev-finalize').text}`);
  const con = clean(r.log);
  const j = sec(r, 'agent-journal').text;
  res.check(sc, 'systemd starts ostree-agent.service at boot (no ordering cycle with ostree-boot-check.service)',
    !/ordering cycle/i.test(con) && /ostree-agent: node [0-9a-f]{32}, group default, strategy periodic, every 3600 s/.test(j),
    `${con.split('\n').filter((l) => /ordering cycle|Found dependency|ostree-agent/i.test(l)).slice(0, 10).join('\n')}\n${j}`);
  const stt = sec(r, 'agent-status').text;
  res.check(sc, 'the daemon, started at boot, judged release 2 good (steady state) and found nothing newer',
    j.includes('2 booted and passed its health checks') && /cycle: no-update/.test(j) &&
    /^phase: no-update$/m.test(stt) && /^event: 2 booted and passed its health checks$/m.test(stt) && !/^error:/m.test(stt), `${j}\n${stt}`);
  const da = sec(r, 'driver-after').text;
  res.check(sc, '`ostree admin status` after the update: the daemon is active and polling',
    /^AutomaticUpdatesDriver: ostree-agent\n {2}DriverState: active; periodically polling for updates \(last checked /m.test(da), da);
  const acc = sec(r, 'access-log').text;
  res.check(sc, 'nginx\'s access log: the agent fetched the graph and the commit from 127.0.0.1',
    /^127\.0\.0\.1 .*"GET \/graph\/v1\/graph\?\S* HTTP\/1\.1" 200 /m.test(acc) && new RegExp(`^127\\.0\\.0\\.1 .*"GET /repo/objects/${img.commit2.slice(0, 2)}/${img.commit2.slice(2)}\\.commit HTTP/1\\.1" 200 `, 'm').test(acc),
    acc.split('\n').slice(-20).join('\n'));
  if (!thenBad) return;
  res.check('a2-bad-release', 'the graph lists 3 after 2: `ostree-agent check` stages 3 and reboots (the agent\'s reboot); finalization fails at shutdown',
    !r.timedOut && con.includes(`staged 3 (${img.commit3}) from remote upd`) && con.includes(`rebooting into 3 (${img.commit3})`) &&
    /reboot: Restarting system/.test(con) && !con.includes('@@OSTREE-TEST POWEROFF') &&
    /ostree\[\d+\]: error: Modified config file newly defaults to directory/.test(con), con.slice(-2500));
}

/** a2, third boot: release 2 again; the rollback is on the denylist; `check` refuses 3. */
async function refusedAfterRollback(res: Results, img: BuiltImage, disk: string): Promise<void> {
  const s = script('a2-refused', [
    WAIT_DAEMON_CYCLE,
    CAT('agent-journal', 'journalctl -b -o cat -u ostree-agent.service'),
    CAT('check', 'ostree-agent check'),
    STATUS_SNIPPET('status-after-check'),
    CAT('state', 'cat /var/lib/ostree-agent/state.json'),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'a2-refused', disk, extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const sc = 'a2-bad-release';
  checkBooted(res, sc, r, img.commit2);
  const j = sec(r, 'agent-journal').text;
  res.check(sc, 'the daemon, started at boot, sees release 2 booted again: 3 was rolled back and is denied',
    j.includes('3 was rolled back: denied here from now on') && /cycle: no-update/.test(j), j);
  const chk = sec(r, 'check');
  res.check(sc, '`ostree-agent check` refuses 3 with its reason and stages nothing', chk.rc === 0 &&
    /^phase: no-update$/m.test(chk.text) && /^skipped 3: denied \(bad release or rolled back here\)$/m.test(chk.text) &&
    /^denied here: 3$/m.test(chk.text) && !/^target:/m.test(chk.text) && !/staging/.test(chk.text), chk.text);
  const st = sec(r, 'status-after-check').text;
  res.check(sc, '`ostree admin status`: nothing staged, release 3 not deployed', !st.includes('(staged)') && !st.includes(img.commit3) &&
    statusDeployments(st)[0]?.startsWith(img.commit2) === true, st);
  const state = sec(r, 'state').text;
  res.check(sc, 'the denylist in /var/lib/ostree-agent/state.json names 3 as rolled back on this node',
    new RegExp(`"${img.commit3}":\\s*\\{[^}]*"version":\\s*"3"[^}]*"reason":\\s*"rolled back on this node`).test(state), state);
}

const FLEET_LABEL = 'ostree-fleet';
const LOCK_PORT = 9090;
const LOCK_STATUS_PORT = 9091;
const ETCD = '/run/fleet/etcd';
const ETCDCTL = 'ETCDCTL_API=3 /run/fleet/etcdctl --endpoints=http://127.0.0.1:2379';
const HOLDERS = '/ostree-agent/fleetlock/groups/default/holders/';

/**
 * The host's etcd and etcdctl (Debian's etcd-server / etcd-client; Go binaries needing only
 * libc, the guest's Debian release) on a small ext4 disk: the guest image stays as it is.
 */
async function fleetDisk(): Promise<string> {
  const dir = path.join(RUNS, 'fleet-disk');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const b of ['etcd', 'etcdctl']) {
    const from = `/usr/bin/${b}`;
    if (!fs.existsSync(from)) throw new Error(`${from} is missing: a3 needs Debian's etcd-server and etcd-client on the host (make deps-apt)`);
    fs.copyFileSync(from, path.join(dir, b));
    fs.chmodSync(path.join(dir, b), 0o755);
  }
  const out = path.join(RUNS, 'fleet.img');
  await makeExt4Image(dir, FLEET_LABEL, out, 4);
  return out;
}

const FLEET_MOUNT = `[Unit]
Description=ostree-test: etcd and etcdctl from the host
[Mount]
What=/dev/disk/by-label/${FLEET_LABEL}
Where=/run/fleet
Options=ro`;

/** etcd on the guest's loopback; its data in /var, so the holders outlive the reboot. */
const ETCD_UNIT = `[Unit]
Description=ostree-test: etcd on 127.0.0.1:2379 for the FleetLock server
RequiresMountsFor=/run/fleet /var/lib
Before=ostree-test-fleetlock.service ostree-agent.service
[Service]
Type=notify
ExecStart=${ETCD} --name guest --data-dir /var/lib/ostree-test-etcd --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster guest=http://127.0.0.1:2380
[Install]
WantedBy=multi-user.target`;

const LOCK_CONF = `[service]
address = "127.0.0.1"
port = ${LOCK_PORT}
[status]
enabled = true
address = "127.0.0.1"
port = ${LOCK_STATUS_PORT}
[etcd3]
endpoints = ["http://127.0.0.1:2379"]
[lock]
default_slots = 1`;

/** Ready once its status view answers (so ostree-agent.service, ordered after it, finds it up). */
const LOCK_UNIT = `[Unit]
Description=ostree-test: ostree-agent fleetlock-server on 127.0.0.1:${LOCK_PORT}
Requires=ostree-test-etcd.service
After=ostree-test-etcd.service
Before=ostree-agent.service
[Service]
Type=simple
ExecStart=/usr/bin/ostree-agent fleetlock-server --config /etc/ostree-test/fleetlock.toml
ExecStartPost=/bin/sh -c 'for i in $(seq 1 300); do curl -sf -o /dev/null http://127.0.0.1:${LOCK_STATUS_PORT}/v1/status && exit 0; sleep 1; done; exit 1'
[Install]
WantedBy=multi-user.target`;

/** fleet_lock alone; a short interval, so a cycle that found the server not yet up is soon retried. */
const FLEET_AGENT_CONF = `[agent]
timing.steady_interval_secs = 30
[cincinnati]
base_url = "http://127.0.0.1:${PORT}/graph"
[updates]
strategy = "fleet_lock"
[updates.fleet_lock]
base_url = "http://127.0.0.1:${LOCK_PORT}"`;

/** a3: forget 3, undo the /etc edit, etcd + lock server; the daemon takes the slot, reboots into 3, reports steady state. */
async function fleetLockUpdate(res: Results, img: BuiltImage, disk: string): Promise<void> {
  const sc = 'a3-fleet-lock';
  const fleet = await fleetDisk();
  const s1 = script('a3-lock', [
    WAIT_DAEMON_CYCLE,
    'systemctl stop ostree-agent.service',
    'echo "@@OSTREE-TEST BEGIN fleet-setup"',
    '( set -ex',
    writeGuest('/etc/systemd/system/run-fleet.mount', FLEET_MOUNT),
    writeGuest('/etc/systemd/system/ostree-test-etcd.service', ETCD_UNIT),
    writeGuest('/etc/ostree-test/fleetlock.toml', LOCK_CONF),
    writeGuest('/etc/systemd/system/ostree-test-fleetlock.service', LOCK_UNIT),
    'systemctl daemon-reload',
    'systemctl enable ostree-test-etcd.service ostree-test-fleetlock.service',
    'systemctl start ostree-test-fleetlock.service',
    // release 2's own /etc file again: the merge into 3 then takes 3's default (a directory)
    `cp -a /usr/etc/${CONFLICT_FILE} /etc/${CONFLICT_FILE}`,
    writeGuest(AGENT_CONF, FLEET_AGENT_CONF),
    ')',
    'echo "@@OSTREE-TEST END fleet-setup rc=$?"',
    CAT('forget', 'ostree-agent forget 3'),
    CAT('forget-again', 'ostree-agent forget 3'),
    CAT('lock-status-before', `curl -s http://127.0.0.1:${LOCK_STATUS_PORT}/v1/status; echo`),
    CAT('start-daemon', 'systemctl start ostree-agent.service'),
    'touch /run/ostree-test-keep-running', 'sleep 800', 'rm -f /run/ostree-test-keep-running',
  ].join('\n') + '\n');
  const r1 = await runBoot(res, { name: 'a3-lock', disk, timeoutMs: 900_000, extraDisks: [img.updateDisk, fleet], fwCfg: [{ name: 'opt/ostree-ts/script', file: s1 }] });
  checkBooted(res, sc, r1, img.commit2);
  const setup = sec(r1, 'fleet-setup');
  res.check(sc, 'etcd and the FleetLock server run in the guest on 127.0.0.1; its admin view lists no holder',
    setup.rc === 0 && /"holders":\s*\[\]/.test(sec(r1, 'lock-status-before').text), `${setup.text.slice(-2500)}\n${sec(r1, 'lock-status-before').text}`);
  const fg = sec(r1, 'forget');
  const fg2 = sec(r1, 'forget-again');
  res.check(sc, '`ostree-agent forget 3` takes 3 off the denylist; a second time it is refused (exit 1, a clear error)',
    fg.rc === 0 && fg.text.includes(`forgot 3 (${img.commit3}): rolled back on this node`) &&
    fg2.rc === 1 && /error: release 3 is not on this node's denylist/.test(fg2.text), `${fg.text}\n${fg2.text}`);
  const con1 = clean(r1.log);
  // (what the daemon logged is in the journal, read at the next boot: a daemon's lines do not reach the console)
  res.check(sc, 'the daemon (strategy fleet_lock, started by the script) reboots the machine itself',
    !r1.timedOut && /reboot: Restarting system/.test(con1) && !con1.includes('@@OSTREE-TEST POWEROFF'), con1.slice(-2500));

  const s2 = script('a3-steady', [
    'for i in $(seq 1 600); do journalctl -b -o cat -u ostree-agent.service | grep -q "reported steady state" && break; sleep 1; done',
    CAT('version', 'cat /usr/share/ostree-test/version'),
    CAT('agent-journal', 'journalctl -b -o cat -u ostree-agent.service'),
    CAT('prev-agent', 'journalctl -b -1 -o cat -u ostree-agent.service'),
    CAT('prev-lock', 'journalctl -b -1 -o cat -u ostree-test-fleetlock.service'),
    CAT('lock-journal', 'journalctl -b -o cat -u ostree-test-fleetlock.service'),
    // every change to the holders since etcd's first revision: the slot taken, then given back
    CAT('etcd-history', `timeout 15 sh -c '${ETCDCTL} watch --rev=1 --prefix ${HOLDERS}'`),
    CAT('etcd-now', `${ETCDCTL} get --prefix ${HOLDERS}`),
    CAT('lock-status', `curl -s http://127.0.0.1:${LOCK_STATUS_PORT}/v1/status; echo`),
    STATUS_SNIPPET('admin-status'),
  ].join('\n') + '\n');
  const r2 = await runBoot(res, { name: 'a3-steady', disk, extraDisks: [img.updateDisk, fleet], fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  checkBooted(res, sc, r2, img.commit3);
  res.check(sc, 'the /usr file is release 3\'s', sec(r2, 'version').text.trim() === '3', sec(r2, 'version').text);
  const j = sec(r2, 'agent-journal').text;
  const node = /ostree-agent: node ([0-9a-f]{32}), group default, strategy fleet_lock/.exec(sec(r2, 'prev-agent').text)?.[1] ?? '(no node id)';
  const prevLock = sec(r2, 'prev-lock').text;
  const prevAgent = sec(r2, 'prev-agent').text;
  res.check(sc, 'previous boot: the daemon staged 3, the lock server granted this node the slot, then the daemon rebooted into 3',
    prevAgent.includes(`staged 3 (${img.commit3}) from remote upd`) && prevLock.includes(`lock: default/${node} took a slot`) &&
    prevAgent.includes(`rebooting into 3 (${img.commit3})`), `${node}\n${prevLock}\n${prevAgent.slice(-1500)}`);
  const hist = sec(r2, 'etcd-history').text;
  const put = hist.indexOf(`PUT\n${HOLDERS}${node}\n`);
  const del = hist.indexOf(`DELETE\n${HOLDERS}${node}\n`);
  res.check(sc, 'etcd\'s history: the holder key of this node was put (slot taken), then deleted (slot given back)',
    put >= 0 && del > put, hist);
  res.check(sc, 'after the good boot the daemon judged 3 good and reported steady state; the server freed the slot',
    j.includes('3 booted and passed its health checks') && j.includes('reported steady state') &&
    sec(r2, 'lock-journal').text.includes(`unlock: default/${node} freed its slot`), `${j}\n${sec(r2, 'lock-journal').text}`);
  const now = sec(r2, 'etcd-now');
  const st = sec(r2, 'lock-status').text;
  res.check(sc, 'the slot is free: no holder key in etcd, none in the server\'s admin view',
    now.rc === 0 && !now.text.includes(HOLDERS) && /"name":\s*"default"/.test(st) && /"holders":\s*\[\]/.test(st), `${now.text}\n${st}`);
  const as = sec(r2, 'admin-status').text;
  res.check(sc, '`ostree admin status`: 3 booted; the agent is active and polling',
    statusDeployments(as)[0]?.startsWith(img.commit3) === true && /^ {2}DriverState: active; periodically polling for updates/m.test(as), as);
}
