// The tests' own connection to a store's database, SQLite or PostgreSQL alike: how a test sets up
// a state the tools cannot make (an old cursor, a hostile title) or reads what was stored. It is
// a connection of the test's own (better-sqlite3 on the file, pg on the URL), never the store's
// driver, so what a test reads is the database, not the code under test.
import Database from 'better-sqlite3';
import type { App } from '../../src/app.js';
import type { Store } from '../../src/store/store.js';
import { query } from './postgres.js';

type Param = string | number | null;

export interface TestSql {
  kind: 'sqlite' | 'postgres';
  all<R = Record<string, unknown>>(text: string, params?: Param[]): Promise<R[]>;
  get<R = Record<string, unknown>>(text: string, params?: Param[]): Promise<R | undefined>;
  run(text: string, params?: Param[]): Promise<void>;
}

const open = new Map<string, Database.Database>();

function file(path: string): Database.Database {
  let db = open.get(path);
  if (!db || !db.open) {
    db = new Database(path);
    db.pragma('busy_timeout = 5000');
    open.set(path, db);
  }
  return db;
}

/** `?` → `$1…`, for the tests' own SQL (which has no `?` in its strings). */
const numbered = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

/** A connection to the database of `target`: an app (on either store), or a SQLite store. */
export function sql(target: App | Store): TestSql {
  const url = 'databaseUrl' in target ? target.databaseUrl : null;
  if (url) {
    return {
      kind: 'postgres',
      all: (text, params = []) => query(url, numbered(text), params) as never,
      get: async (text, params = []) => (await query(url, numbered(text), params))[0] as never,
      run: async (text, params = []) => {
        await query(url, numbered(text), params);
      },
    };
  }
  const path = 'store' in target ? target.store.path : target.path;
  if (!path) throw new Error('a PostgreSQL store given without its app: pass the app, which knows the URL');
  const db = file(path);
  return {
    kind: 'sqlite',
    all: async (text, params = []) => db.prepare(text).all(...params) as never,
    get: async (text, params = []) => db.prepare(text).get(...params) as never,
    run: async (text, params = []) => {
      db.prepare(text).run(...params);
    },
  };
}
