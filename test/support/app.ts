// A real App for integration tests — on a real SQLite file in a temp dir, or, with
// TRIPCAL_TEST_STORE=postgres, on a fresh PostgreSQL database of its own (the same tests, the
// other store) — and a dump of the database to prove that a refused edit changed nothing.
import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { openApp, type App, type OpenOptions } from '../../src/app.js';
import type { AccountReport } from '../../src/sync/engine.js';
import { tempDir } from './mcp.js';
import { freshPostgres } from './postgres.js';
import { sql } from './sqlite.js';

/** Which store the integration tests run on: `sqlite` (the default) or `postgres`. */
export const TEST_STORE = process.env.TRIPCAL_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** Each data directory's PostgreSQL database: an app opened again on the same directory finds its model, as on SQLite. */
const databases = new Map<string, Promise<{ url: string }>>();

/** openApp on the store the tests run on: the data directory's SQLite file, or its own PostgreSQL database. */
export async function openTestApp(options: OpenOptions & { dataDir: string }): Promise<App> {
  if (TEST_STORE === 'sqlite') return openApp(options);
  const dir = resolve(options.dataDir);
  let database = databases.get(dir);
  if (!database) databases.set(dir, (database = freshPostgres()));
  return openApp({ ...options, storeUrl: (await database).url });
}

/** What a child process (`tripcal sync`, `tripcal list`) needs to open the same model as openTestApp. */
export async function storeEnv(dataDir: string): Promise<Record<string, string>> {
  if (TEST_STORE === 'sqlite') return {};
  const dir = resolve(dataDir);
  let database = databases.get(dir);
  if (!database) databases.set(dir, (database = freshPostgres()));
  return { DATABASE_URL: (await database).url };
}

export function testApp(options: { config?: string } = {}): Promise<App> {
  return openTestApp({ dataDir: tempDir(), configPath: options.config });
}

/** Every row of every table, in a stable order, read on a connection of the test's own: what a refused edit must leave as it was. */
export async function dump(app: App): Promise<string> {
  const db = sql(app);
  const tables = db.kind === 'sqlite'
    ? await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    : await db.all<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = (await db.all(`SELECT * FROM ${name}`)).map((r) => JSON.stringify(r)).sort();
    parts.push(`${name}: ${rows.join(',')}`);
  }
  return parts.join('\n');
}

/** Every row of every table of a SQLite file another process writes (an end-to-end test's daemon). */
export function dumpDatabase(db: Database.Database): string {
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
