// The PostgreSQL driver behind the Sql interface: a pool of connections (pg), the store's `?`
// parameters numbered the way PostgreSQL wants them, and the schema migrated at open
// (pg-schema.ts), so several tripcal processes can share one database.
//
// A transaction holds one pooled connection from BEGIN to COMMIT. The queries made from inside it
// (told by AsyncLocalStorage, however deeply awaited) go to that connection; everyone else's go
// to the pool. It is SERIALIZABLE, so processes sharing the database behave as if they took turns,
// as SQLite's file lock makes them; the price is that PostgreSQL may refuse one with a
// serialization failure, and then it is run again from the start.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TripcalError } from '../errors.js';
import { log } from '../log.js';
import { StoreError } from './database.js';
import { redact, scrub, serverProblem, URL_SETTING } from './pg-problems.js';
import { PG_MIGRATIONS } from './pg-schema.js';
import type { Param, Sql } from './sql.js';

/** Held while migrating, so replicas started together do not both migrate (the bytes of "tripcal"). */
const MIGRATION_LOCK = '32776894481129836';
const LATEST = Math.max(...PG_MIGRATIONS.map((m) => m.version));

/** serialization_failure, deadlock_detected: nothing was written, and running it again may pass. */
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 10;
/** "current transaction is aborted, commands ignored until end of transaction block" */
const IN_FAILED_TRANSACTION = '25P02';

// This pool's own parsers, pg's global ones left alone: bigint (count(*), journal.seq) and numeric
// (sum(), avg()) come back as numbers, as SQLite gives them. Nothing tripcal counts nears 2^53.
const TYPES = new pg.TypeOverrides();
TYPES.setTypeParser(pg.types.builtins.INT8, Number);
TYPES.setTypeParser(pg.types.builtins.NUMERIC, Number);

/** An open transaction or a savepoint of one. */
interface Tx {
  readonly client: pg.PoolClient;
  readonly root: {
    /** Names savepoints uniquely within the transaction. */
    savepoints: number;
    /** A serialization failure met inside, even one `fn` caught: the whole transaction must run again. */
    failed?: unknown;
    /** The error that left it aborted (until a savepoint rolls back past it): PostgreSQL would quietly turn its COMMIT into a ROLLBACK. */
    aborted?: unknown;
    /** The connection itself failed (the server went away): it is not given back to the pool. */
    lost?: Error;
    /** Committed or rolled back: its connection may already be someone else's. */
    ended?: boolean;
  };
  /** Savepoints begun directly inside this one, one after another, so that their names nest. */
  turn: Promise<unknown>;
}

const code = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '');

export class PostgresSql implements Sql {
  readonly kind = 'postgres' as const;
  private readonly inside = new AsyncLocalStorage<Tx>();
  private closing?: Promise<void>;

  private constructor(
    private readonly pool: pg.Pool,
    /** Connections that hold a lock (exclusive) for as long as its holder runs, apart from the queries' pool. */
    private readonly locks: pg.Pool,
    readonly where: string,
    private readonly secrets: readonly string[],
  ) {}

  /**
   * Connects to the database at `url` and migrates it, or throws a StoreError that names the URL
   * without its password and what to do. `max`: connections in the pool.
   */
  static async open(url: string, options: { max?: number } = {}): Promise<PostgresSql> {
    const { where, secrets } = redact(url);
    if (!where) {
      throw new StoreError('(store.url)', `is not a URL like postgres://ROLE:PASSWORD@HOST:5432/DATABASE; check ${URL_SETTING}`);
    }
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types: TYPES, connectionTimeoutMillis: 10_000, application_name: 'tripcal' });
    const locks = new pg.Pool({ connectionString: url, max: options.max ?? 10, idleTimeoutMillis: 5_000, application_name: 'tripcal (locks)' });
    // An idle connection the server dropped (a restart, an administrator): the pool discards it
    // and the next query opens another. Without a listener it would end the process.
    for (const p of [pool, locks]) p.on('error', (error) => log.warn('a pooled PostgreSQL connection was lost', { where, error: scrub(error.message, secrets) }));
    const sql = new PostgresSql(pool, locks, where, secrets);
    try {
      await sql.migrate();
      return sql;
    } catch (error) {
      await sql.close();
      throw error;
    }
  }

  get<R>(sql: string, params: readonly Param[] = []): Promise<R | undefined> {
    return this.query<R>(this.current(), sql, params).then((r) => r.rows[0]);
  }

  all<R>(sql: string, params: readonly Param[] = []): Promise<R[]> {
    return this.query<R>(this.current(), sql, params).then((r) => r.rows);
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.query(this.current(), sql, params).then((r) => r.rowCount ?? 0);
  }

  async transaction<T>(fn: () => Promise<T>, { isolated = true }: { isolated?: boolean } = {}): Promise<T> {
    const outer = this.current();
    if (outer) return this.savepoint(outer, fn);
    // SERIALIZABLE locks what it read by index page, so many small transactions on one table
    // (a sync's write-ahead marks) refuse each other even on different rows: those that need no
    // isolation say so, and run READ COMMITTED.
    const begin = isolated ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN ISOLATION LEVEL READ COMMITTED';
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(begin, fn);
      } catch (error) {
        if (!RETRYABLE.has(code(error)) || attempt >= ATTEMPTS) throw this.problem(error);
        // Jittered, growing: two processes that collided should not collide again in step.
        await sleep(Math.random() * 5 * 2 ** Math.min(attempt, 7));
      }
    }
  }

  /**
   * A session advisory lock on a connection of its own, held while `fn` runs: PostgreSQL lets go
   * of it when that connection ends, so a replica killed in the middle frees it too.
   */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.locks.connect().catch((error: unknown) => { throw this.problem(error); });
    let lost: Error | undefined;
    const onError = (error: Error) => { lost = error; };
    client.on('error', onError);
    const key = [`tripcal:${name}`];
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', key).catch((error: unknown) => { throw this.problem(error); });
      try {
        return await fn();
      } finally {
        // Should the unlock fail, the connection is closed below, which lets go of the lock too.
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', key).catch((error: Error) => { lost ??= error; });
      }
    } finally {
      client.off('error', onError);
      client.release(lost);
    }
  }

  async schemaVersion(): Promise<number> {
    return (await this.get<{ version: number }>('SELECT version FROM tripcal_schema'))?.version ?? 0;
  }

  close(): Promise<void> {
    return (this.closing ??= Promise.all([this.pool.end(), this.locks.end()]).then(() => undefined));
  }

  /** The transaction the caller is in; none once it has ended (a timer set inside one outlives it). */
  private current(): Tx | undefined {
    const tx = this.inside.getStore();
    return tx && !tx.root.ended ? tx : undefined;
  }

  private async query<R>(tx: Tx | undefined, sql: string, params: readonly Param[]): Promise<pg.QueryResult<R & pg.QueryResultRow>> {
    try {
      return tx ? await this.on(tx, numbered(sql), params) : await this.pool.query<R & pg.QueryResultRow>(numbered(sql), [...params]);
    } catch (error) {
      throw this.problem(error);
    }
  }

  /** A statement on a transaction's connection; any error aborts the transaction, a serialization failure dooms it. */
  private async on<R extends pg.QueryResultRow>(tx: Tx, text: string, params?: readonly Param[]): Promise<pg.QueryResult<R>> {
    try {
      return await tx.client.query<R>(text, params && [...params]);
    } catch (error) {
      if (RETRYABLE.has(code(error))) tx.root.failed ??= error;
      tx.root.aborted ??= error;
      throw error;
    }
  }

  /** One try at a transaction begun with `begin`, on a connection of its own. */
  private async attempt<T>(begin: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => { throw this.problem(error); });
    const tx: Tx = { client, root: { savepoints: 0 }, turn: Promise.resolve() };
    // The server went away under a checked-out connection: pg fails the query in flight, and
    // emits this, which with no listener would end the process.
    const lost = (error: Error) => { tx.root.lost = error; };
    client.on('error', lost);
    let broken: Error | undefined;
    try {
      await this.on(tx, begin);
      const result = await this.inside.run(tx, fn, tx);
      const cause = tx.root.failed ?? tx.root.aborted;
      if (cause) throw cause;
      await this.on(tx, 'COMMIT');
      return result;
    } catch (error) {
      broken = await client.query('ROLLBACK').then(() => undefined, (e: Error) => e);
      // The cause, not what followed from it (a caught failure, then "current transaction is aborted").
      throw tx.root.failed ?? (code(error) === IN_FAILED_TRANSACTION ? tx.root.aborted ?? error : error);
    } finally {
      tx.root.ended = true;
      client.off('error', lost);
      // With an error, the pool closes the connection instead of handing it out again.
      client.release(tx.root.lost ?? broken);
    }
  }

  private savepoint<T>(outer: Tx, fn: () => Promise<T>): Promise<T> {
    const run = outer.turn.then(async () => {
      const name = `tripcal_${++outer.root.savepoints}`;
      const inner: Tx = { client: outer.client, root: outer.root, turn: Promise.resolve() };
      await this.on(outer, `SAVEPOINT ${name}`);
      try {
        const result = await this.inside.run(inner, fn);
        await this.on(outer, `RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        // Should this fail too, the transaction stays aborted and cannot commit: the first error is the one to tell.
        await this.on(outer, `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`).then(() => { outer.root.aborted = undefined; }, () => undefined);
        throw error;
      }
    });
    outer.turn = run.catch(() => undefined);
    return run;
  }

  /** Brings the schema to LATEST, or refuses one made by a newer tripcal, changing nothing. */
  private async migrate(): Promise<void> {
    // READ COMMITTED, not SERIALIZABLE: a replica that waited for the lock must see what the one
    // that held it committed, and a serializable snapshot would be older than the lock.
    await this.attempt('BEGIN', async (tx) => {
      await this.on(tx, `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await this.on(tx, 'CREATE TABLE IF NOT EXISTS tripcal_schema (version integer NOT NULL)');
      const row = (await this.on<{ version: number }>(tx, 'SELECT version FROM tripcal_schema')).rows[0];
      const current = row?.version ?? 0;
      if (current > LATEST) {
        throw new StoreError(this.where, `the database has schema version ${current}, made by a newer tripcal (this one knows up to ${LATEST}); `
          + 'run that newer version, or restore a backup made with this one. Nothing was changed');
      }
      for (const migration of PG_MIGRATIONS) if (migration.version > current) await this.on(tx, migration.sql);
      if (current === LATEST) return;
      await this.on(tx, row ? 'UPDATE tripcal_schema SET version = $1' : 'INSERT INTO tripcal_schema (version) VALUES ($1)', [LATEST]);
    }).catch((error: unknown) => {
      throw this.problem(error);
    });
  }

  /** What an error from pg means for the person running tripcal: a StoreError when it is about the server or the URL. */
  private problem(error: unknown): unknown {
    if (error instanceof TripcalError) return error;
    const why = serverProblem(code(error), scrub((error as Error).message ?? String(error), this.secrets));
    return why ? new StoreError(this.where, why) : error;
  }
}

const NUMBERED = new Map<string, string>();

/** `?` → `$1…$n`, except inside '…' strings, "…" names and comments; cached per text (the store's texts are few). */
function numbered(sql: string): string {
  let text = NUMBERED.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/'[^']*'|"[^"]*"|--[^\n]*|\/\*[\s\S]*?\*\/|\?/g, (m) => (m === '?' ? `$${++n}` : m));
    // Texts built per call (an IN list as long as its values) must not grow this without end.
    if (NUMBERED.size >= 1000) NUMBERED.clear();
    NUMBERED.set(sql, text);
  }
  return text;
}
