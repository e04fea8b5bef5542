// Bundles the compiled CLI (dist/tripcal.mjs). Loading one file instead of the hundreds that zod,
// the MCP SDK and friends are made of halves start-up time, which every MCP client pays each
// time it launches `tripcal serve`. What is imported dynamically (the CalDAV provider, the
// commands) goes to separate chunks that only the commands needing them load. node-ical, with its
// Temporal polyfills, is not bundled: core/ical/reader.ts requires it from node_modules the first
// time an event is read. The native SQLite addon stays external, and so do googleapis and google-auth-library
// (CommonJS with lazy requires of their own; only the Google provider imports them), and
// msal-node and graph-client (only the Outlook provider and `tripcal auth outlook` import them).
// First, the trip view's MCP App (src/web/app-main.ts) is bundled for the browser; its code goes
// into the CLI bundle as the constant TRIPCAL_TRIP_VIEW_SCRIPT, which src/web/app-resource.ts
// inlines in the ui://tripcal/trip-view document: one file to ship, nothing read at run time.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: drop the previous build's.
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
  entryPoints: { tripcal: 'dist/src/cli.js' },
  define: { TRIPCAL_TRIP_VIEW_SCRIPT: JSON.stringify(appScript) },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'googleapis', 'googleapis/*', 'google-auth-library', '@azure/msal-node', '@microsoft/microsoft-graph-client'],
  // Bundled CommonJS dependencies call require(); give them a real one.
  banner: { js: "import { createRequire as tripcalCreateRequire } from 'node:module'; const require = tripcalCreateRequire(import.meta.url);" },
  minify: true,
  logLevel: 'warning',
});
