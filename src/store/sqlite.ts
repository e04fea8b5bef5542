// The SQLite driver behind the Sql interface: one better-sqlite3 connection, its statements
// prepared once (statements.ts), its answers given as promises so the store reads the same on
// SQLite and PostgreSQL.
//
// better-sqlite3 is synchronous, but a transaction now spans awaits, and this one connection is
// shared by every request of the process: a query from another request, run while a transaction
// is open, would land inside it (and go with it on a rollback). So a transaction holds a turn: the
// queries made from inside it (told by AsyncLocalStorage) run at once, everyone else's wait for
// it to end. Between processes SQLite's own lock does that job (BEGIN IMMEDIATE, busy_timeout).
import type Database from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { openDatabase } from './database.js';
import type { Param, Sql } from './sql.js';
import { prepared } from './statements.js';

interface Turn {
  depth: number;
  done: Promise<void>;
}

export class SqliteSql implements Sql {
  readonly kind = 'sqlite' as const;
  private readonly inside = new AsyncLocalStorage<Turn>();
  private turn: Turn | null = null;

  private constructor(readonly db: Database.Database, readonly where: string) {}

  /** Opens (making and migrating it when needed) the database file at `path`, or throws a StoreError. */
  static open(path: string): SqliteSql {
    return new SqliteSql(openDatabase(path), path);
  }

  /** Queries on a database opened elsewhere (a backup looked at before it is restored). */
  static over(db: Database.Database, where: string): SqliteSql {
    return new SqliteSql(db, where);
  }

  /**
   * Someone else's transaction is open: this caller waits for its end. Each caller checks this
   * right before its statement, with no await between, so nobody's statement slips into a
   * transaction that began meanwhile.
   */
  private othersTurn(): Promise<void> | null {
    return this.turn && this.inside.getStore() !== this.turn ? this.turn.done : null;
  }

  /** Runs `statement` as soon as no one else's transaction is open (checked right before it). */
  private async onTurn<T>(statement: () => T): Promise<T> {
    for (let busy = this.othersTurn(); busy; busy = this.othersTurn()) await busy;
    return statement();
  }

  get<R>(sql: string, params: readonly Param[] = []): Promise<R | undefined> {
    return this.onTurn(() => prepared(this.db, sql).get(...params) as R | undefined);
  }

  all<R>(sql: string, params: readonly Param[] = []): Promise<R[]> {
    return this.onTurn(() => prepared(this.db, sql).all(...params) as R[]);
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.onTurn(() => prepared(this.db, sql).run(...params).changes);
  }

  /** Isolated or not, the same: SQLite has one writer at a time. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const mine = this.inside.getStore();
    if (mine && mine === this.turn) return this.savepoint(mine, fn);
    let end!: () => void;
    const turn: Turn = { depth: 0, done: new Promise((resolve) => { end = resolve; }) };
    await this.onTurn(() => {
      this.turn = turn;
    });
    try {
      // IMMEDIATE: the write lock up front, so two processes never deadlock upgrading a read lock.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await this.inside.run(turn, fn);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      this.turn = null;
      end();
    }
  }

  private async savepoint<T>(turn: Turn, fn: () => Promise<T>): Promise<T> {
    const name = `tripcal_${++turn.depth}`;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      throw error;
    } finally {
      turn.depth--;
    }
  }

  exclusive<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** WAL, as it should be; for doctor. */
  journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  /** A consistent copy while other processes go on writing (the file alone is not: recent writes live in -wal). */
  async backup(file: string): Promise<void> {
    await this.onTurn(() => undefined);
    await this.db.backup(file);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
