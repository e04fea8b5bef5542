// The PostgreSQL driver (src/store/postgres.ts) against a real PostgreSQL server, each group on a
// database of its own: `?` numbered, counts as numbers, transactions that commit, roll back,
// nest, keep to themselves and are run again after a serialization failure, the schema migrated
// once by replicas starting together and refused when newer, the server's problems told without
// the password, and a schema that matches SQLite's column for column.
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StoreError } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { PostgresSql } from '../../src/store/postgres.js';
import { freshPostgres, query } from '../support/postgres.js';
import { freePort } from '../support/radicale.js';

const AT = '2025-01-01T00:00:00Z';
let db: Awaited<ReturnType<typeof freshPostgres>>;
let sql: PostgresSql;

beforeAll(async () => {
  db = await freshPostgres();
  sql = await PostgresSql.open(db.url);
  await sql.run('CREATE TABLE t (id text PRIMARY KEY, n integer NOT NULL DEFAULT 0, note text)');
});

afterAll(async () => {
  await sql?.close();
  await db?.drop();
});

const ids = async () => (await sql.all<{ id: string }>('SELECT id FROM t ORDER BY id')).map((r) => r.id);

describe('queries', () => {
  test('? is numbered, except inside a string, a quoted name or a comment', async () => {
    expect(await sql.get(`SELECT ? AS a, '?' AS q, 'it''s ?' AS s, 1 AS "why?", ? AS b -- ?
      /* ? */`, ['x', 'y'])).toEqual({ a: 'x', q: '?', s: "it's ?", 'why?': 1, b: 'y' });
  });

  test('get, all and run (rows changed)', async () => {
    for (const id of ['a', 'b', 'c']) expect(await sql.run('INSERT INTO t (id, note) VALUES (?, ?)', [id, `note ${id}`])).toBe(1);
    expect(await sql.run("UPDATE t SET n = n + 1 WHERE id IN ('a', 'b', 'c')")).toBe(3);
    expect(await sql.run('DELETE FROM t WHERE id = ?', ['nothing'])).toBe(0);
    expect(await sql.get('SELECT id, n, note FROM t WHERE id = ?', ['b'])).toEqual({ id: 'b', n: 1, note: 'note b' });
    expect(await sql.get('SELECT id FROM t WHERE id = ?', ['nothing'])).toBeUndefined();
    expect(await ids()).toEqual(['a', 'b', 'c']);
    expect((await sql.all<{ id: string }>('SELECT id FROM t WHERE n = ? ORDER BY id DESC', [1])).map((r) => r.id)).toEqual(['c', 'b', 'a']);
    await sql.run('DELETE FROM t');
  });

  test('bigint and numeric answers are numbers, and pg\'s global parsers are left alone', async () => {
    await sql.run("INSERT INTO journal (at, action) VALUES (?, 'one'), (?, 'two')", [AT, AT]);
    const counts = await sql.get<Record<string, unknown>>('SELECT count(*) AS n, max(seq) AS seq, sum(seq) AS total, avg(seq) AS mean FROM journal');
    expect(counts).toEqual({ n: 2, seq: 2, total: 3, mean: 1.5 });
    expect(pg.types.getTypeParser(pg.types.builtins.INT8, 'text')('5')).toBe('5');
  });
});

describe('transactions', () => {
  test('commit what fn wrote and resolve to what it returned', async () => {
    expect(await sql.transaction(async () => {
      await sql.run("INSERT INTO t (id) VALUES ('kept')");
      return 'done';
    })).toBe('done');
    expect(await ids()).toEqual(['kept']);
    await sql.run('DELETE FROM t');
  });

  test('roll back everything when fn throws', async () => {
    const boom = new Error('boom');
    await expect(sql.transaction(async () => {
      await sql.run("INSERT INTO t (id) VALUES ('gone')");
      throw boom;
    })).rejects.toBe(boom);
    expect(await ids()).toEqual([]);
  });

  test('a transaction inside one is a savepoint: its rollback keeps the outer writes', async () => {
    await sql.transaction(async () => {
      await sql.run("INSERT INTO t (id) VALUES ('outer')");
      await expect(sql.transaction(async () => {
        await sql.run("INSERT INTO t (id) VALUES ('inner')");
        throw new Error('inner fails');
      })).rejects.toThrow('inner fails');
      await sql.transaction(() => sql.run("INSERT INTO t (id) VALUES ('second inner')"));
      // A statement that fails inside a savepoint leaves the outer transaction usable.
      await expect(sql.transaction(() => sql.run("INSERT INTO t (id) VALUES ('outer')"))).rejects.toThrow(/duplicate key/);
      await sql.run("INSERT INTO t (id) VALUES ('after')");
    });
    expect(await ids()).toEqual(['after', 'outer', 'second inner']);
    await sql.run('DELETE FROM t');
  });

  test('a statement error fn caught still fails the transaction (PostgreSQL would turn its COMMIT into a ROLLBACK)', async () => {
    await sql.run("INSERT INTO t (id) VALUES ('taken')");
    await expect(sql.transaction(async () => {
      await sql.run("INSERT INTO t (id) VALUES ('new')");
      await sql.run("INSERT INTO t (id) VALUES ('taken')").catch(() => undefined);
      return 'fine?';
    })).rejects.toThrow(/duplicate key/);
    expect(await ids()).toEqual(['taken']);
    await sql.run('DELETE FROM t');
  });

  test('queries from inside, however deeply awaited, see its writes; queries from outside do not', async () => {
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => { written = resolve; });
    let outsideLooked!: () => void;
    const looked = new Promise<void>((resolve) => { outsideLooked = resolve; });
    const deep = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return Promise.resolve().then(() => sql.get("SELECT id FROM t WHERE id = 'pending'"));
    };
    const inside = sql.transaction(async () => {
      await sql.run("INSERT INTO t (id) VALUES ('pending')");
      written();
      await looked;
      return deep();
    });
    await wrote;
    expect(await sql.get("SELECT id FROM t WHERE id = 'pending'")).toBeUndefined();
    expect(await ids()).toEqual([]);
    outsideLooked();
    expect(await inside).toEqual({ id: 'pending' });
    expect(await ids()).toEqual(['pending']);
    await sql.run('DELETE FROM t');
  });

  test('a timer set inside a transaction and firing after it ended is outside it, not on its connection', async () => {
    const one = await PostgresSql.open(db.url, { max: 1 });
    try {
      let later!: Promise<unknown>;
      await one.transaction(async () => {
        later = new Promise((resolve) => setTimeout(resolve, 50)).then(() => one.get("SELECT id FROM t WHERE id = 'uncommitted'"));
      });
      // The pool's one connection, now another transaction's, with a row it will roll back.
      await one.transaction(async () => {
        await one.run("INSERT INTO t (id) VALUES ('uncommitted')");
        await new Promise((resolve) => setTimeout(resolve, 150));
        throw new Error('rolled back');
      }).catch(() => undefined);
      expect(await later).toBeUndefined();
    } finally {
      await one.close();
    }
  });

  test('two transactions reading then writing one row both apply: the loser of the conflict runs again', async () => {
    await sql.run("INSERT INTO t (id, n) VALUES ('counter', 0)");
    let tries = 0;
    let bothRead!: () => void;
    let reads = 0;
    const barrier = new Promise<void>((resolve) => { bothRead = resolve; });
    const increment = () => sql.transaction(async () => {
      tries++;
      const row = await sql.get<{ n: number }>("SELECT n FROM t WHERE id = 'counter'");
      // The first tries both read before either writes, so one of them must fail to serialize.
      if (++reads <= 2) {
        if (reads === 2) bothRead();
        await barrier;
      }
      await sql.run("UPDATE t SET n = ? WHERE id = 'counter'", [row!.n + 1]);
    });
    await Promise.all([increment(), increment()]);
    expect(await sql.get("SELECT n FROM t WHERE id = 'counter'")).toEqual({ n: 2 });
    expect(tries).toBeGreaterThan(2);
    await sql.run('DELETE FROM t');
  });

  test('two transactions making the same new row after finding it absent: the loser runs again and finds it', async () => {
    // The store's first write for a new user: getUser, then insertUser when there is none.
    let bothLooked!: () => void;
    let looks = 0;
    const looked = new Promise<void>((resolve) => { bothLooked = resolve; });
    const made: string[] = [];
    const ensure = (who: string) => sql.transaction(async () => {
      const found = await sql.get("SELECT id FROM t WHERE id = 'new user'");
      if (++looks === 2) bothLooked();
      if (looks <= 2) await looked;
      if (!found) {
        await sql.run("INSERT INTO t (id, note) VALUES ('new user', ?)", [who]);
        made.push(who);
      }
    });
    await Promise.all([ensure('one'), ensure('two')]);
    expect(await sql.all('SELECT id FROM t')).toEqual([{ id: 'new user' }]);
    expect(made).toHaveLength(1);
    expect(looks).toBe(3);
    await sql.run('DELETE FROM t');
  });

  test('many transactions at once, each reading and writing rows of one small table, all land', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `row ${i}`);
    for (const id of rows) await sql.run('INSERT INTO t (id) VALUES (?)', [id]);
    await Promise.all(rows.flatMap((id) => [1, 2].map(() => sql.transaction(async () => {
      const { n } = (await sql.get<{ n: number }>('SELECT n FROM t WHERE id = ?', [id]))!;
      await sql.get('SELECT count(*) AS n FROM t');
      await sql.run('UPDATE t SET n = ? WHERE id = ?', [n + 1, id]);
    }))));
    expect(await sql.get('SELECT sum(n) AS total, min(n) AS least FROM t')).toEqual({ total: 24, least: 2 });
    await sql.run('DELETE FROM t');
  });

  test('a connection lost mid-transaction is a StoreError, and the pool goes on with a new one', async () => {
    const failed = sql.transaction(async () => {
      const me = await sql.get<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await query(db.url, 'SELECT pg_terminate_backend($1)', [me!.pid]);
      await sql.run("INSERT INTO t (id) VALUES ('lost')");
    });
    await expect(failed).rejects.toThrow(StoreError);
    await expect(failed).rejects.toThrow(/dropped|ended the connection/);
    expect(await sql.get('SELECT 1 AS one')).toEqual({ one: 1 });
    expect(await ids()).toEqual([]);
  });
});

describe('opening and migrating', () => {
  test('replicas opening a fresh database together: one migrates, all open at the latest schema', async () => {
    const fresh = await freshPostgres();
    try {
      const opened = await Promise.all([1, 2, 3, 4].map(() => PostgresSql.open(fresh.url, { max: 2 })));
      for (const each of opened) expect(await each.schemaVersion()).toBe(11);
      expect(await query(fresh.url, 'SELECT version FROM tripcal_schema')).toEqual([{ version: 11 }]);
      for (const each of opened) await each.close();
      const again = await PostgresSql.open(fresh.url);
      expect(await again.schemaVersion()).toBe(11);
      await again.close();
      await again.close();
    } finally {
      await fresh.drop();
    }
  });

  test('a database made by a newer tripcal is refused, and nothing in it is changed', async () => {
    const fresh = await freshPostgres();
    try {
      await (await PostgresSql.open(fresh.url)).close();
      await query(fresh.url, 'UPDATE tripcal_schema SET version = 99');
      const schema = "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2";
      const before = await query(fresh.url, schema);
      const refused = PostgresSql.open(fresh.url);
      await expect(refused).rejects.toThrow(StoreError);
      await expect(refused).rejects.toThrow(/schema version 99, made by a newer tripcal \(this one knows up to 11\).*Nothing was changed/);
      expect(await query(fresh.url, schema)).toEqual(before);
      expect(await query(fresh.url, 'SELECT version FROM tripcal_schema')).toEqual([{ version: 99 }]);
    } finally {
      await fresh.drop();
    }
  });

  test('a wrong password, a closed port, an unknown database or host: a StoreError naming the URL without the password', async () => {
    const secret = 'n0t-the-Passw0rd';
    const port = await freePort();
    const cases: Array<[string, RegExp]> = [
      [`postgres://tripcal:${secret}@127.0.0.1:5432/postgres`, /refused the role.*password/],
      [`postgres://tripcal:${secret}@127.0.0.1:${port}/postgres`, /nothing answers there.*server runs/],
      [`postgres://tripcal@127.0.0.1:5432/postgres?password=${secret}`, /refused the role.*password/],
      [`postgres://tripcal:${secret}@no-such-host.invalid:5432/postgres`, /host name is not known/],
    ];
    for (const [url, why] of cases) {
      const error = await PostgresSql.open(url).then(() => undefined, (e: unknown) => e);
      expect(error, url).toBeInstanceOf(StoreError);
      const { message } = error as StoreError;
      expect(message).toMatch(why);
      expect(message).toMatch(/store\.url \(or DATABASE_URL\)/);
      expect(message).toMatch(/:\*\*\*@|password=\*\*\*/);
      expect(message).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
      expect((error as Error).stack).not.toMatch(/node_modules\/pg/);
    }
    await expect(PostgresSql.open('postgres://tripcal:tripcal@127.0.0.1:5432/no_such_database')).rejects.toThrow(/database does not exist.*createdb/);
    await expect(PostgresSql.open('not a url')).rejects.toThrow(/not a URL like postgres:/);
  });
});

describe('the schema', () => {
  const sqlite = new Database(':memory:');
  for (const migration of MIGRATIONS) sqlite.exec(migration);
  const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence' ORDER BY name").all() as { name: string }[])
    .map((t) => t.name);

  test('has SQLite\'s tables, columns (in order, with their nullability and types) and indexes', async () => {
    const TYPES: Record<string, string> = { TEXT: 'text', INTEGER: 'integer', REAL: 'double precision', BIGINT: 'bigint' };
    const expected = tables.flatMap((table) => (sqlite.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; pk: number }[])
      .map((c) => ({
        table_name: table,
        column_name: c.name,
        data_type: table === 'journal' && c.name === 'seq' ? 'bigint' : TYPES[c.type],
        is_nullable: c.notnull || c.pk ? 'NO' : 'YES',
      })));
    expect(await query(db.url, `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name NOT IN ('t', 'tripcal_schema') ORDER BY table_name, ordinal_position`)).toEqual(expected);
    const indexes = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((i) => i.name);
    expect((await query<{ indexname: string }>(db.url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' ORDER BY indexname"))
      .map((i) => i.indexname)).toEqual(indexes);
  });

  test('takes a user, a trip, an item, an account and a link, and holds their keys and checks', async () => {
    await sql.transaction(async () => {
      await sql.run('INSERT INTO users (id, timezone, created_at) VALUES (?, ?, ?)', ['me', 'Europe/Lisbon', AT]);
      await sql.run(`INSERT INTO trips (id, user_id, title, timezone, start_date, end_date, start_utc, end_utc, created_at, updated_at)
        VALUES ('trip_a', 'me', 'Lisbon', 'Europe/Lisbon', '2025-06-01', '2025-06-05', '2025-05-31T23:00:00Z', '2025-06-05T22:59:59Z', ?, ?)`, [AT, AT]);
      await sql.run(`INSERT INTO items (id, trip_id, user_id, kind, data, start_utc, end_utc, start_tz, end_tz, remind_before_hours,
        confirmation_code, source_uid, created_at, updated_at) VALUES ('item_a', 'trip_a', 'me', 'activity', '{"name":"Museum"}',
        '2025-06-02T09:00:00Z', '2025-06-02T11:00:00Z', 'Europe/Lisbon', 'Europe/Lisbon', ?, 'AbC123', 'uid-1', ?, ?)`, [1.5, AT, AT]);
      await sql.run("INSERT INTO accounts (name, user_id, provider, created_at, connected, calendar) VALUES ('home', 'me', 'caldav', ?, 'yes', 'personal')", [AT]);
      await sql.run(`INSERT INTO links (account, key, item_id, trip_id, remote_id, state, updated_at, written_version, pending_hash, pending_remote_hash, written_content)
        VALUES ('home', 'item_a:activity', 'item_a', 'trip_a', '/cal/a.ics', 'synced', ?, 1, NULL, NULL, 'BEGIN:VCALENDAR')`, [AT]);
      await sql.run("INSERT INTO journal (at, user_id, trip_id, item_id, action, account, event_key) VALUES (?, 'me', 'trip_a', 'item_a', 'synced', 'home', 'item_a:activity')", [AT]);
    });
    expect(await sql.get('SELECT remind_before_hours, all_day, version FROM items WHERE lower(confirmation_code) = lower(?)', ['abc123']))
      .toEqual({ remind_before_hours: 1.5, all_day: 0, version: 1 });
    expect(await sql.get("SELECT status, calendar, written_version FROM accounts JOIN links ON links.account = accounts.name WHERE key = 'item_a:activity'"))
      .toEqual({ status: 'never synced', calendar: 'personal', written_version: 1 });
    const item = (id: string, trip: string, kind: string, uid: string | null) => sql.run(`INSERT INTO items (id, trip_id, user_id, kind, data, start_utc,
      end_utc, start_tz, end_tz, remind_before_hours, source_uid, created_at, updated_at) VALUES (?, ?, 'me', ?, '{}', ?, ?, 'UTC', 'UTC', 0, ?, ?, ?)`,
    [id, trip, kind, AT, AT, uid, AT, AT]);
    await expect(item('item_x', 'no_trip', 'activity', null)).rejects.toMatchObject({ code: '23503' });
    await expect(item('item_x', 'trip_a', 'cruise', null)).rejects.toMatchObject({ code: '23514' });
    await expect(item('item_x', 'trip_a', 'stay', 'uid-1')).rejects.toMatchObject({ code: '23505', constraint: 'items_by_source' });
    await sql.run("UPDATE items SET deleted_at = ? WHERE id = 'item_a'", [AT]);
    expect(await item('item_x', 'trip_a', 'stay', 'uid-1')).toBe(1);
    await expect(sql.run("DELETE FROM users WHERE id = 'me'")).rejects.toMatchObject({ code: '23503' });
  });

  test('finds a confirmation code, whatever its case, by index', async () => {
    const plan = await sql.transaction(async () => {
      await sql.run('SET LOCAL enable_seqscan = off');
      return sql.all<{ 'QUERY PLAN': string }>('EXPLAIN SELECT id FROM items WHERE user_id = ? AND lower(confirmation_code) = lower(?)', ['me', 'ABC123']);
    });
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toMatch(/items_by_confirmation/);
  });
});
