/**
 * Signature engines by name (upstream's ostree_sign_get_by_name / get_all). A new engine is one
 * file plus one line here.
 */
import { DummySign } from './dummy.js';
import { Ed25519Sign } from './ed25519.js';
import { notImplemented, type SignEngine } from './engine.js';

const ENGINES: ReadonlyMap<string, () => SignEngine> = new Map<string, () => SignEngine>([
  ['ed25519', () => new Ed25519Sign()],
  ['dummy', () => new DummySign()],
]);

/** The default of `--sign-type`. */
export const DEFAULT_SIGN_TYPE = 'ed25519';

/** A fresh engine (no keys loaded); "Requested signature type is not implemented" otherwise. */
export function signEngine(name: string): SignEngine {
  const make = ENGINES.get(name);
  if (!make) throw notImplemented();
  return make();
}

/** One fresh engine of every type, in upstream's order. */
export function allSignEngines(): SignEngine[] {
  return [...ENGINES.values()].map((make) => make());
}
