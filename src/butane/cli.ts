#!/usr/bin/env node
/**
 * `butane [--strict] [--pretty] [--files-dir DIR] [-o FILE] [INPUT]`: Butane's command line
 * for the fcos translator in translate.ts. It parses arguments, reads the input (stdin when no
 * INPUT is given), prints diagnostics to stderr and the Ignition JSON to stdout or FILE (written
 * to a temporary name, then renamed). Exit 0 on success, 1 when the config is refused or cannot
 * be read or written, 2 on a usage error.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ButaneError, formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { toIgnitionJson } from './json.js';
import { translate } from './translate.js';
import { writeFileAtomic } from '../util/fs.js';

const USAGE = `Usage: butane [options] [input-file]
Translates a Butane config (variant fcos, versions 1.0.0 to 1.5.0) to an Ignition config.
Options:
  -c, --check              check config without producing output
  -d, --files-dir string   allow embedding local files from this directory
  -h, --help               show usage and exit
  -o, --output string      write to output file instead of stdout
  -p, --pretty             output formatted json
  -r, --raw                never wrap in a MachineConfig (accepted; fcos output is always Ignition)
  -s, --strict             fail on any warning
  -V, --version            print the version and exit
`;

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStdin: () => string;
}

const processIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readStdin: () => readFileSync(0, 'utf8'),
};

function located(name: string, d: Diagnostic): string {
  return d.line !== undefined ? `${name}:${d.line}:${d.column}: ${formatDiagnostic(d, false)}` : `${name}: ${formatDiagnostic(d, false)}`;
}

export function runButane(argv: string[], io: Io = processIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        check: { type: 'boolean', short: 'c' },
        'files-dir': { type: 'string', short: 'd' },
        help: { type: 'boolean', short: 'h' },
        output: { type: 'string', short: 'o' },
        pretty: { type: 'boolean', short: 'p' },
        raw: { type: 'boolean', short: 'r' },
        strict: { type: 'boolean', short: 's' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (e) {
    io.stderr(`butane: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (values.version) {
    io.stdout('butane (ostree-ts) fcos 1.0.0-1.5.0\n');
    return 0;
  }
  if (positionals.length > 1) {
    io.stderr(`butane: at most one input file, got ${positionals.length}\n${USAGE}`);
    return 2;
  }
  const name = positionals[0] ?? '<stdin>';
  let text: string;
  try {
    text = positionals[0] !== undefined ? readFileSync(positionals[0], 'utf8') : io.readStdin();
  } catch (e) {
    io.stderr(`failed to open ${name}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const result = translate(text, { filesDir: values['files-dir'], strict: values.strict });
    for (const w of result.warnings) io.stderr(`${located(name, w)}\n`);
    if (values.check) return 0;
    const json = `${toIgnitionJson(result.config, values.pretty === true)}\n`;
    if (values.output === undefined) {
      io.stdout(json);
      return 0;
    }
    try {
      writeFileAtomic(values.output, json);
    } catch (e) {
      io.stderr(`failed to write ${values.output}: ${(e as Error).message}\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ButaneError)) {
      io.stderr(`butane: ${(e as Error).message}\n`);
      return 1;
    }
    for (const d of e.diagnostics) io.stderr(`${located(name, d)}\n`);
    io.stderr(`Error translating config: ${e.summary}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = runButane(process.argv.slice(2));
