/**
 * `ostree admin boot-check`: the verdict on the running boot, run once per boot by
 * ostree-boot-check.service (ordered before boot-complete.target, so systemd-bless-boot acts
 * on the same verdict under systemd-boot).
 *
 * 1. Fallback: when the bootloader's counter ran out for the default deployment and we are
 *    running another one, the bootloader rolled back: record the default as failed and make
 *    the rollback durable (the booted deployment becomes the default; the failed one stays,
 *    out of tries).
 * 2. Health checks (health-checks.ts).  Green: bless the booted deployment if it is on trial,
 *    run green.d.  Red: run red.d; if the booted deployment is the default and on trial, and a
 *    deployment not known to fail is there to take over, and fewer than MAX_AUTO_REBOOTS
 *    automatic reboots happened since the last green boot: roll back and reboot.  Otherwise
 *    stay up and report.
 * Every step is logged (the journal, through the unit) and the verdict is kept in the record
 * (record.ts) that `admin status` reads.
 */
import { OstreeError } from '../../errors.js';
import type { KeyFile } from '../../glib/keyfile.js';
import type { Deployment } from '../deployment.js';
import { BOOT_CHECK_RECORD_REL } from '../layout.js';
import type { Sysroot } from '../sysroot.js';
import { bootCountingTries } from './entry-name.js';
import { counterId, type CounterBackend } from './grub-counter.js';
import { failureLines, runHealthChecks, runHooks } from './health-checks.js';
import { readRecord, writeRecord, type BootCheckRecord, type BootVerdict } from './record.js';
import { bless, counterBackendFor, fallbackFor, onTrial, rollBack, triesOf } from './trial.js';

export const MAX_AUTO_REBOOTS = 3;

export interface BootCheckOptions {
  /** the root holding etc/greenboot ('/' when booted) */
  root: string;
  log: (line: string) => void;
  /** called to reboot after a rollback (the CLI: `systemctl reboot`); absent: no reboot */
  reboot?: () => Promise<void>;
  checkTimeoutMs?: number;
}

export interface BootCheckOutcome { verdict: BootVerdict; rebooting: boolean }

interface Ctx { sysroot: Sysroot; o: BootCheckOptions; record: BootCheckRecord; backend: CounterBackend | null; tries: number; now: string }

export async function runBootCheck(sysroot: Sysroot, o: BootCheckOptions): Promise<BootCheckOutcome> {
  const booted = sysroot.requireBooted('run the boot check');
  const config = await sysroot.repo().then((r) => r.config as KeyFile | undefined).catch(() => undefined);
  const ctx: Ctx = {
    sysroot, o, record: readRecord(sysroot.abs(BOOT_CHECK_RECORD_REL)), backend: counterBackendFor(sysroot),
    tries: bootCountingTries(config), now: new Date().toISOString(),
  };
  await makeFallbackDurable(ctx, booted);
  const bootedNow = sysroot.bootedDeployment!;
  const checks = await runHealthChecks({ root: o.root, log: o.log, ...(o.checkTimeoutMs ? { timeoutMs: o.checkTimeoutMs } : {}) });
  const failures = failureLines(checks);
  const red = checks.some((c) => c.kind === 'required' && !c.ok);
  const verdict: BootVerdict = { deployment: counterId(bootedNow), time: ctx.now, result: red ? 'red' : 'green', checks, failures, action: '' };
  return red ? onRed(ctx, bootedNow, verdict) : onGreen(ctx, bootedNow, verdict);
}

/** Step 1 (see the file comment). */
async function makeFallbackDurable(ctx: Ctx, booted: Deployment): Promise<void> {
  const { sysroot, backend, record } = ctx;
  const def = sysroot.deployments.find((d) => !d.staged);
  if (!def || def.sameAs(booted) || !backend || backend.state(def).kind !== 'exhausted') return;
  const id = counterId(def);
  const tries = triesOf(def, ctx.tries);
  const reason = record.failed[id]?.reason ?? `no boot of it passed its checks in ${tries} ${tries === 1 ? 'try' : 'tries'}: the boot counter ran out and the bootloader started the previous deployment`;
  record.failed[id] = { time: record.failed[id]?.time ?? ctx.now, reason };
  writeRecord(sysroot.abs(BOOT_CHECK_RECORD_REL), record);
  ctx.o.log(`the bootloader fell back from ${id}: ${reason}`);
  ctx.o.log(`making the rollback durable: ${counterId(booted)} becomes the default`);
  await rollBack(sysroot, def, booted, tries, ctx.o.log);
  await sysroot.reload();
}

async function onGreen(ctx: Ctx, booted: Deployment, verdict: BootVerdict): Promise<BootCheckOutcome> {
  const { sysroot, backend } = ctx;
  const grubSaysTrial = backend !== null && backend.state(booted).kind === 'counting';
  if (onTrial(booted) || grubSaysTrial) {
    await bless(sysroot, booted, backend, ctx.tries);
    verdict.action = 'blessed: the bootloader stops counting its tries';
  } else {
    verdict.action = 'none (not on trial)';
  }
  ctx.o.log(`boot check passed${verdict.failures.length ? ` (${verdict.failures.join('; ')})` : ''}; ${verdict.action}`);
  ctx.record.last = verdict;
  ctx.record.autoReboots = 0;
  writeRecord(sysroot.abs(BOOT_CHECK_RECORD_REL), ctx.record);
  await runHooks('green', { root: ctx.o.root, log: ctx.o.log });
  return { verdict, rebooting: false };
}

async function onRed(ctx: Ctx, booted: Deployment, verdict: BootVerdict): Promise<BootCheckOutcome> {
  const { sysroot, record, o } = ctx;
  const id = counterId(booted);
  o.log(`boot check FAILED: ${verdict.failures.filter((f) => f.startsWith('required')).join('; ')}`);
  await runHooks('red', { root: o.root, log: o.log });
  const isDefault = sysroot.deployments.find((d) => !d.staged)?.sameAs(booted) === true;
  const target = fallbackFor(sysroot, booted, { ...record.failed, [id]: true });
  let why = '';
  if (!isDefault) why = 'it is not the default deployment';
  else if (!onTrial(booted)) why = 'it is not on trial (already blessed, or boot counting is off)';
  else if (!target) why = 'no other deployment is known to work';
  else if (record.autoReboots >= MAX_AUTO_REBOOTS) why = `${record.autoReboots} automatic rollbacks since the last good boot`;
  if (why !== '') {
    verdict.action = `stayed up: no rollback, ${why}`;
    o.log(verdict.action);
    record.last = verdict;
    writeRecord(sysroot.abs(BOOT_CHECK_RECORD_REL), record);
    return { verdict, rebooting: false };
  }
  const tries = triesOf(booted, ctx.tries);
  record.failed[id] = { time: ctx.now, reason: `its boot check failed: ${verdict.failures.filter((f) => f.startsWith('required')).join('; ')}` };
  record.autoReboots++;
  verdict.action = `rolled back to ${counterId(target!)}${o.reboot ? ' and rebooted' : ''}`;
  record.last = verdict;
  writeRecord(sysroot.abs(BOOT_CHECK_RECORD_REL), record);
  // The counter first: should the list rewrite not complete, the bootloader falls back itself.
  ctx.backend?.exhaust(booted);
  o.log(`rolling back to ${counterId(target!)}`);
  await rollBack(sysroot, booted, target!, tries, o.log);
  if (o.reboot) {
    o.log('rebooting into it');
    await o.reboot();
  }
  return { verdict, rebooting: !!o.reboot };
}

/** The CLI's exit: a red verdict is an error (the unit fails, boot-complete.target is not reached). */
export function verdictError(outcome: BootCheckOutcome): OstreeError | null {
  if (outcome.verdict.result === 'green') return null;
  return new OstreeError('ESTATE', `Boot check failed: ${outcome.verdict.failures.join('; ')}; ${outcome.verdict.action}`);
}
