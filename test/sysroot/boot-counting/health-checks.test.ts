/**
 * The greenboot-layout runner with real scripts run by bash: name order, /etc over /usr/lib,
 * required versus wanted, output to the log line by line, a hung check killed at its limit,
 * green.d / red.d hooks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listScripts, runHealthChecks, runHooks, failureLines } from '../../../src/sysroot/boot-counting/health-checks.js';
import { tempDir } from '../../common/tmp.js';

function put(root: string, rel: string, body: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), `#!/bin/bash\n${body}\n`);
}

test('scripts run in name order, /etc replaces a /usr/lib script of the same name, only *.sh', async () => {
  const root = tempDir('ostree-ts-hc-');
  const order = path.join(root, 'order');
  put(root, 'usr/lib/greenboot/check/required.d/20-os.sh', `echo os >> ${order}`);
  put(root, 'usr/lib/greenboot/check/required.d/10-shadowed.sh', `echo usr-lib >> ${order}`);
  put(root, 'etc/greenboot/check/required.d/10-shadowed.sh', `echo etc >> ${order}`);
  put(root, 'etc/greenboot/check/required.d/05-first.sh', `echo first >> ${order}`);
  put(root, 'etc/greenboot/check/required.d/README', 'exit 1');
  assert.deepEqual(listScripts(root, 'check/required.d').map((p) => path.relative(root, p)),
    ['etc/greenboot/check/required.d/05-first.sh', 'etc/greenboot/check/required.d/10-shadowed.sh', 'usr/lib/greenboot/check/required.d/20-os.sh']);
  const log: string[] = [];
  const r = await runHealthChecks({ root, log: (l) => log.push(l) });
  assert.equal(fs.readFileSync(order, 'utf8'), 'first\netc\nos\n');
  assert.ok(r.every((c) => c.ok && c.kind === 'required'));
  assert.deepEqual(failureLines(r), []);
});

test('a failing required check and a failing wanted one: both reported, output logged with the name', async () => {
  const root = tempDir('ostree-ts-hc-');
  put(root, 'etc/greenboot/check/required.d/50-app.sh', 'echo "checking the app"; echo "app down" >&2; exit 4');
  put(root, 'etc/greenboot/check/wanted.d/60-opt.sh', 'exit 2');
  put(root, 'etc/greenboot/check/wanted.d/70-fine.sh', 'true');
  const log: string[] = [];
  const r = await runHealthChecks({ root, log: (l) => log.push(l) });
  assert.deepEqual(r.map((c) => [c.name, c.kind, c.ok, c.status]), [
    ['50-app.sh', 'required', false, 4], ['60-opt.sh', 'wanted', false, 2], ['70-fine.sh', 'wanted', true, 0]]);
  assert.ok(log.includes('50-app.sh: checking the app') && log.includes('50-app.sh: app down'), log.join('\n'));
  assert.ok(log.includes('required check 50-app.sh: failed (exit status 4)'), log.join('\n'));
  assert.deepEqual(failureLines(r), ['required check 50-app.sh failed (exit status 4)', 'wanted check 60-opt.sh failed (exit status 2)']);
});

test('a check that hangs is killed at its time limit and counts as failed', async () => {
  const root = tempDir('ostree-ts-hc-');
  put(root, 'etc/greenboot/check/required.d/10-hang.sh', 'sleep 30');
  const t0 = Date.now();
  const r = await runHealthChecks({ root, log: () => {}, timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 10_000);
  assert.equal(r[0]!.ok, false);
  assert.equal(r[0]!.signal, 'SIGKILL');
  assert.deepEqual(failureLines(r), ['required check 10-hang.sh failed (killed by SIGKILL)']);
});

test('no checks at all: nothing run, nothing failed; green.d and red.d hooks run, a failing hook is logged', async () => {
  const root = tempDir('ostree-ts-hc-');
  assert.deepEqual(await runHealthChecks({ root, log: () => {} }), []);
  put(root, 'etc/greenboot/green.d/10-g.sh', `echo green > ${root}/g`);
  put(root, 'etc/greenboot/red.d/10-r.sh', 'exit 1');
  const log: string[] = [];
  await runHooks('green', { root, log: (l) => log.push(l) });
  await runHooks('red', { root, log: (l) => log.push(l) });
  assert.equal(fs.readFileSync(path.join(root, 'g'), 'utf8'), 'green\n');
  assert.deepEqual(log, ['red.d hook 10-r.sh: failed (exit status 1)']);
});
