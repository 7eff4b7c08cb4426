/**
 * What each verb does to the layering request (LayerSpec), before anything is built:
 * install / uninstall / reset and the base overrides. Mistakes are refused here, naming the
 * package, so that no deployment is attempted.
 */
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import type { LayerSpec } from './layer-origin.js';
import { isDebPath, storeLocalDeb } from './local-debs.js';

export interface SpecEdits {
  install?: string[];
  uninstall?: string[];
  /** Drop every layered package and override. */
  reset?: boolean;
  overrideRemove?: string[];
  overrideReplace?: string[];
  /** Names to reset, or 'all'. */
  overrideReset?: string[] | 'all';
  rebase?: string;
}

function localName(nevra: string, name: string): boolean {
  return nevra.startsWith(`${name}-`);
}

export async function applyEdits(sysroot: Sysroot, stateroot: string, spec: LayerSpec, e: SpecEdits): Promise<void> {
  if (e.reset) { spec.requested = []; spec.requestedLocal = []; spec.removeBase = []; spec.replaceLocal = []; }
  for (const arg of e.install ?? []) {
    if (isDebPath(arg)) {
      const { ref } = await storeLocalDeb(sysroot, stateroot, arg);
      if (spec.requestedLocal.some((l) => l.sha256 === ref.sha256)) throw new OstreeError('EEXIST', `Package '${ref.nevra}' is already requested`);
      spec.requestedLocal.push(ref);
    } else {
      if (!/^[a-z0-9][a-z0-9+.-]+$/.test(arg)) throw new OstreeError('EINVAL', `Invalid package name '${arg}'`);
      if (spec.requested.includes(arg)) throw new OstreeError('EEXIST', `Package '${arg}' is already requested`);
      spec.requested.push(arg);
    }
  }
  for (const name of e.uninstall ?? []) {
    const before = spec.requested.length + spec.requestedLocal.length;
    spec.requested = spec.requested.filter((r) => r !== name);
    spec.requestedLocal = spec.requestedLocal.filter((l) => !localName(l.nevra, name) && l.nevra !== name);
    if (spec.requested.length + spec.requestedLocal.length === before) {
      throw new OstreeError('ENOENT', `Package/capability '${name}' is not currently requested`);
    }
  }
  for (const name of e.overrideRemove ?? []) {
    if (spec.removeBase.includes(name)) throw new OstreeError('EEXIST', `Override already exists for package '${name}'`);
    spec.removeBase.push(name);
  }
  for (const file of e.overrideReplace ?? []) {
    const { deb, ref } = await storeLocalDeb(sysroot, stateroot, file);
    spec.replaceLocal = spec.replaceLocal.filter((l) => !localName(l.nevra, deb.name));
    spec.replaceLocal.push(ref);
  }
  if (e.overrideReset === 'all') { spec.removeBase = []; spec.replaceLocal = []; }
  for (const name of Array.isArray(e.overrideReset) ? e.overrideReset : []) {
    const n = spec.removeBase.length + spec.replaceLocal.length;
    spec.removeBase = spec.removeBase.filter((r) => r !== name);
    spec.replaceLocal = spec.replaceLocal.filter((l) => !localName(l.nevra, name));
    if (spec.removeBase.length + spec.replaceLocal.length === n) throw new OstreeError('ENOENT', `No override found for '${name}'`);
  }
  if (e.rebase !== undefined) spec.baseRefspec = e.rebase;
}
