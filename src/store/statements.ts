// One prepared statement per SQL text and database, reused for every call.
//
// better-sqlite3 compiles each `db.prepare(sql)` into a native sqlite3_stmt that is finalized only
// when V8 garbage-collects the small JS wrapper. The native side is not reported to V8 as external
// memory, so under a steady stream of tool calls (several statements each) thousands of compiled
// statements waited for a full GC, and the daemon's RSS rose with the number of calls. The store
// issues a fixed set of SQL texts, so caching them bounds that memory and also saves the compile.
import type Database from 'better-sqlite3';

const caches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * The cached statement for `sql` on `db`, prepared on first use. A statement still iterating (a
 * generator over `.iterate()` not yet finished) cannot run again, so a busy one gets a fresh,
 * uncached statement instead of the "statement is busy" error.
 */
export function prepared(db: Database.Database, sql: string): Database.Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const cached = cache.get(sql);
  if (cached && !cached.busy) return cached;
  const statement = db.prepare(sql);
  if (!cached) cache.set(sql, statement);
  return statement;
}
