/**
 * The Butane `fcos` schema for versions 1.0.0 to 1.5.0, as far as this translator goes: which
 * keys each section takes, their types, and the first fcos minor version that has them (upstream
 * Butane's base/v0_1..v0_5 schemas). A key Butane knows but this translator does not translate
 * is marked `unsupported`: it is refused by name instead of being dropped silently.
 */

export type FieldType = 'string' | 'int' | 'bool' | StructSpec | ListSpec;

export interface ListSpec {
  kind: 'list';
  of: FieldType;
}

export interface FieldSpec {
  type: FieldType;
  /** First fcos 1.x minor version with this key (0 when all have it). */
  since?: number;
  /** Butane has this key; this translator refuses it. */
  unsupported?: boolean;
}

export interface StructSpec {
  kind: 'struct';
  fields: Readonly<Record<string, FieldSpec>>;
}

const struct = (fields: Record<string, FieldSpec>): StructSpec => ({ kind: 'struct', fields });
const list = (of: FieldType): ListSpec => ({ kind: 'list', of });
const f = (type: FieldType, since = 0): FieldSpec => ({ type, since });
const notHere = (since = 0): FieldSpec => ({ type: 'string', since, unsupported: true });

const nodeOwner = struct({ id: f('int'), name: f('string') });
const verification = struct({ hash: f('string') });
const httpHeader = struct({ name: f('string'), value: f('string') });

export const resource = struct({
  compression: f('string'),
  source: f('string'),
  inline: f('string'),
  local: f('string', 1),
  http_headers: f(list(httpHeader), 1),
  verification: f(verification),
});

const nodeFields = { group: f(nodeOwner), overwrite: f('bool'), path: f('string'), user: f(nodeOwner) };

export const file = struct({ ...nodeFields, append: f(list(resource)), contents: f(resource), mode: f('int') });
export const directory = struct({ ...nodeFields, mode: f('int') });
export const link = struct({ ...nodeFields, hard: f('bool'), target: f('string') });

export const passwdUser = struct({
  gecos: f('string'),
  groups: f(list('string')),
  home_dir: f('string'),
  name: f('string'),
  no_create_home: f('bool'),
  no_log_init: f('bool'),
  no_user_group: f('bool'),
  password_hash: f('string'),
  primary_group: f('string'),
  should_exist: f('bool', 2),
  ssh_authorized_keys: f(list('string')),
  ssh_authorized_keys_local: f(list('string'), 5),
  shell: f('string'),
  system: f('bool'),
  uid: f('int'),
});

export const passwdGroup = struct({
  gid: f('int'),
  name: f('string'),
  password_hash: f('string'),
  should_exist: f('bool', 2),
  system: f('bool'),
});

const dropin = struct({ contents: f('string'), contents_local: f('string', 5), name: f('string') });

export const unit = struct({
  contents: f('string'),
  contents_local: f('string', 5),
  dropins: f(list(dropin)),
  enabled: f('bool'),
  mask: f('bool'),
  name: f('string'),
});

export const config = struct({
  version: f('string'),
  variant: f('string'),
  ignition: notHere(),
  kernel_arguments: notHere(4),
  boot_device: notHere(3),
  grub: notHere(5),
  passwd: f(struct({ groups: f(list(passwdGroup)), users: f(list(passwdUser)) })),
  storage: f(
    struct({
      directories: f(list(directory)),
      files: f(list(file)),
      links: f(list(link)),
      disks: notHere(),
      filesystems: notHere(),
      raid: notHere(),
      luks: notHere(2),
      trees: notHere(1),
    }),
  ),
  systemd: f(struct({ units: f(list(unit)) })),
});
