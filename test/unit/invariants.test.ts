// Invariants a reviewer would forget: stdout belongs to the MCP protocol (the layers are
// guarded by layers.test.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const files = [...sources(join(ROOT, 'core')), ...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'providers'))].map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

test('nothing outside the CLI commands writes to stdout', () => {
  const offenders = files
    .filter((f) => !f.path.startsWith('src/cli/'))
    .filter((f) => /console\.(log|info|debug|table|dir)\(|process\.stdout\.write/.test(f.text))
    .map((f) => f.path);
  expect(offenders).toEqual([]);
});

test('the MCP server and the serve command never write to stdout themselves', () => {
  const serve = files.find((f) => f.path === 'src/cli/serve.ts')!;
  expect(serve.text).not.toMatch(/console\.|process\.stdout/);
});



