// Builds tripcal.mcpb, the Claude Desktop extension (an MCP Bundle: a zip with manifest.json at its
// root). Run after `npm run build` (`npm run pack:mcpb` does both):
//
//   node scripts/mcpb.mjs [--out FILE] [--stage DIR]
//
// 1. manifest.json = mcpb/manifest.json plus what is only known now: `version` from package.json,
//    `tools` from the built server itself (started over stdio, asked tools/list with the MCP SDK
//    client), and `compatibility.platforms` = this machine's platform, because the bundle carries
//    better-sqlite3's native addon as built here (same OS, CPU and Node ABI needed to run it).
// 2. A staging directory with manifest.json, what `npm publish` ships (dist/tripcal.mjs,
//    dist/chunks/, README.md, config.example.yaml), LICENSE, a package.json without scripts or
//    devDependencies, and the production node_modules (`npm ls --omit=dev --all --parseable`),
//    copied from this checkout's node_modules: no network. Pruned: googleapis' 300-odd other
//    APIs (tripcal imports only googleapis/build/src/apis/calendar) and better-sqlite3's SQLite
//    sources and build leftovers (only build/Release/better_sqlite3.node is loaded).
// 3. `mcpb validate` semantics and `mcpb pack` via @anthropic-ai/mcpb's own functions.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { packExtension, validateManifest } from '@anthropic-ai/mcpb';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: { out: { type: 'string', default: join(root, 'tripcal.mcpb') }, stage: { type: 'string' } },
});
const out = resolve(opts.out);
const stage = opts.stage ? resolve(opts.stage) : mkdtempSync(join(tmpdir(), 'tripcal-mcpb-stage-'));
const started = Date.now();

const entry = join(root, 'dist/tripcal.mjs');
if (!existsSync(entry)) throw new Error('dist/tripcal.mjs is missing: run `npm run build` first (or `npm run pack:mcpb`)');

// --- 1. the manifest
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(root, 'mcpb/manifest.json'), 'utf8'));
manifest.version = pkg.version;
manifest.tools = await toolsOfTheBuiltServer();
manifest.compatibility = { ...manifest.compatibility, platforms: [process.platform] };

/** The tools the built server lists, in its order, as the manifest's {name, description}. */
async function toolsOfTheBuiltServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tripcal-mcpb-tools-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, 'serve'],
    env: { ...process.env, TRIPCAL_DATA_DIR: dataDir, XDG_CONFIG_HOME: dataDir },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'tripcal-mcpb-build', version: pkg.version });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    return tools.map((tool) => ({ name: tool.name, description: firstSentence(tool.description ?? tool.name) }));
  } finally {
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A tool's description up to its first sentence: the manifest's list is for a settings page. */
function firstSentence(text) {
  const match = /^(.+?[.!?])(\s|$)/s.exec(text.trim());
  return (match ? match[1] : text.trim()).replace(/\s+/g, ' ');
}

// --- 2. the staging directory
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
writeFileSync(join(stage, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
for (const file of ['dist/tripcal.mjs', 'dist/chunks', 'README.md', 'LICENSE', 'config.example.yaml']) {
  cpSync(join(root, file), join(stage, file), { recursive: true });
}
const { scripts: _scripts, devDependencies: _dev, allowScripts: _allow, files: _files, ...runtimePackage } = pkg;
writeFileSync(join(stage, 'package.json'), JSON.stringify(runtimePackage, null, 2) + '\n');

const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  .split('\n').map((line) => line.trim()).filter((line) => line && resolve(line) !== root);
let packages = 0;
for (const dir of listed) {
  const rel = relative(root, dir);
  if (!rel.startsWith(`node_modules${sep}`)) throw new Error(`unexpected package outside node_modules: ${dir}`);
  // A package's own nested node_modules are listed (and copied) separately when they are production ones.
  cpSync(dir, join(stage, rel), { recursive: true, filter: (src) => keep(relative(dir, src), rel) });
  packages++;
}

/** Whether to stage `inner` (a path inside the package at `rel`). */
function keep(inner, rel) {
  if (inner === '') return true;
  const parts = inner.split(sep);
  if (parts[0] === 'node_modules') return false;
  const pkgPath = rel.split(sep).join('/');
  if (pkgPath === 'node_modules/googleapis' && parts.length >= 4 && parts.slice(0, 3).join('/') === 'build/src/apis') {
    return parts[3] === 'calendar';
  }
  if (pkgPath === 'node_modules/better-sqlite3') {
    if (parts[0] === 'deps' || parts[0] === 'src') return false;
    if (parts[0] === 'build') return inner === 'build' || inner === join('build', 'Release') || inner === join('build', 'Release', 'better_sqlite3.node');
  }
  return true;
}
if (!existsSync(join(stage, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))) {
  throw new Error('better-sqlite3 has no native build (node_modules/better-sqlite3/build/Release/better_sqlite3.node): run npm ci first');
}

// --- 3. validate and pack
if (!validateManifest(join(stage, 'manifest.json'))) throw new Error('the staged manifest.json is not a valid MCPB manifest (see above)');
mkdirSync(dirname(out), { recursive: true });
if (!(await packExtension({ extensionPath: stage, outputPath: out, silent: true }))) throw new Error('mcpb pack failed');
if (!opts.stage) rmSync(stage, { recursive: true, force: true });

const mb = (statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`${relative(process.cwd(), out) || out}: ${mb} MB, ${manifest.tools.length} tools, ${packages} packages, ${((Date.now() - started) / 1000).toFixed(1)} s`);
