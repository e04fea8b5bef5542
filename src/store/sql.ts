// The one thing the store's row classes talk to: a database that answers SQL, asynchronously.
// SQLite (better-sqlite3, src/store/sqlite.ts) and PostgreSQL (pg, src/store/postgres.ts) both
// implement it, so every query of the store is written once, in the subset of SQL both speak:
// positional `?` parameters (PostgreSQL's driver numbers them), TEXT for instants (stored as
// `YYYY-MM-DDTHH:MM:SSZ`, so text order is time order), INTEGER 0/1 for flags, JSON as TEXT,
// `INSERT … ON CONFLICT … DO UPDATE/NOTHING`, `lower(x) = lower(?)` for a case-blind match.

export type Param = string | number | null;

export interface Sql {
  /** Which engine answers (for doctor, /healthz and the few things only one of them can do). */
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data is, for messages: a file, or a PostgreSQL URL without its password. */
  readonly where: string;
  /** The first row, or undefined. */
  get<R>(sql: string, params?: readonly Param[]): Promise<R | undefined>;
  all<R>(sql: string, params?: readonly Param[]): Promise<R[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /**
   * Runs `fn` as one write transaction: every query made from inside it (however deeply awaited)
   * is part of it, and queries from outside wait or go to another connection. A transaction begun
   * inside another is a savepoint of it. `fn` must only touch the store: on PostgreSQL a
   * serialization failure runs it again from the start.
   *
   * `isolated` (the default): as if no other transaction ran at the same time (SQLite's one
   * writer; PostgreSQL's SERIALIZABLE), for edits that read, decide and write. `isolated: false`:
   * all or nothing, but reading what others committed meanwhile (PostgreSQL's READ COMMITTED),
   * for writers that are alone on their rows anyway: a sync run, the only one of its account.
   */
  transaction<T>(fn: () => Promise<T>, options?: { isolated?: boolean }): Promise<T>;
  /**
   * Runs `fn` while holding the lock `name` for every process on this database; others asking
   * for it wait. A process that dies lets go of its locks. (SQLite: `fn` runs at once — one
   * daemon's own sync engine already runs one run per account at a time.)
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** The schema version the migrations left. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
