/**
 * Ignition scenarios (ids i1-i6; VM_SCENARIOS=i1,... runs a subset; i2 and i3 continue from i1's
 * disk): the Fedora CoreOS walkthrough on the Ignition image (ignition-image.ts).  The config
 * reaches the guest as on Fedora CoreOS under QEMU, through fw_cfg (`opt/com.coreos/config`); the
 * test logs in over SSH through a host-only port forward, as user `core` with a key made per run.
 *  i1. First boot, from the walkthrough's FCC file translated by our `butane`: Ignition provisions the node (user core in the sudo group with the key, a file
 *      in /etc, one in core's home, hello.service enabled; the container tarball on a disk); then over SSH:
 *      `sudo podman ps` lists hello-server, `curl 127.0.0.1:8080` answers, `systemctl status
 *      hello.service` is active, `ostree admin status` shows the deployment, the stamp is gone.
 *  i2. Reboot: Ignition does not run again (journal of this boot vs the previous one), the files
 *      and the container are there; then a staged upgrade (`ostree admin deploy --stage`).
 *  i3. After the upgrade: the new commit is booted, Ignition's /etc file (three-way merge), the
 *      home in /var and the host key are kept.
 *  i4. Bad input, one boot each: a JSON syntax error, spec 3.4.0 (which the harness refuses up
 *      front; booted here on purpose to show what Ignition says), a file path with `..`, a unit
 *      without a valid name: the boot stops in the initramfs with Ignition's message on the
 *      console and the emergency target.
 *  i5. Timing: the Ignition disk's first boot against the image's normal boot through its
 *      initramfs-tools initramfs, and against its own second boot, all through GRUB, with the
 *      guest's breakdown of each (ignition-timing.ts).
 *  i6. i1's walkthrough and checks on the plain-QEMU path: `qemu-system-x86_64` with the same
 *      `-fw_cfg name=opt/com.coreos/config,file=...` and `-netdev user,restrict=on,hostfwd=...`,
 *      whether or not libvirt is there (VM_BACKEND=qemu makes every scenario use it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOT_TIMEOUT_MS, RUNS, clean, runBoot, script, type Results, type RunBootOptions } from './checks.js';
import { log, mkdirp, sleep, writeFile } from './common.js';
import { FIRSTBOOT_KARGS } from '../src/sysroot/bootloader/grub2-firstboot.js';
import { BOOTED_MARKER, createOverlay, type BootResult } from './launch.js';
import {
  ETC_CONTENT, ETC_FILE, MAX_SPEC, checkSpecVersion, ignitionValidate, minimalConfig, walkthroughButane, walkthroughConfig, type IgnitionConfig,
} from './ignition-config.js';
import { HELLO_BODY, buildHelloDisk } from './ignition-container.js';
import { ensureIgnitionImage, type IgnitionImage } from './ignition-image.js';
import { Ssh, freePort, makeSshKey, type SshKey } from './ignition-ssh.js';
import { seconds } from './progress.js';
import { PROFILE_SCRIPT, breakdownTable, parseProfile, type BootProfile } from './ignition-timing.js';
import { ensureOstreeImage } from './image.js';

const DIR = path.join(RUNS, 'ignition');
const CONFIG_FW_CFG = 'opt/com.coreos/config';
/** The marker must not power the guest off: the test ends each boot over SSH. */
const KEEP_RUNNING = 'touch /run/ostree-test-keep-running\n';

interface Ctx { res: Results; img: IgnitionImage; key: SshKey }

export async function runIgnitionScenarios(res: Results, want: (s: string) => boolean): Promise<void> {
  const ids = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'].filter(want);
  if (ids.length === 0) return;
  mkdirp(DIR);
  const img = await ensureIgnitionImage();
  // A key per harness run (two runs may share the work directory).
  const ctx: Ctx = { res, img, key: await makeSshKey(path.join(DIR, `key-${process.pid}`)) };
  const t0 = Date.now();
  if (want('i1')) {
    const disk = await createOverlay(img.disk, path.join(DIR, 'walkthrough.qcow2'));
    // The user's FCC file, translated by our butane (src/butane), then checked like any config.
    writeFile(path.join(DIR, 'walkthrough.bu'), walkthroughButane(ctx.key.publicKey));
    const cfg = await configFile(ctx, 'walkthrough', walkthroughConfig(ctx.key.publicKey));
    const hostKey = await firstBoot(ctx, disk, cfg, await buildHelloDisk(DIR), I1);
    if (want('i2') && hostKey !== null) {
      const ok = await secondBoot(ctx, disk, cfg);
      if (want('i3') && ok) await afterUpgrade(ctx, disk, cfg, hostKey);
    }
  }
  if (want('i4')) await badInput(ctx);
  if (want('i5')) await timing(ctx);
  if (want('i6')) {
    // The same walkthrough with plain QEMU, whatever VM_BACKEND says and whether libvirt is there.
    const disk = await createOverlay(img.disk, path.join(DIR, 'walkthrough-qemu.qcow2'));
    const cfg = await configFile(ctx, 'walkthrough', walkthroughConfig(ctx.key.publicKey));
    await firstBoot(ctx, disk, cfg, await buildHelloDisk(DIR), I6);
  }
  log(`Ignition scenarios (${ids.join(', ')}): ${seconds(Date.now() - t0)}`);
}

/** Write a config for fw_cfg, after the harness's spec check and Debian's ignition-validate. */
async function configFile({ res }: Ctx, name: string, config: IgnitionConfig): Promise<string> {
  const file = path.join(DIR, `${name}.ign`);
  const text = JSON.stringify(config);
  checkSpecVersion(text, file);
  writeFile(file, text);
  const v = await ignitionValidate(file);
  res.check('i1-walkthrough', `the ${name} config passes ignition-validate (spec ${MAX_SPEC})`, v.ok, v.out);
  return file;
}

/** A boot whose guest the test drives over SSH while it runs; `drive` ends it (reboot, poweroff). */
async function bootWithSsh(ctx: Ctx, o: RunBootOptions, drive: (ssh: Ssh | null, r: () => BootResult | null) => Promise<void>): Promise<BootResult> {
  const port = await freePort();
  let result: BootResult | null = null;
  const marker = script(`${o.name}-keep`, KEEP_RUNNING);
  // The VM lives for the boot and the whole SSH session after it: twice a boot's timeout (a
  // loaded machine took 3.5 min to the marker, and the session's reboot was cut at 300 s).
  const timeoutMs = o.timeoutMs ?? 2 * BOOT_TIMEOUT_MS;
  const running = runBoot(ctx.res, { ...o, timeoutMs, sshPort: port, fwCfg: [{ name: 'opt/ostree-ts/script', file: marker }] })
    .then((r) => { result = r; return r; });
  const serial = path.join(RUNS, `${o.name}.log`);
  const deadline = Date.now() + timeoutMs;
  // Wait for the marker (multi-user.target reached) before logging in.
  while (result === null && Date.now() < deadline) {
    let text = '';
    try { text = fs.readFileSync(serial, 'latin1'); } catch { /* not yet */ }
    if (text.includes(BOOTED_MARKER)) break;
    await sleep(500);
  }
  const ssh = new Ssh(port, ctx.key);
  const login = result === null ? await ssh.waitForLogin(deadline, () => result === null) : { rc: -1, out: '', all: 'the guest stopped before the marker' };
  ctx.res.check(o.name, `ssh -p ${port} core@127.0.0.1 with the generated ed25519 key logs in`, login.rc === 0, login.all);
  await drive(login.rc === 0 ? ssh : null, () => result);
  return running;
}

/** End a boot from inside: `sudo systemctl reboot` (QEMU exits: -no-reboot / on_reboot=destroy). */
async function endBoot(ssh: Ssh | null, how: 'reboot' | 'poweroff'): Promise<void> {
  if (ssh) await ssh.run(`sudo systemctl ${how}`, 30_000);
}

interface Walkthrough { sc: string; name: string; backend?: 'qemu' }
const I1: Walkthrough = { sc: 'i1-walkthrough', name: 'i1-first-boot' };
/** i6: i1's walkthrough through plain QEMU (`qemu-system-x86_64 ... -fw_cfg ... -netdev user,restrict=on,hostfwd=...`). */
const I6: Walkthrough = { sc: 'i6-plain-qemu', name: 'i6-first-boot', backend: 'qemu' };

/** i1 (and i6): Ignition's first boot; returns the guest's host key fingerprint (null when it failed). */
async function firstBoot(ctx: Ctx, disk: string, cfg: string, helloDisk: string, w: Walkthrough): Promise<string | null> {
  const { res, img } = ctx;
  const sc = w.sc;
  let hostKey: string | null = null;
  const r = await bootWithSsh(ctx, {
    name: w.name, disk, extraDisks: [helloDisk], qemuArgs: ['-fw_cfg', `name=${CONFIG_FW_CFG},file=${cfg}`], ...(w.backend ? { backend: w.backend } : {}),
  }, async (ssh) => {
    if (!ssh) return;
    const id = await ssh.run('id');
    res.check(sc, '`id`: core is in the sudo group (passwd.users[].groups)', /\bgroups=.*\(sudo\)/.test(id.out) && /uid=\d+\(core\)/.test(id.out), id.all);
    const ps = await ssh.run('sudo podman ps --format "{{.Names}} {{.Image}} {{.Status}} {{.Ports}}"');
    res.check(sc, '`sudo podman ps` lists hello-server (Up, 8080->8080)', ps.rc === 0 && /^hello-server localhost\/hello:latest Up .*8080->8080/m.test(ps.out), ps.all);
    const curl = await ssh.run('curl -fsS --max-time 20 http://127.0.0.1:8080/');
    res.check(sc, '`curl 127.0.0.1:8080` in the guest answers from the container', curl.rc === 0 && curl.out === HELLO_BODY, curl.all);
    const st = await ssh.run('SYSTEMD_COLORS=0 systemctl status --no-pager hello.service');
    res.check(sc, '`systemctl status hello.service`: enabled by Ignition\'s preset, active', st.rc === 0 && /Loaded: loaded \(\/etc\/systemd\/system\/hello\.service; enabled;/.test(st.out) &&
      /Active: active/.test(st.out), st.all);
    const os = await ssh.run('sudo ostree admin status');
    res.check(sc, '`ostree admin status` shows the booted deployment of the image\'s commit', os.rc === 0 && new RegExp(`^\\* debian ${img.commit1}\\.0$`, 'm').test(os.out), os.all);
    const files = await ssh.run(`cat ${ETC_FILE}; readlink -f ~; cat ~/notes.txt; stat -c '%U:%G %a' ~/notes.txt`);
    res.check(sc, 'Ignition\'s files: /etc file, home under /var/home (core:core), notes.txt', files.out === `${ETC_CONTENT}/var/home/core\na file in core's home\ncore:core 644\n`, files.all);
    const boot = await ssh.run('cat /proc/cmdline; test -e /boot/ignition.firstboot && echo stamp-present || echo stamp-removed');
    res.check(sc, 'GRUB added the first-boot arguments (stamp present at boot); ignition-firstboot-complete.service removed the stamp',
      boot.out.includes(FIRSTBOOT_KARGS) && /^stamp-removed$/m.test(boot.out), boot.all);
    const jn = await ssh.run('sudo journalctl -b 0 --no-pager -o cat -t ignition');
    res.check(sc, 'the journal of this boot: Ignition fetched the config from QEMU\'s fw_cfg, created core, wrote the files, preset hello.service, finished',
      /loading QEMU firmware config module/.test(jn.out) && /fetch-offline passed/.test(jn.out) && /creating or modifying user "core"/.test(jn.out) &&
      /writing file "\/sysroot\/etc\/hello\/greeting\.conf"/.test(jn.out) && /setting preset to enabled for "hello\.service"/.test(jn.out) &&
      /Ignition finished successfully/.test(jn.out), jn.all.split('\n').filter((l) => /fetch|user|file|preset|finished|error/i.test(l)).slice(0, 40).join('\n'));
    const sshd = await ssh.run('sudo sshd -T | grep -E "^(passwordauthentication|kbdinteractiveauthentication|permitrootlogin|hostkey) "; sudo ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    res.check(sc, 'sshd: key-only (no password, no keyboard-interactive, no root), one host key made at first boot',
      /^passwordauthentication no$/m.test(sshd.out) && /^kbdinteractiveauthentication no$/m.test(sshd.out) && /^permitrootlogin no$/m.test(sshd.out) &&
      /^hostkey \/etc\/ssh\/ssh_host_ed25519_key$/m.test(sshd.out) && /ED25519/.test(sshd.out), sshd.all);
    hostKey = /SHA256:\S+/.exec(sshd.out)?.[0] ?? null;
    const failed = await ssh.run('systemctl --no-pager --no-legend --plain --failed');
    res.check(sc, 'no failed systemd units', failed.rc === 0 && failed.out.trim() === '', failed.all);
    await endBoot(ssh, 'reboot');
  });
  res.check(sc, 'the guest rebooted when asked (`sudo systemctl reboot` over SSH)', !r.timedOut && /reboot: Restarting system/.test(clean(r.log)), clean(r.log).slice(-1500));
  if (w.backend) res.check(sc, `the boot ran on the ${w.backend} backend`, r.backend === w.backend, r.backend);
  return hostKey;
}

/** i2: the second boot: no Ignition, files still there; stage the upgrade. */
async function secondBoot(ctx: Ctx, disk: string, cfg: string): Promise<boolean> {
  const { res, img } = ctx;
  const sc = 'i2-reboot';
  let staged = false;
  const r = await bootWithSsh(ctx, { name: 'i2-second-boot', disk, qemuArgs: ['-fw_cfg', `name=${CONFIG_FW_CFG},file=${cfg}`] }, async (ssh) => {
    if (!ssh) return;
    const cmd = await ssh.run('cat /proc/cmdline');
    res.check(sc, 'no first-boot arguments on the kernel command line (the stamp is gone)', cmd.rc === 0 && !cmd.out.includes('ignition'), cmd.all);
    const jn = await ssh.run('echo "this boot: $(sudo journalctl -b 0 --no-pager -o cat -t ignition | wc -l) lines"; echo "previous boot: $(sudo journalctl -b -1 --no-pager -o cat -t ignition | wc -l) lines"');
    const now = Number(/this boot: (\d+)/.exec(jn.out)?.[1] ?? -1);
    const before = Number(/previous boot: (\d+)/.exec(jn.out)?.[1] ?? -1);
    res.check(sc, 'the journal: Ignition logged on the previous (first) boot and not at all on this one', now === 0 && before > 0, jn.all);
    const files = await ssh.run(`cat ${ETC_FILE} ~/notes.txt`);
    res.check(sc, 'Ignition\'s /etc file and core\'s home file are still there', files.out === `${ETC_CONTENT}a file in core's home\n`, files.all);
    const ps = await ssh.run('sudo podman ps --format "{{.Names}}"; curl -fsS --max-time 20 http://127.0.0.1:8080/');
    res.check(sc, 'hello.service started the container again (enabled), curl answers', ps.out === `hello-server\n${HELLO_BODY}`, ps.all);
    const up = await ssh.run(`sudo ostree admin deploy --stage debian/bookworm && sudo ostree admin status`);
    staged = up.rc === 0 && new RegExp(`^  debian ${img.commit2}\\.\\d+ \\(staged\\)$`, 'm').test(up.out);
    res.check(sc, `staged upgrade to ${img.commit2.slice(0, 12)} (version 2) succeeds`, staged, up.all);
    await endBoot(ssh, 'reboot');
  });
  const finalized = /ostree\[\d+\]: Transaction complete/.test(clean(r.log)) || /Finalizing staged deployment/.test(clean(r.log));
  res.check(sc, 'the staged deployment was finalized at shutdown and the guest rebooted', staged && finalized && /reboot: Restarting system/.test(clean(r.log)),
    clean(r.log).split('\n').filter((l) => /ostree|reboot:/.test(l)).slice(-10).join('\n'));
  return staged;
}

/** i3: after the upgrade: version 2 booted, Ignition's files and the host key kept. */
async function afterUpgrade(ctx: Ctx, disk: string, cfg: string, hostKey: string): Promise<void> {
  const { res, img } = ctx;
  const sc = 'i3-upgrade';
  await bootWithSsh(ctx, { name: 'i3-upgraded', disk, qemuArgs: ['-fw_cfg', `name=${CONFIG_FW_CFG},file=${cfg}`] }, async (ssh) => {
    if (!ssh) return;
    const os = await ssh.run('sudo ostree admin status; cat /usr/share/ostree-test/version');
    res.check(sc, 'the upgrade is booted (version 2), the first deployment is the rollback',
      new RegExp(`^\\* debian ${img.commit2}\\.\\d+$`, 'm').test(os.out) && new RegExp(`^  debian ${img.commit1}\\.0 \\(rollback\\)$`, 'm').test(os.out) && /^2$/m.test(os.out), os.all);
    const files = await ssh.run(`cat ${ETC_FILE} ~/notes.txt; id -nG; sudo ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`);
    res.check(sc, '/etc merge kept Ignition\'s /etc file, the user (passwd, group) and the host key; /var/home kept core\'s file',
      files.out.startsWith(`${ETC_CONTENT}a file in core's home\n`) && /\bsudo\b/.test(files.out) && files.out.includes(hostKey), files.all);
    const ps = await ssh.run('sudo podman ps --format "{{.Names}}"; SYSTEMD_COLORS=0 systemctl is-active hello.service');
    res.check(sc, 'hello.service runs hello-server after the upgrade', ps.out === 'hello-server\nactive\n', ps.all);
    await endBoot(ssh, 'poweroff');
  });
}

/** i4: configs Ignition refuses: the first boot stops in the initramfs with Ignition's message. */
async function badInput(ctx: Ctx): Promise<void> {
  const { res, img, key } = ctx;
  const sc = 'i4-bad-input';
  const good = minimalConfig(key.publicKey);
  try {
    checkSpecVersion(JSON.stringify({ ...good, ignition: { version: '3.4.0' } }));
    res.check(sc, 'the harness refuses a spec 3.4.0 config before booting', false, 'accepted');
  } catch (e) {
    res.check(sc, 'the harness refuses a spec 3.4.0 config before booting, naming the newest spec Ignition 2.14 accepts',
      /spec 3\.4\.0 is newer than 3\.3\.0, the newest Debian's Ignition 2\.14 accepts/.test(String(e)), String(e));
  }
  const unit = { name: 'hello', enabled: true, contents: '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n' };
  const cases: Array<[string, string, RegExp]> = [
    ['syntax', JSON.stringify(good).slice(0, -2), /unexpected end of JSON input/],
    ['spec-3.4.0', JSON.stringify({ ...good, ignition: { version: '3.4.0' } }), /unsupported config version/],
    ['dotdot-path', JSON.stringify({ ...good, storage: { files: [{ path: '/etc/../../../escape', contents: { source: 'data:,x' } }] } }), /path is not fully simplified/],
    ['bad-unit-name', JSON.stringify({ ...good, systemd: { units: [unit] } }), /invalid systemd unit extension/],
  ];
  for (const [name, text, re] of cases) {
    const file = path.join(DIR, `bad-${name}.ign`);
    writeFile(file, text);
    const disk = await createOverlay(img.disk, path.join(DIR, `bad-${name}.qcow2`));
    const r = await runBoot(res, {
      name: `i4-${name}`, disk, qemuArgs: ['-fw_cfg', `name=${CONFIG_FW_CFG},file=${file}`], timeoutMs: 240_000,
      // Ignition's message is on the console and the emergency target is being reached: stop there.
      powerCutWhen: /ignition-ostree: fix the config[^\n]*\n[\s\S]*(emergency\.target|Emergency Mode|emergency mode)/,
    });
    const c = clean(r.log);
    const lines = c.split('\n').filter((l) => /ignition|Ignition|emergency|Emergency/.test(l)).slice(-14).join('\n');
    res.check(sc, `${name}: the console shows Ignition's message (${re.source}) and the emergency target`,
      re.test(c) && /ignition-ostree: Ignition failed \(/.test(c) && /emergency/i.test(c.slice(c.indexOf('ignition-ostree: Ignition failed'))), lines);
    res.check(sc, `${name}: the boot stopped in the initramfs (no switch to the deployment, no booted marker)`,
      r.bootedMs === null && !r.timedOut && !/Reached target .*Multi-User System/.test(c), `timed out: ${r.timedOut}; ${lines.slice(-600)}`);
  }
}

/**
 * i5: what Ignition costs a first boot.  Each round, all through GRUB on fresh overlays (GRUB
 * reading the initramfs is part of the cost):
 *  - baseline: the image's normal boot, i.e. the same guest tree as the OSTree disk boots it every
 *    day, through its initramfs-tools initramfs (no Ignition anywhere);
 *  - Ignition: the Ignition disk's first boot (stamp present: GRUB adds Ignition's arguments, the
 *    dracut initramfs runs Ignition with a minimal config, sshd makes its host key);
 *  - second: the same Ignition disk booted again (no Ignition: what its later boots cost).
 * The headline is Ignition − baseline; the guest's own clocks split each boot (ignition-timing.ts).
 */
async function timing(ctx: Ctx): Promise<void> {
  const { res, img, key } = ctx;
  const main = await ensureOstreeImage();
  const cfg = await configFile(ctx, 'timing', minimalConfig(key.publicKey));
  const profile = [{ name: 'opt/ostree-ts/script', file: script('i5-profile', PROFILE_SCRIPT) }];
  const rounds = Number(process.env['VM_IGNITION_TIMING_ROUNDS'] ?? 1);
  const kinds = { baseline: [] as BootProfile[], ignition: [] as BootProfile[], second: [] as BootProfile[] };
  const booted = { baseline: [] as number[], ignition: [] as number[], second: [] as number[] };
  const note = (kind: keyof typeof kinds, r: BootResult) => {
    res.check('i5-timing', `${r.name}: booted to the marker`, r.bootedMs !== null, clean(r.log).slice(-1500));
    const p = parseProfile(r);
    res.check('i5-timing', `${r.name}: the guest printed its boot profile`, p !== null, clean(r.log).slice(-800));
    if (r.bootedMs !== null) booted[kind].push(r.bootedMs / 1000);
    if (p) kinds[kind].push(p);
    return r;
  };
  for (let i = 1; i <= rounds; i++) {
    note('baseline', await runBoot(res, { name: `i5-baseline-${i}`, disk: await createOverlay(main.disk, path.join(DIR, 'timing-baseline.qcow2')), fwCfg: profile }));
    const disk = await createOverlay(img.disk, path.join(DIR, 'timing.qcow2'));
    const cfgArgs = ['-fw_cfg', `name=${CONFIG_FW_CFG},file=${cfg}`];
    const f = note('ignition', await runBoot(res, { name: `i5-ignition-${i}`, disk, fwCfg: profile, qemuArgs: cfgArgs }));
    const c = clean(f.log);
    res.check('i5-timing', `i5-ignition-${i}: GRUB added Ignition's arguments and Ignition ran (its files stage is on the console)`,
      c.includes(FIRSTBOOT_KARGS) && /Ignition \(files\)/.test(c), c.split('\n').filter((l) => /Command line|Ignition/.test(l)).slice(0, 10).join('\n'));
    const s2 = note('second', await runBoot(res, { name: `i5-second-${i}`, disk, fwCfg: profile, qemuArgs: cfgArgs }));
    res.check('i5-timing', `i5-second-${i}: no Ignition on the second boot`, !clean(s2.log).includes('ignition.firstboot'), '');
  }
  const m = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const list = (xs: number[]) => `[${xs.map((x) => x.toFixed(1)).join(', ')}]`;
  if (booted.ignition.length > 0 && booted.baseline.length > 0) {
    const d = m(booted.ignition) - m(booted.baseline);
    const d2 = booted.second.length > 0 ? m(booted.ignition) - m(booted.second) : NaN;
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    log(`Ignition first boot (TCG, through GRUB, minimal config, ${rounds} round(s), load average now ${load}): ` +
      `QEMU start → booted marker: Ignition first boot ${m(booted.ignition).toFixed(1)} s ${list(booted.ignition)}, ` +
      `baseline (initramfs-tools, no Ignition) ${m(booted.baseline).toFixed(1)} s ${list(booted.baseline)}: ${d >= 0 ? '+' : ''}${d.toFixed(1)} s (target: at most +3 s); ` +
      `the Ignition disk's second boot ${booted.second.length > 0 ? `${m(booted.second).toFixed(1)} s ${list(booted.second)}: first boot ${d2 >= 0 ? '+' : ''}${d2.toFixed(1)} s over it` : 'not measured'}`);
  }
  const table = breakdownTable([{ label: 'baseline', profiles: kinds.baseline }, { label: 'Ignition', profiles: kinds.ignition }, { label: 'second', profiles: kinds.second }]);
  writeFile(path.join(DIR, 'i5-breakdown.md'), table + '\n\n' + [...kinds.baseline, ...kinds.ignition, ...kinds.second].map((p) => `${p.name}: ${p.analyze}`).join('\n') + '\n');
  log(`i5 breakdown (${path.join(DIR, 'i5-breakdown.md')}):\n${table}`);
}
