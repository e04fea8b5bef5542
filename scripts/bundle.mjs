// Bundles the compiled CLI into one file (dist/tripcal.mjs). Loading one file instead of the
// hundreds that zod, the MCP SDK and friends are made of halves start-up time, which every MCP
// client pays each time it launches `tripcal serve`. The native SQLite addon stays external.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/tripcal.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3'],
  // Bundled CommonJS dependencies call require(); give them a real one.
  banner: { js: "import { createRequire as tripcalCreateRequire } from 'node:module'; const require = tripcalCreateRequire(import.meta.url);" },
  minify: true,
  logLevel: 'warning',
});
