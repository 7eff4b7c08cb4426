#!/usr/bin/env node
/**
 * `ostree-agent`: the update agent's command line (src/agent holds the behaviour). Verbs:
 * `agent` (the daemon, foreground), `status`, `check`, `update-now`, `forget`, `fleetlock-server`.
 * Errors print one `error: ...` line and exit 1.
 *
 * Only commander and the error type are imported here: every verb loads what it needs when it
 * runs, so the daemon's supervisor (src/agent/daemon.ts), which waits between cycles for days,
 * holds nothing of the agent library (its resident memory is issue 17's 60 MB target).
 */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { runReported } from '../cli/report.js';
import type { CycleReport } from '../agent/agent.js';
import type { SystemOptions } from '../agent/system.js';
import { DEFAULT_STATE_DIR } from '../agent/paths.js';


const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} ${line}\n`); };

interface GlobalOpts { root: string; stateDir: string; sysroot?: string }

function systemOptions(g: GlobalOpts): SystemOptions {
  // Test knob: a command instead of `systemctl reboot` (JSON argv), as OSTREE_TS_RUN_DIR is for /run.
  const rc = process.env['OSTREE_AGENT_REBOOT_COMMAND'];
  return { root: g.root, stateDir: g.stateDir, ...(g.sysroot ? { sysroot: g.sysroot } : {}), ...(rc ? { rebootCommand: JSON.parse(rc) as string[] } : {}), log };
}

async function printReport(rep: CycleReport, json: boolean): Promise<void> {
  const { formatStatus } = await import('./format.js');
  process.stdout.write(json ? JSON.stringify(rep, null, 1) + '\n' : formatStatus(rep));
}

async function oneCycle(g: GlobalOpts, updateNow: boolean, json: boolean): Promise<number> {
  const { lockedCycle, systemAgent } = await import('../agent/system.js');
  const sa = systemAgent(systemOptions(g));
  try {
    const rep = await lockedCycle(sa, { updateNow });
    await printReport(rep, json);
    return rep.phase === 'error' ? 1 : 0;
  } finally { sa.agent.close(); }
}

export function program(): Command {
  const p = new Command('ostree-agent')
    .description('Update agent: keeps this node on the newest good release of its update graph')
    .option('--root <dir>', 'look up config.d directories and /etc/machine-id under DIR', '/')
    .option('--state-dir <dir>', 'the agent\'s state (denylist, current update)', DEFAULT_STATE_DIR)
    .option('--sysroot <dir>', 'the sysroot to update (default /)')
    .showHelpAfterError();
  const g = (): GlobalOpts => p.opts<GlobalOpts>();
  const globalArgs = (): string[] => {
    const o = g();
    return ['--root', o.root, '--state-dir', o.stateDir, ...(o.sysroot ? ['--sysroot', o.sysroot] : [])];
  };
  p.command('agent').description('run the daemon in the foreground (each cycle in a child process)').action(async () => {
    const { runDaemon } = await import('../agent/daemon.js');
    const script = fileURLToPath(import.meta.url);
    process.exitCode = await runDaemon({ cycleArgv: [process.execPath, ...process.execArgv, script, ...globalArgs(), 'daemon-cycle'], log });
  });
  p.command('daemon-cycle', { hidden: true }).description('one cycle of the daemon (run by `agent`; prints {"interval": SECS})')
    .option('--first', 'the daemon\'s first cycle: log its identity and strategy')
    .action(async (o: { first?: boolean }) => {
      // The daemon's stop waits for this cycle to end (daemon.ts); systemd sends SIGTERM to the whole unit.
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { log(`${sig}: ending the cycle first`); });
      const { daemonCycle, systemAgent } = await import('../agent/system.js');
      const interval = await daemonCycle(systemAgent(systemOptions(g())), !!o.first, log);
      process.stdout.write(JSON.stringify({ interval }) + '\n');
    });
  p.command('status').description('the last cycle: what the agent waits for').option('--json', 'JSON output').action(async (o: { json?: boolean }) => {
    const [{ StateFile }, { loadConfig }, { formatStatus }] = await Promise.all([import('../agent/state.js'), import('../agent/system.js'), import('./format.js')]);
    const st = new StateFile(g().stateDir);
    const cfg = loadConfig(g().root);
    const rep = st.loadStatus() as CycleReport | null;
    if (o.json) { process.stdout.write(JSON.stringify({ strategies: cfg.strategies, last: rep, state: st.load() }, null, 1) + '\n'); return; }
    process.stdout.write(`strategy: ${cfg.strategies.join(' + ')}${cfg.enabled ? '' : ' (updates disabled)'}\n`);
    process.stdout.write(rep ? formatStatus(rep) : 'no cycle has run yet\n');
  });
  p.command('check').description('check for an update now (and apply it if the strategy allows)').option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => { process.exitCode = await oneCycle(g(), false, !!o.json); });
  p.command('update-now').description('apply an update now: outside the window and even if updates are disabled (a FleetLock slot is still needed)')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => { process.exitCode = await oneCycle(g(), true, !!o.json); });
  p.command('forget').description('take a release off this node\'s denylist (a rollback or failed health check judged here), so it may be applied again')
    .argument('<release>', 'the release\'s version, or its full commit checksum')
    .action(async (release: string) => {
      const [{ StateFile }, { withStateLock }, { forgetRelease }] = await Promise.all([import('../agent/state.js'), import('../agent/system.js'), import('../agent/forget.js')]);
      const st = new StateFile(g().stateDir);
      const gone = await withStateLock(st, async () => {
        const s = st.load();
        const r = forgetRelease(s, release);
        st.save(s);
        return r;
      });
      for (const x of gone) process.stdout.write(`forgot ${x.entry.version} (${x.payload}): ${x.entry.reason}\n`);
    });
  p.command('fleetlock-server').description('run a FleetLock server backed by etcd (airlock configuration keys)')
    .requiredOption('--config <file>', 'the server configuration (TOML)')
    .action(async (o: { config: string }) => {
      const { startFleetLockServer } = await import('../agent/fleetlock/run-server.js');
      await startFleetLockServer(o.config, log);
    });
  return p;
}

/** Ends a run as `ostree` does (cli/report.ts): one `error:` line and exit 1, stdout flushed and checked. */
async function main(): Promise<void> {
  process.exitCode = await runReported(async () => { await program().parseAsync(process.argv); });
}

void main();
