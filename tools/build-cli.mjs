#!/usr/bin/env node
/**
 * `make build`, after tsc: the bundled CLI launcher (src/cli/launcher.ts) and its V8 start-up
 * snapshot, into dist/bundle/:
 *   ostree.cjs     the launcher and the modules of a plain `admin status`, one CommonJS file
 *   import.cjs     import() for the launcher started from the snapshot
 *   ostree.blob    `node --build-snapshot` of ostree.cjs: only this Node binary loads it, and
 *                  only under the same CPU and V8 configuration (else it exits 14)
 *   ostree.blob.id the Node binary that built the blob, and its size and mtime: bin/ostree
 *                  uses the blob only with that binary, unchanged, and once a probe run found
 *                  that Node accepts it in this boot (bin/ostree writes ostree.blob.ok)
 * Usage: node tools/build-cli.mjs [--no-snapshot]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const out = path.join(dist, 'bundle');
const bundle = path.join(out, 'ostree.cjs');
const blob = path.join(out, 'ostree.blob');
const stamp = path.join(out, 'ostree.blob.id');
const importerFile = path.join(out, 'import.cjs');

/**
 * A bundled module keeps its own location: `import.meta.url` (createRequire, worker files)
 * becomes the URL of the module's file under dist/, found at run time from the bundle's path
 * (process.argv[1]: the bundle is run as a script, or named there after --snapshot-blob), so a
 * moved tree (the VM image's /usr/lib/ostree-ts) works, and the snapshot holds no path.
 */
const keepModuleUrl = {
  name: 'keep-module-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rel = path.relative(dist, args.path);
      if (rel.startsWith('..')) throw new Error(`${args.path}: import.meta outside dist/ cannot be bundled`);
      return { contents: text.replaceAll('import.meta.url', `__ostreeModuleUrl(${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

const banner = [
  '"use strict";',
  'function __ostreeModuleUrl(rel) {',
  '  const p = require("node:path");',
  '  return require("node:url").pathToFileURL(p.join(p.dirname(p.resolve(process.argv[1])), "..", rel)).href;',
  '}',
].join('\n');

/**
 * The entry: run now, or, while a snapshot is being built, when the snapshot is started. Code
 * from a snapshot has no import() (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so there the
 * commands handed to main.js load it through import.cjs, a file Node's CommonJS loader
 * compiles at run time.
 */
const entry = `
const path = require('node:path');
const v8 = require('node:v8');
const { launch } = require(${JSON.stringify(path.join(dist, 'src', 'cli', 'launcher.js'))});
function start(fromSnapshot) {
  const self = path.resolve(process.argv[1]);
  // created on first use: a plain \`admin status\` never needs it (nor Node's CommonJS loader)
  const importer = fromSnapshot ? (url) => require('node:module').createRequire(self)('./import.cjs')(url) : undefined;
  launch(process.argv.slice(2), path.dirname(path.dirname(self)), importer).then((code) => { process.exitCode = code; });
}
if (v8.startupSnapshot && v8.startupSnapshot.isBuildingSnapshot()) v8.startupSnapshot.setDeserializeMainFunction(() => start(true));
else start(false);
`;
const importer = '// The launcher\'s import() when started from a V8 snapshot (tools/build-cli.mjs).\nmodule.exports = (url) => import(url);\n';

function tmpName(p) {
  return `${p}.tmp-${process.pid}`;
}

async function buildBundle() {
  const tmp = tmpName(bundle);
  const r = await esbuild.build({
    stdin: { contents: entry, resolveDir: dist, sourcefile: 'ostree-entry.cjs', loader: 'js' },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: tmp,
    banner: { js: banner }, plugins: [keepModuleUrl], logLevel: 'warning', metafile: true,
  });
  fs.renameSync(tmp, bundle);
  fs.writeFileSync(tmpName(importerFile), importer);
  fs.renameSync(tmpName(importerFile), importerFile);
  return Object.keys(r.metafile.inputs).length;
}

function buildSnapshot() {
  const tmp = tmpName(blob);
  execFileSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', bundle], { stdio: 'inherit', cwd: out });
  const st = fs.statSync(process.execPath);
  const stampTmp = tmpName(stamp);
  fs.writeFileSync(stampTmp, `${process.execPath} ${st.size} ${Math.floor(st.mtimeMs / 1000)}\n`);
  fs.renameSync(tmp, blob);
  fs.renameSync(stampTmp, stamp);
}

fs.mkdirSync(out, { recursive: true });
for (const f of [blob, stamp, `${blob}.ok`]) fs.rmSync(f, { force: true }); // .ok: bin/ostree's probe, redone for a new blob
const n = await buildBundle();
let what = `${path.relative(root, bundle)} (${n} modules)`;
if (!process.argv.includes('--no-snapshot')) {
  buildSnapshot();
  what += `, ${path.relative(root, blob)}`;
}
process.stdout.write(`build-cli: ${what}\n`);
