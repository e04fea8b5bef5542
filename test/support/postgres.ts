// A PostgreSQL database of its own for each test, on the server at TRIPCAL_TEST_PG_URL (a
// superuser's URL; `.ci/run` starts that server and makes the role), dropped afterwards. Speaks pg
// directly, not through src/store, so what a test sees is the database, not the driver under test.
// A server that cannot be reached fails loudly: a skipped PostgreSQL test would pass for a green one.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SERVER = process.env.TRIPCAL_TEST_PG_URL ?? 'postgres://tripcal:tripcal@127.0.0.1:5432/postgres';

/** Runs one statement on its own connection to the database at `url`; the rows it returned. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`the PostgreSQL server for the tests does not answer at ${withoutPassword(url)} (${(error as Error).message}). `
      + '.ci/run installs and starts it (apt-get install postgresql; pg_ctlcluster 15 main start) and makes the tripcal role; '
      + 'elsewhere start a PostgreSQL server and set TRIPCAL_TEST_PG_URL to a superuser\'s URL. These tests are never skipped', { cause: error });
  }
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A new, empty database on the test server: its URL, and drop() to end its connections and remove it. */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tripcal_test_${randomBytes(6).toString('hex')}`;
  await query(SERVER, `CREATE DATABASE ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // WITH (FORCE): ends the connections a failed test left open first (PostgreSQL 13 and later).
    drop: async () => { await query(SERVER, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); },
  };
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
