// The layers, read off the import graph of every source file (static `from '…'` and dynamic
// `import('…')`; type-only imports count for the layers, not as I/O):
//
//   core/       zones, iCalendar primitives, the error hierarchy — imports nothing of ours above it
//   providers/  remote calendars — core/ only, never src/
//   src/        the model, sync, MCP, daemon, CLI — SQL only in src/store/
//
// and within src/: the planner, events/ and model/ do no I/O; MCP tool modules start no server
// and make no HTTP request themselves. Each rule is checked against a planted violation too, so
// a rule that can no longer fail is caught.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface Source { path: string; text: string; imports: string[]; valueImports: string[] }

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The modules a file imports: relative ones resolved to a repository path (.js → .ts), others as
 * written. With `values`, only imports that load code at run time (not `import type`).
 */
function importsOf(path: string, text: string, values = false): string[] {
  const found = [...text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)]
    .filter((m) => !values || !m[2])
    .map((m) => m[3] ?? m[4]!);
  return found.map((spec) => (spec.startsWith('.') ? relative(ROOT, resolve(dirname(join(ROOT, path)), spec)).replace(/\.js$/, '.ts') : spec));
}

function load(path: string, text = readFileSync(join(ROOT, path), 'utf8')): Source {
  return { path, text, imports: importsOf(path, text), valueImports: importsOf(path, text, true) };
}

const files: Source[] = ['core', 'src', 'providers'].flatMap((d) => sources(join(ROOT, d))).map((p) => load(relative(ROOT, p)));

const IO = /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dns|dns\/promises|dgram|tls)$|^better-sqlite3$|^pg$/;
const SQL = /['"`]\s*(SELECT\s[\s\S]*?\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA\s)/i;

type Rule = (f: Source) => string[];

const rules: Record<string, Rule> = {
  'core/ imports nothing of src/ or providers/': (f) => (f.path.startsWith('core/') ? f.imports.filter((i) => i.startsWith('src/') || i.startsWith('providers/')) : []),
  'providers/ import nothing of src/': (f) => (f.path.startsWith('providers/') ? f.imports.filter((i) => i.startsWith('src/')) : []),
  'the planner, events/ and model/ do no I/O and read no store': (f) =>
    (f.path === 'src/sync/plan.ts' || f.path.startsWith('src/events/') || f.path.startsWith('src/model/')
      ? f.valueImports.filter((i) => IO.test(i) || i.startsWith('src/store/') || i.startsWith('src/daemon/') || i.startsWith('src/sync/engine'))
      : []),
  'MCP code reaches the model through trips, sync and feeds, never the store or the vault': (f) =>
    (f.path.startsWith('src/mcp/') ? [...f.text.matchAll(/\bapp\.(store|vault)\b/g)].map((m) => `app.${m[1]}`) : []),
  'a provider folder never imports the registry (the registry imports it)': (f) =>
    (/^providers\/[^/]+\//.test(f.path) ? f.imports.filter((i) => i === 'providers/registry.ts') : []),
  'src/auth/ and src/sync/ do not import each other': (f) =>
    (f.path.startsWith('src/auth/') ? f.imports.filter((i) => i.startsWith('src/sync/'))
      : f.path.startsWith('src/sync/') ? f.imports.filter((i) => i.startsWith('src/auth/')) : []),
  'SQL and the SQLite driver only in src/store/': (f) =>
    (f.path.startsWith('src/store/') ? [] : [...(SQL.test(f.text) ? ['SQL text'] : []), ...f.imports.filter((i) => i === 'better-sqlite3' || i === 'pg')]),
  'the trip view imports nothing at run time (the MCP App bundles it for the browser)': (f) =>
    (f.path === 'src/web/trip-view.ts' ? f.valueImports : []),
  'MCP tool modules start no server and make no request': (f) =>
    (f.path.startsWith('src/mcp/tools/')
      ? [...f.imports.filter((i) => IO.test(i)), ...(/\bfetch\(|createServer\(/.test(f.text) ? ['a server or a request'] : [])]
      : []),
};

describe('the layers hold', () => {
  for (const [name, rule] of Object.entries(rules)) {
    test(name, async () => {
      const offenders = files.flatMap((f) => rule(f).map((what) => `${f.path}: ${what}`));
      expect(offenders).toEqual([]);
    });
  }

  test('no import cycle between the three layers', async () => {
    const layer = (p: string) => p.split('/')[0];
    const edges = new Set(files.flatMap((f) => f.imports.filter((i) => /^(core|src|providers)\//.test(i)).map((i) => `${layer(f.path)}>${layer(i)}`)));
    expect([...edges].filter((e) => e === 'core>src' || e === 'core>providers' || e === 'providers>src')).toEqual([]);
  });
});

describe('each rule can fail', () => {
  const planted: Record<string, Source> = {
    'core/ imports nothing of src/ or providers/': load('core/tz/zones.ts', "import { x } from '../../src/model/time.js';\n"),
    'providers/ import nothing of src/': load('providers/google/events.ts', "import type { Item } from '../../src/model/types.js';\n"),
    'the planner, events/ and model/ do no I/O and read no store': load('src/sync/plan.ts', "import { readFileSync } from 'node:fs';\n"),
    'MCP code reaches the model through trips, sync and feeds, never the store or the vault': load('src/mcp/tools/trips.ts', 'const n = await app.store.counts();\n'),
    'a provider folder never imports the registry (the registry imports it)': load('providers/google/provider.ts', "import type { GoogleSettings } from '../registry.js';\n"),
    'src/auth/ and src/sync/ do not import each other': load('src/sync/accounts.ts', "import type { Vault } from '../auth/vault.js';\n"),
    'SQL and the SQLite driver only in src/store/': load('src/auth/vault.ts', "const q = db.prepare('SELECT value FROM secrets WHERE name = ?');\n"),
    'the trip view imports nothing at run time (the MCP App bundles it for the browser)': load('src/web/trip-view.ts', "import { humanTime } from '../model/time.js';\n"),
    'MCP tool modules start no server and make no request': load('src/mcp/tools/sync.ts', "import { createServer } from 'node:http';\ncreateServer().listen(1);\n"),
  };
  for (const [name, source] of Object.entries(planted)) {
    test(`${name}: a planted violation is caught`, async () => {
      expect(rules[name]!(source).length).toBeGreaterThan(0);
    });
  }
});

// Files over 300 lines are the exception, each with its reason. A listed file that is gone or has
// come down to 300 lines or fewer fails too, so the list says what is true.
const LONG_FILE_LINES = 300;
const LONG_FILES: Record<string, string> = {
  'providers/google/provider.ts': 'the Google adapter: one class over the session, calendar and write batcher that all its methods share (ids, events, batches, errors, free/busy are modules of their own)',
  'providers/outlook/provider.ts': 'the Graph adapter: one class over the session, calendar and write batcher that all its methods share (delta, batches, links, errors, events, free/busy are modules of their own)',
  'src/daemon/http.ts': 'HTTP front: host/origin/token checks and routing in one place',
  'src/daemon/push.ts': 'push channels and their notifications: the receiver checks what the manager made and acts on lifecycle notices through it (to split: the receiver into a module of its own)',
  'src/trips/service.ts': 'every model edit: one class whose edits share its transaction, user, span and journal steps (the pure parts are items.ts, span.ts, shift.ts)',
};

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

function lengthProblems(sources: Source[], listed: Record<string, string>): string[] {
  const lines = new Map(sources.map((f) => [f.path, lineCount(f.text)]));
  return [
    ...[...lines].filter(([path, n]) => n > LONG_FILE_LINES && !listed[path]).map(([path, n]) => `${path}: ${n} lines, and not in LONG_FILES with a reason`),
    ...Object.keys(listed).filter((path) => !lines.has(path)).map((path) => `${path}: in LONG_FILES but not a source file any more`),
    ...Object.keys(listed).filter((path) => (lines.get(path) ?? Infinity) <= LONG_FILE_LINES).map((path) => `${path}: ${lines.get(path)} lines now; take it out of LONG_FILES`),
  ];
}

describe('file length', () => {
  test(`a source file over ${LONG_FILE_LINES} lines is listed with its reason, and every listed one still is that long`, async () => {
    expect(lengthProblems(files, LONG_FILES)).toEqual([]);
    for (const [path, reason] of Object.entries(LONG_FILES)) expect(reason.trim(), path).not.toBe('');
  });

  test('each way it can fail is caught', async () => {
    const long = load('src/sync/plan.ts', 'x\n'.repeat(LONG_FILE_LINES + 1));
    const short = load('src/trips/service.ts', 'x\n'.repeat(LONG_FILE_LINES));
    expect(lengthProblems([long], {})).toEqual([`src/sync/plan.ts: ${LONG_FILE_LINES + 1} lines, and not in LONG_FILES with a reason`]);
    expect(lengthProblems([short], { 'src/trips/service.ts': 'a reason' })).toEqual([`src/trips/service.ts: ${LONG_FILE_LINES} lines now; take it out of LONG_FILES`]);
    expect(lengthProblems([], { 'src/gone.ts': 'a reason' })).toEqual(['src/gone.ts: in LONG_FILES but not a source file any more']);
  });
});
