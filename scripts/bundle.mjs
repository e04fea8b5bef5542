// Bundles the compiled CLI: dist/chunks/tripcal.cjs, started by dist/tripcal.mjs (the launcher,
// scripts/launcher.mjs) through V8's code cache. Start-up time is what every MCP client pays each
// time it launches `tripcal serve`, and most of it was loading code: one file instead of the
// hundreds that zod, the MCP SDK and friends are made of, then compiled once and cached, not at
// every start. Why CommonJS: Node 20 caches compiled code for scripts (node:vm) but not for ES
// modules, and one CommonJS file is also read and linked faster than ES module chunks. What is
// imported dynamically (the commands, the providers) stays in the file but is only compiled and
// run when used. node-ical, with its Temporal polyfills, is not bundled: core/ical/reader.ts
// requires it from node_modules the first time an event is read. The native SQLite addon stays external,
// and so do googleapis and google-auth-library (CommonJS with lazy requires of their own; only the
// Google provider imports them), msal-node and graph-client (only the Outlook provider and
// `tripcal auth outlook` import them), and pg and pg-boss (only a PostgreSQL store loads them). The MCP SDK's JSON Schema validator (ajv) is bundled but
// only run when first used. First, the trip view's MCP App (src/web/app-main.ts) is bundled for
// the browser; its code goes into the CLI bundle as the constant TRIPCAL_TRIP_VIEW_SCRIPT, which
// src/web/app-resource.ts inlines in the ui://tripcal/trip-view document: nothing read at run time.
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The SDK's Node shims with its JSON Schema validator loaded on first use (scripts/sdk-shims.mjs says why). */
const lazyValidator = {
  name: 'tripcal-sdk-shims',
  setup(b) {
    b.onResolve({ filter: /^@modelcontextprotocol\/server\/_shims$/ }, () => ({ path: fileURLToPath(new URL('./sdk-shims.mjs', import.meta.url)) }));
  },
};

rmSync('dist/chunks', { recursive: true, force: true });

const app = await build({
  entryPoints: ['dist/src/web/app-main.js'],
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'iife',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  logLevel: 'warning',
});
// Inline in a <script>: nothing in it may close the element or open a comment.
const appScript = app.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/chunks/tripcal.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['better-sqlite3', 'pg', 'pg-boss', 'googleapis', 'googleapis/*', 'google-auth-library', '@azure/msal-node', '@microsoft/microsoft-graph-client'],
  // The sources are ES modules: strict mode, as they were written for, and import.meta.url is
  // this file's URL (they find package.json and data files from it).
  banner: { js: '"use strict";var tripcalImportMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': 'tripcalImportMetaUrl', TRIPCAL_TRIP_VIEW_SCRIPT: JSON.stringify(appScript) },
  // import() of the external packages becomes require(): code run by node:vm cannot import()
  // without an experimental flag (nor, in Node 20, when it comes from the code cache). They are
  // CommonJS packages (which import() would load with require() too) and msal-node, which ships
  // both forms.
  supported: { 'dynamic-import': false },
  minify: true,
  plugins: [lazyValidator],
  logLevel: 'warning',
});

// The launcher is the command; the bundle keeps no #! line (it would be a syntax error where the
// launcher wraps the bundle in a function) and so starts with its "use strict".
const bundle = readFileSync('dist/chunks/tripcal.cjs', 'utf8').replace(/^#![^\n]*\n/, '');
writeFileSync('dist/chunks/tripcal.cjs', bundle);
const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
const launcher = readFileSync('scripts/launcher.mjs', 'utf8').replace('__BUNDLE_HASH__', hash);
writeFileSync('dist/tripcal.mjs', launcher);
chmodSync('dist/tripcal.mjs', 0o755);
