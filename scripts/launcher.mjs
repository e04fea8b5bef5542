#!/usr/bin/env node
// tripcal's launcher (dist/tripcal.mjs, written by scripts/bundle.mjs from this file). It runs the
// bundled command line, dist/chunks/tripcal.cjs, through V8's code cache: the bundle's functions
// compiled by an earlier run are read back instead of parsed and compiled again, which is most of
// what an MCP client waits for when it starts `tripcal serve`. Node 20 has no compile cache for
// ES modules (module.enableCompileCache came with 22), hence a CommonJS bundle and node:vm.
//
// The cache is a file per bundle, Node version and command kind (serve, daemon, other commands:
// each compiles different functions) in $XDG_CACHE_HOME/tripcal, else ~/.cache/tripcal. It is
// written once, when a run had none (or V8 refused it), at exit or after a few seconds of running.
// Nothing depends on it: a directory that cannot be written, a file of someone else's, a damaged
// or stale file (V8 checks it) all mean the bundle is compiled as usual, and so does
// NODE_DISABLE_COMPILE_CACHE=1 (Node's own switch for its cache).
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const BUNDLE = fileURLToPath(new URL('./chunks/tripcal.cjs', import.meta.url));
/** The bundle's content hash, filled in by scripts/bundle.mjs: a rebuilt bundle gets a cache of its own. */
const BUNDLE_HASH = '__BUNDLE_HASH__';
/** How long a running command waits before writing the cache it did not find (serve and daemon run for hours). */
const WRITE_AFTER_MS = 3000;
/** Other cache files (an older tripcal's, a write cut short) are removed once this old. */
const STALE_MS = 7 * 86_400_000;

const require = createRequire(BUNDLE);

if (process.env.NODE_DISABLE_COMPILE_CACHE) require(BUNDLE);
else runCached();

function runCached() {
  const source = readFileSync(BUNDLE, 'utf8');
  const cacheFile = cachePath();
  const cachedData = cacheFile ? readOwn(cacheFile) : undefined;
  // The same wrapper Node puts around a CommonJS file; the bundle starts with "use strict".
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE, cachedData,
  });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      writeCache(cacheFile, script);
    };
    process.once('exit', write);
    setTimeout(write, WRITE_AFTER_MS).unref();
  }
  const module = { exports: {}, filename: BUNDLE, id: '.', loaded: false };
  script.runInThisContext()(module.exports, require, module, BUNDLE, dirname(BUNDLE));
}

/** Serve and the daemon compile other functions than the short commands: each has its cache. */
function commandKind() {
  const args = process.argv.slice(2);
  return args.includes('serve') ? 'serve' : args.includes('daemon') ? 'daemon' : 'cli';
}

function cachePath() {
  try {
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    return join(base, 'tripcal', `${BUNDLE_HASH}-node${process.versions.node}-${process.arch}-${commandKind()}.v8cache`);
  } catch {
    return undefined; // no home directory
  }
}

/** The file's bytes if it is ours (not planted by another user in a shared directory), else undefined. */
function readOwn(file) {
  try {
    if (process.getuid && statSync(file).uid !== process.getuid()) return undefined;
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file, script) {
  try {
    const dir = dirname(file);
    // Level by level: a recursive mkdir never returns under /proc (a cache home there is possible).
    makeDir(dirname(dir));
    makeDir(dir);
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    renameSync(partial, file); // whole or not at all, also with several tripcal starting at once
    const now = Date.now();
    for (const name of readdirSync(dir)) {
      const other = join(dir, name);
      if (other === file || !/\.(v8cache|tmp)$/.test(name)) continue;
      if (now - statSync(other).mtimeMs > STALE_MS) unlinkSync(other);
    }
  } catch {
    // An unwritable cache directory only means compiling again next time.
  }
}

function makeDir(dir) {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
}
