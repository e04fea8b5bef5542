// The tests' own connection to a store's database file: how a test sets up a state the tools
// cannot make (an old cursor, a hostile title) or reads what was stored, without the Store
// handing its connection out.
import Database from 'better-sqlite3';

const open = new Map<string, Database.Database>();

export function sql(store: { path: string }): Database.Database {
  let db = open.get(store.path);
  if (!db || !db.open) {
    db = new Database(store.path);
    db.pragma('busy_timeout = 5000');
    open.set(store.path, db);
  }
  return db;
}
