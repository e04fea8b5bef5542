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
  it('there are none in src/, providers/ or core/', () => {
    const found = floatingPromises(join(ROOT, 'tsconfig.json'), ['src', 'providers', 'core'])
      .map((f) => `${f.file.slice(ROOT.length + 1)}:${f.line} (${f.why}) ${f.text}`);
    expect(found).toEqual([]);
  }, 120_000);

  it('a planted one is found: a statement, and an async callback where nothing is awaited', () => {
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
      '}',
    ].join('\n'));
    const found = floatingPromises(join(dir, 'tsconfig.json'), ['src']);
    expect(found.map((f) => [f.line, f.why])).toEqual([[3, 'statement'], [5, 'callback']]);
  }, 60_000);
});
