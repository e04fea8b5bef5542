// Migration 9 rebuilds `users` without feed_token (a UNIQUE column SQLite cannot drop). A database
// made at migration 8, with users, trips, items and a synced link in it, keeps every row, and its
// foreign keys still hold and are still enforced afterwards; a migration that would leave a row
// referring to nothing is refused and changes nothing.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openDatabase, StoreError } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { DB_FILE, Store } from '../../src/store/store.js';

const AT = '2025-01-01T00:00:00Z';

/** A database file as tripcal made it at schema version `version`, foreign keys as tripcal sets them. */
function databaseAt(version: number, fill: (db: Database.Database) => void, foreignKeys = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'tripcal-migrations-'));
  const db = new Database(join(dir, DB_FILE));
  db.pragma('journal_mode = WAL');
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  db.pragma(`user_version = ${version}`);
  db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  fill(db);
  db.close();
  return dir;
}

function userAt8(db: Database.Database, id: string, timezone: string, token: string): void {
  db.prepare('INSERT INTO users (id, timezone, feed_token, created_at) VALUES (?, ?, ?, ?)').run(id, timezone, token, AT);
}

function tripOf(db: Database.Database, id: string, user: string, title: string): void {
  db.prepare(`INSERT INTO trips (id, user_id, title, timezone, start_date, end_date, start_utc, end_utc, created_at, updated_at)
    VALUES (?, ?, ?, 'Europe/Lisbon', '2025-06-01', '2025-06-05', '2025-05-31T23:00:00Z', '2025-06-05T22:59:59Z', ?, ?)`).run(id, user, title, AT, AT);
}

function itemOf(db: Database.Database, id: string, trip: string, user: string): void {
  db.prepare(`INSERT INTO items (id, trip_id, user_id, kind, data, start_utc, end_utc, start_tz, end_tz, remind_before_hours, created_at, updated_at)
    VALUES (?, ?, ?, 'activity', '{"name":"Museum"}', '2025-06-02T09:00:00Z', '2025-06-02T11:00:00Z', 'Europe/Lisbon', 'Europe/Lisbon', 1, ?, ?)`).run(id, trip, user, AT, AT);
}

const rows = (db: Database.Database, table: string) => db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
const columns = (db: Database.Database, table: string) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);

test('a database at migration 8 keeps its users, trips, items and links, and every foreign key, through migration 9', async () => {
  const dir = databaseAt(8, (db) => {
    userAt8(db, 'me', 'Europe/Lisbon', 'token-one');
    userAt8(db, 'ana@example.org', 'Pacific/Chatham', 'token-two');
    tripOf(db, 'trip_a', 'me', 'Lisbon');
    tripOf(db, 'trip_b', 'ana@example.org', 'Porto');
    tripOf(db, 'trip_c', 'me', 'Faro');
    itemOf(db, 'item_a', 'trip_a', 'me');
    itemOf(db, 'item_b', 'trip_b', 'ana@example.org');
    db.prepare("INSERT INTO accounts (name, user_id, provider, created_at) VALUES ('home', 'me', 'caldav', ?)").run(AT);
    db.prepare("INSERT INTO links (account, key, item_id, trip_id, remote_id, state, updated_at) VALUES ('home', 'item_a:activity', 'item_a', 'trip_a', '/cal/a.ics', 'synced', ?)").run(AT);
  });
  const before = new Database(join(dir, DB_FILE), { readonly: true });
  const kept = Object.fromEntries(['trips', 'items', 'accounts', 'links', 'journal'].map((t) => [t, rows(before, t)]));
  before.close();

  const db = openDatabase(join(dir, DB_FILE));
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(columns(db, 'users')).toEqual(['id', 'timezone', 'created_at']);
    expect(rows(db, 'users')).toEqual([
      { id: 'me', timezone: 'Europe/Lisbon', created_at: AT },
      { id: 'ana@example.org', timezone: 'Pacific/Chatham', created_at: AT },
    ]);
    for (const [table, before] of Object.entries(kept)) expect(rows(db, table), table).toEqual(before);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // The references still name users (not the table it was rebuilt as), and are enforced again.
    const schema = (db.prepare("SELECT group_concat(sql, ' ') AS sql FROM sqlite_master").get() as { sql: string }).sql;
    expect(schema).not.toMatch(/users_new/);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() => tripOf(db, 'trip_x', 'nobody', 'Nowhere')).toThrow(/FOREIGN KEY/);
    expect(() => db.prepare("DELETE FROM users WHERE id = 'me'").run()).toThrow(/FOREIGN KEY/);
  } finally {
    db.close();
  }

  // The model reads them as before.
  const store = await Store.open(dir);
  try {
    expect(await store.getUser('ana@example.org')).toEqual({ id: 'ana@example.org', timezone: 'Pacific/Chatham', createdAt: AT });
    expect((await store.listTrips('me')).map((t) => t.title)).toEqual(['Lisbon', 'Faro']);
    expect((await store.listItems('trip_b')).map((i) => i.id)).toEqual(['item_b']);
  } finally {
    await store.close();
  }
});

test('migration 9 run again on users without feed_token (a database set back to version 8) changes nothing', async () => {
  const dir = databaseAt(MIGRATIONS.length, (db) => {
    db.prepare('INSERT INTO users (id, timezone, created_at) VALUES (?, ?, ?)').run('me', 'UTC', AT);
    tripOf(db, 'trip_a', 'me', 'Lisbon');
    db.pragma('user_version = 8');
  });
  const db = openDatabase(join(dir, DB_FILE));
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(rows(db, 'users')).toEqual([{ id: 'me', timezone: 'UTC', created_at: AT }]);
    expect(rows(db, 'trips')).toHaveLength(1);
    expect(db.pragma('foreign_key_check')).toEqual([]);
  } finally {
    db.close();
  }
});

test('a migration that would leave rows referring to nothing is refused, and the database stays as it was', async () => {
  // A trip whose user is missing (written with foreign keys off): the check after migrating finds it.
  const dir = databaseAt(8, (db) => {
    userAt8(db, 'me', 'UTC', 'token-one');
    tripOf(db, 'trip_a', 'ghost', 'Nowhere');
  }, false);
  const path = join(dir, DB_FILE);
  let error: unknown;
  try {
    openDatabase(path).close();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StoreError);
  expect((error as Error).message).toMatch(/would leave 1 row\(s\) referring to nothing \(trips → users\); nothing was changed/);
  const db = new Database(path, { readonly: true });
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(8);
    expect(columns(db, 'users')).toContain('feed_token');
    expect(rows(db, 'trips')).toHaveLength(1);
  } finally {
    db.close();
  }
});
