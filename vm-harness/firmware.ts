/**
 * The guest's firmware, one owner for both launch backends: legacy BIOS (SeaBIOS, QEMU's
 * default `pc` machine), UEFI (OVMF from Debian's `ovmf`, no Secure Boot) and UEFI with Secure
 * Boot (OVMF's Secure Boot build; Microsoft's keys enrolled by default, or a vars template with
 * other keys, e.g. the harness's own: ownkey.ts).
 *
 * A UEFI machine keeps its NVRAM (the vars file) across reboots as real hardware does: each disk
 * a guest boots from gets its own copy of the vars template beside it (`<disk>.vars.fd`), made on
 * the first boot and reused by the later ones.  createOverlay() removes it with the overlay, so a
 * fresh disk is also a fresh machine.
 */
import * as fs from 'node:fs';

export type Firmware = 'bios' | 'uefi' | 'secureboot';
export const FIRMWARES: readonly Firmware[] = ['bios', 'uefi', 'secureboot'];

const OVMF = '/usr/share/OVMF';
/** Firmware images and vars templates of Debian's `ovmf` (4 MiB flash layout). */
export const OVMF_FILES = {
  code: `${OVMF}/OVMF_CODE_4M.fd`,
  vars: `${OVMF}/OVMF_VARS_4M.fd`,
  /** Secure Boot build (needs SMM); OVMF_CODE_4M.ms.fd is a symlink to it */
  secureCode: `${OVMF}/OVMF_CODE_4M.ms.fd`,
  /** Microsoft's KEK and db enrolled, Secure Boot on */
  msVars: `${OVMF}/OVMF_VARS_4M.ms.fd`,
};

export interface FirmwareChoice {
  firmware?: Firmware;
  /**
   * Vars template for a UEFI machine's first boot (default: OVMF_VARS_4M.fd for `uefi`,
   * OVMF_VARS_4M.ms.fd for `secureboot`).  The own-key variant passes the vars with its keys;
   * key enrollment passes the empty template (setup mode) with firmware `secureboot`.
   */
  varsTemplate?: string;
}

export function firmwareOf(o: FirmwareChoice): Firmware {
  return o.firmware ?? 'bios';
}

export function parseFirmware(v: string | undefined, what: string): Firmware {
  const f = (v ?? 'bios') as Firmware;
  if (!FIRMWARES.includes(f)) throw new Error(`${what}=${v}: expected one of ${FIRMWARES.join(', ')}`);
  return f;
}

/** Where the NVRAM of the machine booting `disk` lives. */
export function varsFileFor(disk: string): string {
  return `${disk}.vars.fd`;
}

/** The machine's vars file, copied from its template on its first boot. */
export function machineVars(o: FirmwareChoice, disk: string): string {
  const fw = firmwareOf(o);
  const vars = varsFileFor(disk);
  if (!fs.existsSync(vars)) {
    const template = o.varsTemplate ?? (fw === 'secureboot' ? OVMF_FILES.msVars : OVMF_FILES.vars);
    if (!fs.existsSync(template)) throw new Error(`OVMF vars template ${template} is missing: run \`make deps\` (package ovmf)`);
    fs.copyFileSync(template, vars + '.tmp');
    fs.renameSync(vars + '.tmp', vars);
  }
  return vars;
}

function codeOf(fw: Firmware): string {
  const code = fw === 'secureboot' ? OVMF_FILES.secureCode : OVMF_FILES.code;
  if (!fs.existsSync(code)) throw new Error(`OVMF firmware ${code} is missing: run \`make deps\` (package ovmf)`);
  return code;
}

/** qemu-system-x86_64 arguments: the machine type and, for UEFI, the two pflash units. */
export function qemuFirmwareArgs(o: FirmwareChoice, disk: string): string[] {
  const fw = firmwareOf(o);
  if (fw === 'bios') return ['-machine', 'pc'];
  const vars = machineVars(o, disk);
  const flash = [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${codeOf(fw)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
  ];
  if (fw === 'uefi') return ['-machine', 'q35', ...flash];
  // The Secure Boot build keeps its variables safe from the OS only with SMM, and refuses to
  // start without it.
  return ['-machine', 'q35,smm=on', '-global', 'driver=cfi.pflash01,property=secure,value=on', ...flash];
}

/**
 * virt-install arguments: machine q35, SMM for Secure Boot, and the `--boot` sub-options for the
 * loader and NVRAM (returned apart: a direct kernel boot adds its own to the same `--boot`).
 */
export function virtInstallFirmwareArgs(o: FirmwareChoice, disk: string): { args: string[]; boot: string[] } {
  const fw = firmwareOf(o);
  if (fw === 'bios') return { args: [], boot: [] };
  const vars = machineVars(o, disk);
  if (fw === 'uefi') {
    // libvirt picks the firmware from QEMU's descriptors (here 60-edk2-x86_64.json, the one
    // without Secure Boot); the NVRAM is our per-machine copy.
    return { args: ['--machine', 'q35'], boot: ['uefi', 'firmware.feature0.name=secure-boot', 'firmware.feature0.enabled=no', `nvram=${vars}`] };
  }
  return {
    args: ['--machine', 'q35', '--features', 'smm.state=on'],
    boot: [`loader=${codeOf(fw)}`, 'loader.readonly=yes', 'loader.type=pflash', 'loader.secure=yes', `nvram=${vars}`],
  };
}
