#!/usr/bin/env node
/**
 * `make build`, after tsc: the bundled `ostree` command, into dist/bundle/:
 *   cli.cjs          every module of every verb (src/cli/launcher.ts and what it imports), one
 *                    CommonJS file; a module is evaluated on its first import, so a verb runs
 *                    the top-level code of its own modules only
 *   cli.cjs.cache    a V8 code cache of cli.cjs (functions compiled while running a few verbs):
 *                    a first line naming the cli.cjs it was made from, then V8's data
 *   ostree.cjs       the command: compiles cli.cjs with the cache (V8 rejects a cache of another
 *                    V8 or other flags harmlessly; a cache of another cli.cjs is not offered) and
 *                    runs it (OSTREE_TS_CODE_CACHE_DEBUG=1: says on stderr whether V8 used it)
 *   *-worker.cjs     the file of each worker thread (WORKERS), bundled the same way, so that a
 *                    thread too reads one file; a pool job runs from the bundle of its thread
 *   import.cjs       import() for code compiled by vm.Script (which has none)
 * Every file is written under a temporary name and renamed into place. No V8 start-up snapshot
 * any more: with every verb bundled, the code cache started faster (bench/README.md), and it also
 * works where a snapshot is refused (another CPU: the VM guest).
 * Usage: node tools/build-cli.mjs [--no-code-cache]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const out = path.join(dist, 'bundle');
const cli = path.join(out, 'cli.cjs');
const cache = path.join(out, 'cli.cjs.cache');
const launcherFile = path.join(out, 'ostree.cjs');
const importerFile = path.join(out, 'import.cjs');

/** The worker threads' files (started with new Worker(new URL('./x.js', import.meta.url))), and their bundles. */
const WORKERS = {
  'src/util/pool-worker.js': 'pool-worker.cjs',
  'src/repo/commit/worker.js': 'commit-worker.cjs',
  'src/repo/checkout/worker.js': 'checkout-worker.cjs',
  'src/repo/pull/store-worker.js': 'store-worker.cjs',
};
/** Pool jobs (util/pool.ts loadJob imports them by URL), run from the bundle that asks for them. */
const JOBS = ['src/repo/fsck/content.js', 'src/repo/pull/job.js'];
/** Files run as a process of their own (node FILE): they stay ES modules under dist/src. */
const PROCESSES = ['src/sysroot/freeze-watchdog-child.js'];

/**
 * A bundled module keeps its own location: `import.meta.url` (createRequire, files next to it)
 * becomes the URL of the module's file under dist/, found at run time from the bundle's
 * directory, so a moved tree (the VM image's /usr/lib/ostree-ts) works. A worker's file becomes
 * its bundle; pool.ts's import of a job becomes a lookup in the bundle's own jobs
 * (__ostreeImportJob). Any other file named through import.meta.url stops the
 * build: it would run unbundled, a second copy of its modules.
 */
const keepModuleUrl = {
  name: 'keep-module-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rel = path.relative(dist, args.path);
      if (rel.startsWith('..')) throw new Error(`${args.path}: import.meta outside dist/ cannot be bundled`);
      text = text.replace(/new URL\((['"])(\.{1,2}\/[^'"]+)\1, import\.meta\.url\)/g, (all, _q, target) => {
        const t = path.posix.join(path.posix.dirname(rel), target);
        if (WORKERS[t]) return `__ostreeBundleUrl(${JSON.stringify(WORKERS[t])})`;
        if (JOBS.includes(t) || PROCESSES.includes(t)) return all;
        throw new Error(`${rel}: ${target} is neither a bundled worker, a pool job nor a process (tools/build-cli.mjs)`);
      });
      if (rel === 'src/util/pool.js') {
        const before = text;
        text = text.replace('await import(job.module)', 'await __ostreeImportJob(job.module)');
        if (text === before) throw new Error(`${rel}: the job import to redirect was not found (tools/build-cli.mjs)`);
      }
      return { contents: text.replaceAll('import.meta.url', `__ostreeModuleUrl(${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

/**
 * The helpers of every bundle. `dirExpr` finds the bundle's directory: __dirname (the CLI's is
 * passed by ostree.cjs, a worker's bundle is loaded by Node's CommonJS loader).
 */
function banner(dirExpr) {
  return `"use strict";
function __ostreeDir() { return ${dirExpr}; }
function __ostreeModuleUrl(rel) {
  return require("node:url").pathToFileURL(require("node:path").join(__ostreeDir(), "..", rel)).href;
}
function __ostreeBundleUrl(name) { return require("node:url").pathToFileURL(require("node:path").join(__ostreeDir(), name)); }
function __ostreeImportJob(url) {
  const p = require("node:path");
  const rel = p.relative(p.join(__ostreeDir(), ".."), require("node:url").fileURLToPath(url)).split(p.sep).join("/");
  const load = globalThis.__ostreeJobs && globalThis.__ostreeJobs[rel];
  if (load) return load();
  return require("node:module").createRequire(p.join(__ostreeDir(), "import.cjs"))("./import.cjs")(url);
}`;
}

/** The bundled jobs, by path under dist/ (esbuild turns each import() into a lazy initialiser). */
const jobsTable = `globalThis.__ostreeJobs = {\n${JOBS.map((j) => `  ${JSON.stringify(j)}: () => import(${JSON.stringify(path.join(dist, j))}),`).join('\n')}\n};\n`;

const cliEntry = `${jobsTable}module.exports = require(${JSON.stringify(path.join(dist, 'src', 'cli', 'launcher.js'))});\n`;

/**
 * ostree.cjs: compile cli.cjs as Node's CommonJS loader would (same wrapper, same file name), with
 * the code cache when it was made from this very cli.cjs (its first line is the last line of
 * cli.cjs, a hash of the rest). V8 checks the rest: its version and flags, the source's length.
 */
const launcherSource = `#!/usr/bin/env node
"use strict";
// The \`ostree\` command (tools/build-cli.mjs): runs cli.cjs, compiled with its V8 code cache.
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const Module = require("node:module");
const file = path.join(__dirname, "cli.cjs");
// ASCII (build-cli.mjs checks): latin1 makes the one-byte string V8 would make of it anyway, faster
const source = fs.readFileSync(file, "latin1");
const id = source.slice(source.lastIndexOf("\\n", source.length - 2) + 1).trim();
let cachedData;
try {
  const c = fs.readFileSync(file + ".cache");
  const nl = c.indexOf(10);
  if (nl > 0 && c.toString("latin1", 0, nl) === id) cachedData = c.subarray(nl + 1);
} catch { /* no cache: compile */ }
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, __dirname);
if (process.env.OSTREE_TS_CODE_CACHE_DEBUG) process.stderr.write(\`code cache: \${cachedData ? (script.cachedDataRejected ? "rejected" : "used") : "none"}\\n\`);
mod.exports.launch(process.argv.slice(2)).then((code) => { process.exitCode = code; });
`;

const importer = '// import() for bundled code that has none (tools/build-cli.mjs).\nmodule.exports = (url) => import(url);\n';

function tmpName(p) {
  return `${p}.tmp-${process.pid}`;
}

function writeAtomic(p, data) {
  fs.writeFileSync(tmpName(p), data);
  fs.renameSync(tmpName(p), p);
}

async function bundle(contents, outfile, dirExpr) {
  const tmp = tmpName(outfile);
  const r = await esbuild.build({
    stdin: { contents, resolveDir: dist, sourcefile: `${path.basename(outfile)}-entry.cjs`, loader: 'js' },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: tmp,
    // import() becomes a lazy require (code compiled by vm.Script has no import())
    supported: { 'dynamic-import': false },
    // no comments or indentation: a smaller file to read, and ASCII, read as a one-byte string
    minifyWhitespace: true, charset: 'ascii',
    banner: { js: banner(dirExpr) }, plugins: [keepModuleUrl], logLevel: 'warning', metafile: true,
  });
  return { tmp, modules: Object.keys(r.metafile.inputs).length };
}

/** Bundle cli.cjs and end it with a line naming its content (what the code cache is checked against). */
async function buildCli() {
  const { tmp, modules } = await bundle(cliEntry, cli, '__dirname');
  let text = fs.readFileSync(tmp, 'utf8');
  if (/[^\x00-\x7f]/.test(text)) throw new Error('cli.cjs is not ASCII: ostree.cjs reads it as latin1');
  if (!text.endsWith('\n')) text += '\n';
  text += `// ostree-ts-build ${createHash('sha256').update(text).digest('hex')}\n`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, cli);
  return modules;
}

async function buildWorkers() {
  for (const [rel, name] of Object.entries(WORKERS)) {
    const { tmp } = await bundle(`${jobsTable}require(${JSON.stringify(path.join(dist, rel))});\n`, path.join(out, name), '__dirname');
    fs.renameSync(tmp, path.join(out, name));
  }
}

/**
 * The code cache: cli.cjs compiled as ostree.cjs compiles it, then a few verbs run in that
 * process (a scratch repository under the system's temporary directory) so that the functions
 * they compile lazily are in the cache too.
 */
function buildCodeCache() {
  const trainer = path.join(out, `train-${process.pid}.cjs`);
  fs.writeFileSync(trainer, trainerSource);
  try {
    // the verbs' output (and an error a verb may report) is of no interest, a crash is
    execFileSync(process.execPath, [trainer, cli, tmpName(cache)], { stdio: ['ignore', 'ignore', 'pipe'], cwd: out });
  } finally {
    fs.rmSync(trainer, { force: true });
  }
  fs.renameSync(tmpName(cache), cache);
}

const trainerSource = `"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");
const Module = require("node:module");
const [file, outFile] = process.argv.slice(2);
const source = fs.readFileSync(file, "latin1");
const id = source.slice(source.lastIndexOf("\\n", source.length - 2) + 1).trim();
const script = new vm.Script(Module.wrap(source), { filename: file });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ostree-ts-code-cache-"));
const repo = "--repo=" + path.join(tmp, "repo");
const tree = path.join(tmp, "tree");
fs.mkdirSync(path.join(tree, "d"), { recursive: true });
for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(tree, "d", "f" + i), "file " + i + "\\n");
fs.symlinkSync("d/f0", path.join(tree, "link"));
const runs = [
  ["--version"],
  ["admin", "status", "--sysroot=" + path.join(tmp, "no-sysroot")],
  ["init", repo, "--mode=bare"],
  ["commit", repo, "-b", "train", "--tree=dir=" + tree, "-s", "train"],
  ["refs", repo],
  ["log", repo, "train"],
  ["ls", repo, "-R", "train"],
  ["show", repo, "train"],
  ["rev-parse", repo, "train"],
  ["checkout", repo, "-H", "train", path.join(tmp, "co")],
  ["fsck", repo],
  ["init", "--repo=" + path.join(tmp, "pulled"), "--mode=bare"],
  ["remote", "add", "--repo=" + path.join(tmp, "pulled"), "--no-gpg-verify", "origin", "file://" + path.join(tmp, "repo")],
  ["remote", "list", "--repo=" + path.join(tmp, "pulled")],
  ["pull", "--repo=" + path.join(tmp, "pulled"), "origin", "train"],
  ["pull", "--repo=" + path.join(tmp, "pulled"), "origin", "train"],
  ["config", repo, "get", "core.mode"],
];
(async () => {
  for (const argv of runs) await mod.exports.launch(argv);
  process.exitCode = 0;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.writeFileSync(outFile, Buffer.concat([Buffer.from(id + "\\n", "latin1"), script.createCachedData()]));
})();
`;


fs.mkdirSync(out, { recursive: true });
// the cache of an older cli.cjs is useless; the rest: what earlier versions of this script made
for (const f of [cache, 'ostree.blob', 'ostree.blob.id', 'ostree.blob.ok', 'snapshot.cjs']) fs.rmSync(path.resolve(out, f), { force: true });
const n = await buildCli();
await buildWorkers();
writeAtomic(importerFile, importer);
writeAtomic(launcherFile, launcherSource);
fs.chmodSync(launcherFile, 0o755);
let what = `${path.relative(root, cli)} (${n} modules), ${Object.keys(WORKERS).length} worker bundles`;
if (!process.argv.includes('--no-code-cache')) {
  buildCodeCache();
  what += `, ${path.relative(root, cache)}`;
}
process.stdout.write(`build-cli: ${what}\n`);
