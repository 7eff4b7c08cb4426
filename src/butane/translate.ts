/**
 * Butane (`variant: fcos`, versions 1.0.0 to 1.5.0) to Ignition (spec 3.0.0 to 3.4.0).
 *
 *   const { config, warnings } = translate(yamlText, { filesDir: 'files', strict: false });
 *
 * Steps, as Butane takes them: read variant and version; decode the document against that
 * version's schema (unknown keys, later-version keys and wrong types are errors); check the
 * Butane-level rules; build the Ignition config; check it with Ignition's rules. Any error throws
 * ButaneError listing every diagnostic; with `strict`, so does any warning.
 */
import { ButaneError, Report, type Diagnostic } from './diagnostics.js';
import { Decoder, type DecodedStruct } from './decode.js';
import { translatePasswd } from './passwd.js';
import type { ResourceContext } from './resource.js';
import { config as configSchema } from './schema.js';
import { isNullScalar, scalarText } from './scalars.js';
import { translateStorage } from './storage.js';
import { translateSystemd } from './systemd.js';
import { validateIgnition } from './validate-ignition.js';
import { FCOS_VERSIONS, LATER_FCOS_VERSIONS, type SpecVersion } from './versions.js';
import { keyText, PositionMap, YamlSource } from './yaml-source.js';
import { isMap, isScalar } from 'yaml';

export interface TranslateOptions {
  /** Directory that `local:` sources are read from; without it they are refused. */
  filesDir?: string;
  /** Treat warnings as errors. */
  strict?: boolean;
}

export type IgnitionConfig = Record<string, unknown>;

export interface TranslateResult {
  config: IgnitionConfig;
  /** The Ignition spec version written, e.g. "3.4.0". */
  specVersion: string;
  warnings: Diagnostic[];
}

function fail(summary: string, d: Omit<Diagnostic, 'severity'>): never {
  throw new ButaneError(summary, [{ severity: 'error', ...d }]);
}

/** variant and version, read before the rest since they choose the schema. */
function selectVersion(source: YamlSource): SpecVersion {
  const root = source.root;
  if (root !== null && !isMap(root)) fail('the config is invalid', { path: [], message: 'the document must be a mapping' });
  const field = (name: string) => {
    const pair = root ? source.pairs(root).find((p) => keyText(p.key) === name) : undefined;
    const value = source.resolve(pair?.value);
    if (value === null || !isScalar(value) || isNullScalar(value)) return undefined;
    return scalarText(value);
  };
  const variant = field('variant');
  const version = field('version');
  if (variant === undefined || variant === '') fail('the config is invalid', { path: ['variant'], message: 'error parsing variant; must be specified' });
  if (variant !== 'fcos') fail('the config is invalid', { path: ['variant'], message: `variant ${JSON.stringify(variant)} is not supported: this translator handles variant fcos only` });
  if (version === undefined || version === '') fail('the config is invalid', { path: ['version'], message: 'error parsing version; must be specified' });
  const spec = FCOS_VERSIONS[version];
  if (spec) return spec;
  const known = Object.keys(FCOS_VERSIONS);
  const why = LATER_FCOS_VERSIONS.includes(version)
    ? `Butane has fcos ${version} but this translator supports ${known[0]} to ${known[known.length - 1]} only`
    : `no translator exists for variant fcos with version ${JSON.stringify(version)} (supported: ${known.join(', ')})`;
  return fail('the config is invalid', { path: ['version'], message: why });
}

export function translate(yamlText: string, options: TranslateOptions = {}): TranslateResult {
  const source = new YamlSource(yamlText);
  const spec = selectVersion(source);
  const positions = new PositionMap();
  const report = new Report((p) => positions.locate(p));
  const decoded = (new Decoder(source, spec.minor, report, positions).decode(source.root, configSchema, []) ?? {}) as DecodedStruct;
  if (report.hasErrors()) throw new ButaneError('the config is invalid', report.entries);

  const ctx: ResourceContext = { spec, filesDir: options.filesDir, report };
  const config: IgnitionConfig = { ignition: { version: spec.ignition } };
  const passwd = translatePasswd(decoded.passwd as DecodedStruct | undefined, ctx);
  const storage = translateStorage(decoded.storage as DecodedStruct | undefined, ctx);
  const systemd = translateSystemd(decoded.systemd as DecodedStruct | undefined, ctx);
  if (passwd) config.passwd = passwd;
  if (storage) config.storage = storage;
  if (systemd) config.systemd = systemd;
  if (report.hasErrors()) throw new ButaneError('the config is invalid', report.entries);

  validateIgnition(config, spec, report);
  if (report.hasErrors()) throw new ButaneError('the generated Ignition config is invalid', report.entries);
  const warnings = report.warnings();
  if (options.strict && warnings.length > 0) {
    throw new ButaneError('config produced warnings and strict mode is on', warnings.map((w) => ({ ...w, severity: 'error' as const })));
  }
  return { config, specVersion: spec.ignition, warnings };
}
