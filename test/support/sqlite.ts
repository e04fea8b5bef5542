// The tests' own look into a store's database, SQLite or PostgreSQL alike: how a test sets up a
// state the tools cannot make (an old cursor, a hostile title) or reads what was stored. It goes
// through the store's own driver (the Store hands it to no one else), with the SQL a test writes.
import type { Store } from '../../src/store/store.js';
import type { Param, Sql } from '../../src/store/sql.js';

export interface TestSql {
  kind: Sql['kind'];
  all<R = Record<string, unknown>>(text: string, params?: Param[]): Promise<R[]>;
  get<R = Record<string, unknown>>(text: string, params?: Param[]): Promise<R | undefined>;
  run(text: string, params?: Param[]): Promise<number>;
}

export function sql(store: Store): TestSql {
  const driver = (store as unknown as { sql: Sql }).sql;
  return {
    kind: driver.kind,
    all: (text, params = []) => driver.all(text, params),
    get: (text, params = []) => driver.get(text, params),
    run: (text, params = []) => driver.run(text, params),
  };
}
