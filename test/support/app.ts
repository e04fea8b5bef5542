// A real App (real SQLite file in a temp dir) for integration tests, and a dump of the database
// to prove that a refused edit changed nothing.
import { openApp, type App } from '../../src/app.js';
import type { AccountReport } from '../../src/sync/engine.js';
import { tempDir } from './mcp.js';
import type Database from 'better-sqlite3';

export function testApp(options: { config?: string } = {}): App {
  return openApp({ dataDir: tempDir(), configPath: options.config });
}

export function dump(db: Database.Database): string {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  return tables.map(({ name }) => `${name}: ${JSON.stringify(db.prepare(`SELECT * FROM ${name} ORDER BY rowid`).all())}`).join('\n');
}

/**
 * Syncs the app's first account again and again, as a user whose calendar keeps failing would,
 * until a run is ok and writes nothing more (at most `maxRuns`); the last report.
 */
export async function syncUntilSettled(app: App, maxRuns = 12): Promise<AccountReport> {
  let last: AccountReport;
  let runs = 0;
  do {
    [last] = (await app.sync.sync()) as [AccountReport];
    runs += 1;
  } while ((last.status !== 'ok' || last.counts.created + last.counts.updated > 0) && runs < maxRuns);
  return last;
}
