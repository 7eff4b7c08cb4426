/**
 * Which Ignition spec each fcos Butane version produces (upstream config/config.go registry:
 * fcos 1.2.0 and 1.3.0 both give 3.2.0).
 */
export interface SpecVersion {
  /** fcos 1.x minor version: selects the keys the schema accepts. */
  minor: number;
  ignition: string;
}

export const FCOS_VERSIONS: Readonly<Record<string, SpecVersion>> = {
  '1.0.0': { minor: 0, ignition: '3.0.0' },
  '1.1.0': { minor: 1, ignition: '3.1.0' },
  '1.2.0': { minor: 2, ignition: '3.2.0' },
  '1.3.0': { minor: 3, ignition: '3.2.0' },
  '1.4.0': { minor: 4, ignition: '3.3.0' },
  '1.5.0': { minor: 5, ignition: '3.4.0' },
};

/** Versions upstream Butane has and this translator does not. */
export const LATER_FCOS_VERSIONS = ['1.6.0', '1.7.0', '1.8.0-experimental'];

/** The spec minor version (3.x.0), for rules that changed between specs. */
export function specMinor(spec: SpecVersion): number {
  return Number(spec.ignition.split('.')[1]);
}
