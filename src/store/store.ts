// The Store owns the database: it opens it (a SQLite file in the data directory, or PostgreSQL
// when `store.url` names one), and maps rows to domain records. Every query is written once, for
// both engines (store/sql.ts); everything that edits the model runs inside `transaction`.
import { join } from 'node:path';
import type { Item, ItemDetails, Trip, User } from '../model/types.js';
import type { TripExtent } from '../trips/span.js';
import { TripcalError } from '../errors.js';
import { LocalBudget, type RequestBudget } from '../../providers/budget.js';
import { SharedBudget } from './budget.js';
import { AuthServerRows } from './oauth-server.js';
import { OAuthStateRows, SecretRows } from './secrets.js';
import { PushChannelRows } from './push.js';
import { SyncStore } from './sync.js';
import type { Sql } from './sql.js';
import { SqliteSql } from './sqlite.js';
import { toItem, toTrip, utcSeconds, type ItemRow, type TripRow, type UserRow } from './rows.js';

export const DB_FILE = 'tripcal.db';

export interface JournalEntry {
  userId?: string;
  tripId?: string;
  itemId?: string;
  action: string;
  /** Ids and counts only: never a traveller's personal data or a secret. */
  detail?: Record<string, unknown>;
}

export type NewItem = ItemDetails & Omit<Item, 'kind' | 'details' | 'version' | 'createdAt' | 'updatedAt'>;

export class Store {
  /** The vault's sealed values and the OAuth sign-ins under way. */
  readonly secrets: SecretRows;
  readonly oauthStates: OAuthStateRows;
  /** Accounts, links and cursors: what sync keeps per calendar. */
  readonly syncRows: SyncStore;
  /** The built-in authorization server's passwords, clients, codes and refresh tokens. */
  readonly authServer: AuthServerRows;
  /** What the providers may spend against their services' limits: shared by every replica on PostgreSQL, this process's own on SQLite. */
  readonly budget: RequestBudget;

  private constructor(private readonly sql: Sql) {
    this.budget = sql.kind === 'postgres' ? new SharedBudget(sql) : new LocalBudget();
    this.secrets = new SecretRows(sql);
    this.oauthStates = new OAuthStateRows(sql);
    this.syncRows = new SyncStore(sql);
    this.authServer = new AuthServerRows(sql);
  }

  /**
   * Opens the model: PostgreSQL at `url` when one is given, else the data directory's SQLite file
   * (made when missing). A damaged, unreachable or newer database is a StoreError.
   */
  static async open(dataDir: string, url?: string | null): Promise<Store> {
    if (url) {
      // Loaded only then: the SQLite path never reads the PostgreSQL driver.
      const { PostgresSql } = await import('./postgres.js');
      return new Store(await PostgresSql.open(url));
    }
    return new Store(SqliteSql.open(join(dataDir, DB_FILE)));
  }

  /** Which engine holds the model, and where (a file, or a URL without its password). */
  get engine(): { kind: Sql['kind']; where: string } {
    return { kind: this.sql.kind, where: this.sql.where };
  }

  /** The path of the SQLite file; null on PostgreSQL (backups there are pg_dump's job). */
  get path(): string | null {
    return this.sql instanceof SqliteSql ? this.sql.where : null;
  }

  /**
   * A consistent copy of the SQLite database at `file`, taken with SQLite's online backup while
   * other processes go on writing (copying tripcal.db alone is not safe: recent writes live in -wal).
   */
  async backup(file: string): Promise<void> {
    if (!(this.sql instanceof SqliteSql)) throw new TripcalError('config', `the model is in PostgreSQL (${this.sql.where}): back it up with pg_dump`);
    await this.sql.backup(file);
  }

  /** Live trips and items, for what backup and doctor report. */
  async counts(): Promise<{ trips: number; items: number }> {
    const row = await this.sql.get<{ trips: number; items: number }>(`SELECT
      (SELECT count(*) FROM trips WHERE deleted_at IS NULL) AS trips, (SELECT count(*) FROM items WHERE deleted_at IS NULL) AS items`);
    return { trips: row!.trips, items: row!.items };
  }

  schemaVersion(): Promise<number> {
    return this.sql.schemaVersion();
  }

  /** SQLite's journal mode (WAL, as it should be); null on PostgreSQL. */
  journalMode(): string | null {
    return this.sql instanceof SqliteSql ? this.sql.journalMode() : null;
  }

  /** One trivial query: the database answers (for /healthz). */
  async ping(): Promise<void> {
    await this.sql.get('SELECT 1');
  }

  /**
   * Runs `fn` as one write transaction: every store call made inside it is part of it. `fn` must
   * only touch the store (on PostgreSQL a serialization conflict runs it again). `isolated:
   * false` for a writer alone on its rows (see Sql.transaction).
   */
  transaction<T>(fn: () => Promise<T>, options?: { isolated?: boolean }): Promise<T> {
    return this.sql.transaction(fn, options);
  }

  /** Runs `fn` holding the lock `name` across every process on this database (see Sql.exclusive). */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.sql.exclusive(name, fn);
  }

  private push: PushChannelRows | undefined;
  /** Push channels (Google watch channels, Graph subscriptions), their secrets by SHA-256 only. */
  get pushChannels(): PushChannelRows {
    return (this.push ??= new PushChannelRows(this.sql));
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  // users

  async getUser(id: string): Promise<User | undefined> {
    const r = await this.sql.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return r && { id: r.id, timezone: r.timezone, createdAt: r.created_at };
  }

  async insertUser(user: User): Promise<void> {
    await this.sql.run('INSERT INTO users (id, timezone, created_at) VALUES (?, ?, ?)', [user.id, user.timezone, user.createdAt]);
  }

  async setUserTimezone(id: string, timezone: string): Promise<void> {
    await this.sql.run('UPDATE users SET timezone = ? WHERE id = ?', [timezone, id]);
  }

  async listUsers(): Promise<User[]> {
    return (await this.sql.all<UserRow>('SELECT * FROM users ORDER BY id')).map((r) => ({ id: r.id, timezone: r.timezone, createdAt: r.created_at }));
  }

  // trips

  async getTrip(id: string): Promise<Trip | undefined> {
    const r = await this.sql.get<TripRow>('SELECT * FROM trips WHERE id = ? AND deleted_at IS NULL', [id]);
    return r && toTrip(r);
  }

  async listTrips(userId: string): Promise<Trip[]> {
    const rows = await this.sql.all<TripRow>(
      'SELECT * FROM trips WHERE user_id = ? AND deleted_at IS NULL ORDER BY start_utc IS NULL, start_utc, created_at', [userId]);
    return rows.map(toTrip);
  }

  /** Trips whose span, widened by `marginMs` each side, overlaps [startUtc, endUtc]. */
  async tripsOverlapping(userId: string, startUtc: string, endUtc: string, marginMs: number): Promise<Trip[]> {
    // Stored instants are all `YYYY-MM-DDTHH:MM:SSZ` (see toUtcIso), so text order is time order.
    const from = utcSeconds(Date.parse(startUtc) - marginMs);
    const to = utcSeconds(Date.parse(endUtc) + marginMs);
    const rows = await this.sql.all<TripRow>(`SELECT * FROM trips WHERE user_id = ? AND deleted_at IS NULL AND start_utc IS NOT NULL
      AND start_utc <= ? AND end_utc >= ? ORDER BY start_utc`, [userId, to, from]);
    return rows.map(toTrip);
  }

  async insertTrip(trip: Trip): Promise<void> {
    await this.sql.run(`INSERT INTO trips (id, user_id, title, timezone, notes, start_date, end_date, start_utc, end_utc,
        version, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    [trip.id, trip.userId, trip.title, trip.timezone, trip.notes, trip.startDate, trip.endDate, trip.startUtc, trip.endUtc,
      trip.version, trip.createdAt, trip.updatedAt]);
  }

  async updateTrip(trip: Pick<Trip, 'id' | 'title' | 'timezone' | 'notes' | 'startDate' | 'endDate' | 'startUtc' | 'endUtc' | 'updatedAt'>): Promise<void> {
    await this.sql.run(`UPDATE trips SET title = ?, timezone = ?, notes = ?, start_date = ?, end_date = ?, start_utc = ?, end_utc = ?,
        updated_at = ?, version = version + 1 WHERE id = ?`,
    [trip.title, trip.timezone, trip.notes, trip.startDate, trip.endDate, trip.startUtc, trip.endUtc, trip.updatedAt, trip.id]);
  }

  async softDeleteTrip(id: string, at: string): Promise<void> {
    await this.sql.run('UPDATE trips SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?', [at, at, id]);
    await this.sql.run('UPDATE items SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE trip_id = ? AND deleted_at IS NULL', [at, at, id]);
  }

  // items

  async getItem(id: string): Promise<Item | undefined> {
    const r = await this.sql.get<ItemRow>('SELECT * FROM items WHERE id = ? AND deleted_at IS NULL', [id]);
    return r && toItem(r);
  }

  async listItems(tripId: string): Promise<Item[]> {
    return (await this.sql.all<ItemRow>('SELECT * FROM items WHERE trip_id = ? AND deleted_at IS NULL ORDER BY start_utc, created_at', [tripId]))
      .map(toItem);
  }

  /** Every live item of a user's live trips, in time order (feeds, exports, sync). */
  async userItems(userId: string): Promise<Item[]> {
    return (await this.sql.all<ItemRow>(`SELECT items.* FROM items JOIN trips ON trips.id = items.trip_id
        WHERE items.user_id = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL
        ORDER BY items.start_utc, items.created_at`, [userId])).map(toItem);
  }

  /**
   * Live items of a user's live trips that may be the same booking as a new one: of the same kind
   * and, for a flight, starting within `marginMs` of it; else holding the same confirmation code.
   */
  async duplicateCandidates(userId: string, kind: string, startUtc: string, marginMs: number, code: string | null): Promise<Item[]> {
    const from = utcSeconds(Date.parse(startUtc) - marginMs);
    const to = utcSeconds(Date.parse(startUtc) + marginMs);
    const live = `SELECT items.* FROM items JOIN trips ON trips.id = items.trip_id
      WHERE items.user_id = ? AND items.kind = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL`;
    const rows = kind === 'flight'
      ? await this.sql.all<ItemRow>(`${live} AND items.start_utc BETWEEN ? AND ? ORDER BY items.start_utc, items.created_at`, [userId, kind, from, to])
      : code === null ? []
        : await this.sql.all<ItemRow>(`${live} AND lower(items.confirmation_code) = lower(?) ORDER BY items.start_utc, items.created_at`, [userId, kind, code]);
    return rows.map(toItem);
  }

  /** Id, version and last change of every live item of a user's live trips, in time order: cheap enough to list on every change. */
  userItemRefs(userId: string): Promise<Array<{ id: string; version: number; updatedAt: string }>> {
    return this.sql.all(`SELECT items.id, items.version, items.updated_at AS "updatedAt" FROM items JOIN trips ON trips.id = items.trip_id
        WHERE items.user_id = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL
        ORDER BY items.start_utc, items.created_at`, [userId]);
  }

  /** Per zone pair, the earliest start and latest end of a user's live items: what VTIMEZONEs a feed needs. */
  async userItemZones(userId: string): Promise<Array<{ startTz: string; endTz: string; allDay: boolean; startUtc: string; endUtc: string }>> {
    const rows = await this.sql.all<Pick<ItemRow, 'start_tz' | 'end_tz' | 'all_day' | 'start_utc' | 'end_utc'>>(
      `SELECT items.start_tz, items.end_tz, items.all_day, MIN(items.start_utc) AS start_utc, MAX(items.end_utc) AS end_utc
        FROM items JOIN trips ON trips.id = items.trip_id
        WHERE items.user_id = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL
        GROUP BY items.start_tz, items.end_tz, items.all_day`, [userId]);
    return rows.map((r) => ({ startTz: r.start_tz, endTz: r.end_tz, allDay: r.all_day === 1, startUtc: r.start_utc, endUtc: r.end_utc }));
  }

  /** A trip's extent from its live items (optionally leaving one out), in one query. */
  async tripExtent(tripId: string, exceptItemId = ''): Promise<TripExtent> {
    const live = 'trip_id = ? AND deleted_at IS NULL AND id != ?';
    const row = await this.sql.get<{ flight_tz: string | null; first_tz: string | null; start_utc: string | null; end_utc: string | null }>(`SELECT
        (SELECT end_tz FROM items WHERE ${live} AND kind = 'flight' ORDER BY start_utc, created_at LIMIT 1) AS flight_tz,
        (SELECT start_tz FROM items WHERE ${live} ORDER BY start_utc, created_at LIMIT 1) AS first_tz,
        (SELECT MIN(start_utc) FROM items WHERE ${live}) AS start_utc,
        (SELECT MAX(end_utc) FROM items WHERE ${live}) AS end_utc`, [tripId, exceptItemId, tripId, exceptItemId, tripId, exceptItemId, tripId, exceptItemId]);
    return { firstFlightEndTz: row!.flight_tz, firstItemStartTz: row!.first_tz, startUtc: row!.start_utc, endUtc: row!.end_utc };
  }

  async findItemBySource(userId: string, sourceUid: string): Promise<Item | undefined> {
    const r = await this.sql.get<ItemRow>('SELECT * FROM items WHERE user_id = ? AND source_uid = ? AND deleted_at IS NULL', [userId, sourceUid]);
    return r && toItem(r);
  }

  async insertItem(item: NewItem, at: string): Promise<void> {
    await this.sql.run(`INSERT INTO items (id, trip_id, user_id, kind, data, start_utc, end_utc, start_tz, end_tz, all_day,
        remind_before_hours, confirmation_code, source_uid, version, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
    [item.id, item.tripId, item.userId, item.kind, JSON.stringify(item.details), item.startUtc, item.endUtc,
      item.startTz, item.endTz, item.allDay ? 1 : 0, item.remindBeforeHours, item.confirmationCode, item.sourceUid, at, at]);
  }

  async updateItem(item: Item, at: string): Promise<void> {
    await this.sql.run(`UPDATE items SET trip_id = ?, data = ?, start_utc = ?, end_utc = ?, start_tz = ?, end_tz = ?,
        all_day = ?, remind_before_hours = ?, confirmation_code = ?, version = version + 1, updated_at = ?
      WHERE id = ?`,
    [item.tripId, JSON.stringify(item.details), item.startUtc, item.endUtc, item.startTz, item.endTz,
      item.allDay ? 1 : 0, item.remindBeforeHours, item.confirmationCode, at, item.id]);
  }

  async softDeleteItem(id: string, at: string): Promise<void> {
    await this.sql.run('UPDATE items SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?', [at, at, id]);
  }

  // journal

  async appendJournal(entry: JournalEntry, at: string): Promise<void> {
    await this.sql.run('INSERT INTO journal (at, user_id, trip_id, item_id, action, detail) VALUES (?, ?, ?, ?, ?, ?)',
      [at, entry.userId ?? null, entry.tripId ?? null, entry.itemId ?? null, entry.action, entry.detail ? JSON.stringify(entry.detail) : null]);
  }
}
