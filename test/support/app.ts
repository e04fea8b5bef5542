// A real App (real SQLite file in a temp dir) for integration tests, and a dump of the database
// to prove that a refused edit changed nothing.
import { openApp, type App } from '../../src/app.js';
import { tempDir } from './mcp.js';
import type Database from 'better-sqlite3';

export function testApp(options: { config?: string } = {}): App {
  return openApp({ dataDir: tempDir(), configPath: options.config });
}

export function dump(db: Database.Database): string {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  return tables.map(({ name }) => `${name}: ${JSON.stringify(db.prepare(`SELECT * FROM ${name} ORDER BY rowid`).all())}`).join('\n');
}
