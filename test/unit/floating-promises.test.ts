// The store answers with promises (SQLite and PostgreSQL alike): a write whose promise nobody
// awaits can fail unseen, or land after the transaction meant to hold it has ended. TypeScript's
// checker finds each one; a planted one shows the check can fail.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floatingPromises } from '../support/floating-promises.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('promises nobody waits for', () => {
  it('there are none in src/, providers/, core/ or the tests', () => {
    const found = floatingPromises(join(ROOT, 'tsconfig.tests.json'), ['src', 'providers', 'core', 'test'])
      .map((f) => `${f.file.slice(ROOT.length + 1)}:${f.line} (${f.why}) ${f.text}`);
    expect(found).toEqual([]);
  }, 120_000);

  it('a planted one is found: a statement, an async callback where nothing waits, a spread, a test, an expect', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tripcal-floating-'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', noEmit: true }, include: ['src'] }));
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'planted.ts'), [
      'async function save(): Promise<void> {}',
      'export function edit(): void {',
      '  save();',
      '  void save();',
      '  [1, 2].forEach(async () => { await save(); });',
      '  save().catch(() => undefined);',
      '  const copy = { ...load() };',
      '  if (load()) void copy;',
      '  expect(load()).toEqual({ a: 1 });',
      '  void expect(load()).resolves.toEqual({ a: 1 });',
      '}',
      'async function load(): Promise<{ a: number }> { return { a: 1 }; }',
      'declare function expect(value: unknown): { toEqual(v: unknown): void; resolves: { toEqual(v: unknown): Promise<void> } };',
    ].join('\n'));
    const found = floatingPromises(join(dir, 'tsconfig.json'), ['src']);
    expect(found.map((f) => [f.line, f.why])).toEqual([[3, 'statement'], [5, 'callback'], [7, 'spread'], [8, 'condition'], [9, 'expect']]);
  }, 60_000);
});
