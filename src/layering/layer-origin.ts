/**
 * The origin of a layered deployment, with rpm-ostree's keys:
 *   [origin]    baserefspec=REMOTE:REF       (refspec=... when nothing is layered)
 *   [packages]  requested=tcpdump;           requested-local=<sha256>:<name-version.arch>;
 *   [overrides] remove=pkg;                  replace-local=<sha256>:<name-version.arch>;
 * Upstream ostree knows none of these keys, so its `admin status` prints
 * `origin: <unknown origin type>` for a layered deployment, as on Fedora CoreOS.
 */
import { OstreeError } from '../errors.js';
import { KeyFile } from '../glib/keyfile.js';
import { Origin, ORIGIN_GROUP } from '../sysroot/formats/origin.js';

export interface LocalRef { sha256: string; nevra: string }

export class LayerSpec {
  constructor(
    public baseRefspec: string,
    public requested: string[] = [],
    public requestedLocal: LocalRef[] = [],
    public removeBase: string[] = [],
    public replaceLocal: LocalRef[] = [],
  ) {}

  static fromOrigin(o: Origin | null): LayerSpec {
    if (!o) throw new OstreeError('ENOENT', 'The deployment has no origin file: cannot tell what it tracks');
    const kf = o.keyfile;
    const base = kf.get(ORIGIN_GROUP, 'baserefspec') ?? kf.get(ORIGIN_GROUP, 'refspec');
    if (base === undefined) throw new OstreeError('ECORRUPT', 'The deployment origin has neither baserefspec nor refspec');
    const locals = (g: string, k: string): LocalRef[] => (kf.getList(g, k) ?? []).map((v) => {
      const i = v.indexOf(':');
      return { sha256: v.slice(0, i), nevra: v.slice(i + 1) };
    });
    return new LayerSpec(base, kf.getList('packages', 'requested') ?? [], locals('packages', 'requested-local'),
      kf.getList('overrides', 'remove') ?? [], locals('overrides', 'replace-local'));
  }

  clone(): LayerSpec {
    return new LayerSpec(this.baseRefspec, [...this.requested], [...this.requestedLocal], [...this.removeBase], [...this.replaceLocal]);
  }

  /** True when the deployment is not just the base commit. */
  get layered(): boolean {
    return this.requested.length + this.requestedLocal.length + this.removeBase.length + this.replaceLocal.length > 0;
  }

  /**
   * The origin file: `previous`'s other groups kept (kargs, rpm-ostree's own keys...), the
   * transient state dropped, and the layering keys rewritten.
   */
  toOrigin(previous: Origin | null): Origin {
    const kf = previous ? previous.withoutTransientState().keyfile.clone() : new KeyFile();
    for (const k of ['refspec', 'baserefspec', 'override-commit']) kf.removeKey(ORIGIN_GROUP, k);
    for (const [g, k] of [['packages', 'requested'], ['packages', 'requested-local'], ['overrides', 'remove'], ['overrides', 'replace-local']] as const) kf.removeKey(g, k);
    kf.set(ORIGIN_GROUP, this.layered ? 'baserefspec' : 'refspec', this.baseRefspec);
    const list = (g: string, k: string, v: string[]): void => { if (v.length) kf.setList(g, k, v); };
    list('packages', 'requested', this.requested);
    list('packages', 'requested-local', this.requestedLocal.map((l) => `${l.sha256}:${l.nevra}`));
    list('overrides', 'remove', this.removeBase);
    list('overrides', 'replace-local', this.replaceLocal.map((l) => `${l.sha256}:${l.nevra}`));
    for (const g of ['packages', 'overrides']) if (kf.keys(g).length === 0) kf.removeGroup(g);
    return Origin.fromKeyFile(kf);
  }
}
