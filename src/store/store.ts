// The Store owns the SQLite database: it opens it (WAL, busy timeout, migrations) and maps rows
// to domain records. Everything that edits the model runs inside `transaction`.
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Item, ItemDetails, Trip, User } from '../model/types.js';
import type { TripExtent } from '../trips/span.js';
import { openDatabase } from './database.js';
import { AuthServerRows } from './oauth-server.js';
import { OAuthStateRows, SecretRows } from './secrets.js';
import { SyncStore } from './sync.js';
import { prepared } from './statements.js';

export const DB_FILE = 'tripcal.db';

function utcSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface TripRow {
  id: string; user_id: string; title: string; timezone: string | null; notes: string | null;
  start_date: string | null; end_date: string | null; start_utc: string | null; end_utc: string | null;
  version: number; created_at: string; updated_at: string; deleted_at: string | null;
}

interface ItemRow {
  id: string; trip_id: string; user_id: string; kind: Item['kind']; data: string;
  start_utc: string; end_utc: string; start_tz: string; end_tz: string; all_day: number;
  remind_before_hours: number; confirmation_code: string | null; source_uid: string | null;
  version: number; created_at: string; updated_at: string;
}

interface UserRow { id: string; timezone: string; created_at: string }

function toTrip(r: TripRow): Trip {
  return {
    id: r.id, userId: r.user_id, title: r.title, timezone: r.timezone, notes: r.notes,
    startDate: r.start_date, endDate: r.end_date, startUtc: r.start_utc, endUtc: r.end_utc,
    version: r.version, createdAt: r.created_at, updatedAt: r.updated_at, deletedAt: r.deleted_at,
  };
}

function toItem(r: ItemRow): Item {
  return {
    id: r.id, tripId: r.trip_id, userId: r.user_id, kind: r.kind, details: JSON.parse(r.data),
    startUtc: r.start_utc, endUtc: r.end_utc, startTz: r.start_tz, endTz: r.end_tz, allDay: r.all_day === 1,
    remindBeforeHours: r.remind_before_hours, confirmationCode: r.confirmation_code, sourceUid: r.source_uid,
    version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
  } as Item;
}

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
  private readonly db: Database.Database;
  /** The vault's sealed values and the OAuth sign-ins under way. */
  readonly secrets: SecretRows;
  readonly oauthStates: OAuthStateRows;
  /** Accounts, links and cursors: what sync keeps per calendar. */
  readonly syncRows: SyncStore;
  /** The built-in authorization server's passwords, clients, codes and refresh tokens. */
  readonly authServer: AuthServerRows;

  private constructor(readonly path: string) {
    this.db = openDatabase(path);
    this.secrets = new SecretRows(this.db);
    this.oauthStates = new OAuthStateRows(this.db);
    this.syncRows = new SyncStore(this.db);
    this.authServer = new AuthServerRows(this.db);
  }

  /** Opens the data directory's database, making it when missing; a damaged or newer one is a StoreError. */
  static open(dataDir: string): Store {
    return new Store(join(dataDir, DB_FILE));
  }

  /**
   * A consistent copy of the database at `file`, taken with SQLite's online backup while other
   * processes go on writing (copying tripcal.db alone is not safe: recent writes live in -wal).
   */
  async backup(file: string): Promise<void> {
    await this.db.backup(file);
  }

  /** Live trips and items, for what backup and doctor report. */
  counts(): { trips: number; items: number } {
    const count = (table: string) => (prepared(this.db, `SELECT count(*) AS n FROM ${table} WHERE deleted_at IS NULL`).get() as { n: number }).n;
    return { trips: count('trips'), items: count('items') };
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  /** One trivial query: the database answers (for /healthz). */
  ping(): void {
    prepared(this.db, 'SELECT 1').get();
  }

  /** Runs `fn` as one write transaction (BEGIN IMMEDIATE: no lock upgrade deadlocks between processes). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // users

  getUser(id: string): User | undefined {
    const r = prepared(this.db, 'SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r && { id: r.id, timezone: r.timezone, createdAt: r.created_at };
  }

  insertUser(user: User): void {
    prepared(this.db, 'INSERT INTO users (id, timezone, created_at) VALUES (?, ?, ?)').run(user.id, user.timezone, user.createdAt);
  }

  setUserTimezone(id: string, timezone: string): void {
    prepared(this.db, 'UPDATE users SET timezone = ? WHERE id = ?').run(timezone, id);
  }

  listUsers(): User[] {
    return (prepared(this.db, 'SELECT * FROM users ORDER BY id').all() as UserRow[]).map((r) => ({ id: r.id, timezone: r.timezone, createdAt: r.created_at }));
  }

  // trips

  getTrip(id: string): Trip | undefined {
    const r = prepared(this.db, 'SELECT * FROM trips WHERE id = ? AND deleted_at IS NULL').get(id) as TripRow | undefined;
    return r && toTrip(r);
  }

  listTrips(userId: string): Trip[] {
    const rows = this.db
      .prepare('SELECT * FROM trips WHERE user_id = ? AND deleted_at IS NULL ORDER BY start_utc IS NULL, start_utc, created_at')
      .all(userId) as TripRow[];
    return rows.map(toTrip);
  }

  /** Trips whose span, widened by `marginMs` each side, overlaps [startUtc, endUtc]. */
  tripsOverlapping(userId: string, startUtc: string, endUtc: string, marginMs: number): Trip[] {
    // Stored instants are all `YYYY-MM-DDTHH:MM:SSZ` (see toUtcIso), so text order is time order.
    const from = utcSeconds(Date.parse(startUtc) - marginMs);
    const to = utcSeconds(Date.parse(endUtc) + marginMs);
    const rows = this.db
      .prepare(`SELECT * FROM trips WHERE user_id = ? AND deleted_at IS NULL AND start_utc IS NOT NULL
                AND start_utc <= ? AND end_utc >= ? ORDER BY start_utc`)
      .all(userId, to, from) as TripRow[];
    return rows.map(toTrip);
  }

  insertTrip(trip: Trip): void {
    prepared(this.db, `INSERT INTO trips (id, user_id, title, timezone, notes, start_date, end_date, start_utc, end_utc,
        version, created_at, updated_at, deleted_at)
      VALUES (@id, @userId, @title, @timezone, @notes, @startDate, @endDate, @startUtc, @endUtc, @version, @createdAt, @updatedAt, NULL)`)
      .run(trip);
  }

  updateTrip(trip: Pick<Trip, 'id' | 'title' | 'timezone' | 'notes' | 'startDate' | 'endDate' | 'startUtc' | 'endUtc' | 'updatedAt'>): void {
    prepared(this.db, `UPDATE trips SET title = @title, timezone = @timezone, notes = @notes, start_date = @startDate,
        end_date = @endDate, start_utc = @startUtc, end_utc = @endUtc, updated_at = @updatedAt, version = version + 1
      WHERE id = @id`).run(trip);
  }

  softDeleteTrip(id: string, at: string): void {
    prepared(this.db, 'UPDATE trips SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?').run(at, at, id);
    prepared(this.db, 'UPDATE items SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE trip_id = ? AND deleted_at IS NULL')
      .run(at, at, id);
  }

  // items

  getItem(id: string): Item | undefined {
    const r = prepared(this.db, 'SELECT * FROM items WHERE id = ? AND deleted_at IS NULL').get(id) as ItemRow | undefined;
    return r && toItem(r);
  }

  listItems(tripId: string): Item[] {
    return (prepared(this.db, 'SELECT * FROM items WHERE trip_id = ? AND deleted_at IS NULL ORDER BY start_utc, created_at')
      .all(tripId) as ItemRow[]).map(toItem);
  }

  /** Every live item of a user's live trips, streamed in time order (feeds and exports of many trips). */
  *userItems(userId: string): Generator<Item> {
    const rows = prepared(this.db, `SELECT items.* FROM items JOIN trips ON trips.id = items.trip_id
        WHERE items.user_id = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL
        ORDER BY items.start_utc, items.created_at`).iterate(userId) as IterableIterator<ItemRow>;
    for (const row of rows) yield toItem(row);
  }

  /**
   * Live items of a user's live trips that may be the same booking as a new one: of the same kind
   * and, for a flight, starting within `marginMs` of it; else holding the same confirmation code.
   */
  duplicateCandidates(userId: string, kind: string, startUtc: string, marginMs: number, code: string | null): Item[] {
    const from = new Date(Date.parse(startUtc) - marginMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const to = new Date(Date.parse(startUtc) + marginMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const live = 'items.user_id = ? AND items.kind = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL';
    const rows = kind === 'flight'
      ? prepared(this.db, `SELECT items.* FROM items JOIN trips ON trips.id = items.trip_id
          WHERE ${live} AND items.start_utc BETWEEN ? AND ? ORDER BY items.start_utc, items.created_at`).all(userId, kind, from, to)
      : code === null ? []
        : prepared(this.db, `SELECT items.* FROM items JOIN trips ON trips.id = items.trip_id
          WHERE ${live} AND items.confirmation_code = ? COLLATE NOCASE ORDER BY items.start_utc, items.created_at`).all(userId, kind, code);
    return (rows as ItemRow[]).map(toItem);
  }

  /** Id, version and last change of every live item of a user's live trips, in time order: cheap enough to list on every change. */
  userItemRefs(userId: string): Array<{ id: string; version: number; updatedAt: string }> {
    return prepared(this.db, `SELECT items.id, items.version, items.updated_at AS updatedAt FROM items JOIN trips ON trips.id = items.trip_id
        WHERE items.user_id = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL
        ORDER BY items.start_utc, items.created_at`).all(userId) as Array<{ id: string; version: number; updatedAt: string }>;
  }

  /** Per zone pair, the earliest start and latest end of a user's live items: what VTIMEZONEs a feed needs. */
  userItemZones(userId: string): Array<{ startTz: string; endTz: string; allDay: boolean; startUtc: string; endUtc: string }> {
    return (prepared(this.db, `SELECT items.start_tz, items.end_tz, items.all_day, MIN(items.start_utc) AS start_utc, MAX(items.end_utc) AS end_utc
        FROM items JOIN trips ON trips.id = items.trip_id
        WHERE items.user_id = ? AND items.deleted_at IS NULL AND trips.deleted_at IS NULL
        GROUP BY items.start_tz, items.end_tz, items.all_day`).all(userId) as Array<Pick<ItemRow, 'start_tz' | 'end_tz' | 'all_day' | 'start_utc' | 'end_utc'>>)
      .map((r) => ({ startTz: r.start_tz, endTz: r.end_tz, allDay: r.all_day === 1, startUtc: r.start_utc, endUtc: r.end_utc }));
  }

  /** A trip's extent from its live items (optionally leaving one out), in one query. */
  tripExtent(tripId: string, exceptItemId = ''): TripExtent {
    const live = 'trip_id = @tripId AND deleted_at IS NULL AND id != @except';
    const row = prepared(this.db, `SELECT
        (SELECT end_tz FROM items WHERE ${live} AND kind = 'flight' ORDER BY start_utc, created_at LIMIT 1) AS flight_tz,
        (SELECT start_tz FROM items WHERE ${live} ORDER BY start_utc, created_at LIMIT 1) AS first_tz,
        (SELECT MIN(start_utc) FROM items WHERE ${live}) AS start_utc,
        (SELECT MAX(end_utc) FROM items WHERE ${live}) AS end_utc`)
      .get({ tripId, except: exceptItemId }) as { flight_tz: string | null; first_tz: string | null; start_utc: string | null; end_utc: string | null };
    return { firstFlightEndTz: row.flight_tz, firstItemStartTz: row.first_tz, startUtc: row.start_utc, endUtc: row.end_utc };
  }

  findItemBySource(userId: string, sourceUid: string): Item | undefined {
    const r = prepared(this.db, 'SELECT * FROM items WHERE user_id = ? AND source_uid = ? AND deleted_at IS NULL')
      .get(userId, sourceUid) as ItemRow | undefined;
    return r && toItem(r);
  }

  insertItem(item: NewItem, at: string): void {
    prepared(this.db, `INSERT INTO items (id, trip_id, user_id, kind, data, start_utc, end_utc, start_tz, end_tz, all_day,
        remind_before_hours, confirmation_code, source_uid, version, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`)
      .run(item.id, item.tripId, item.userId, item.kind, JSON.stringify(item.details), item.startUtc, item.endUtc,
        item.startTz, item.endTz, item.allDay ? 1 : 0, item.remindBeforeHours, item.confirmationCode, item.sourceUid, at, at);
  }

  updateItem(item: Item, at: string): void {
    prepared(this.db, `UPDATE items SET trip_id = ?, data = ?, start_utc = ?, end_utc = ?, start_tz = ?, end_tz = ?,
        all_day = ?, remind_before_hours = ?, confirmation_code = ?, version = version + 1, updated_at = ?
      WHERE id = ?`)
      .run(item.tripId, JSON.stringify(item.details), item.startUtc, item.endUtc, item.startTz, item.endTz,
        item.allDay ? 1 : 0, item.remindBeforeHours, item.confirmationCode, at, item.id);
  }

  softDeleteItem(id: string, at: string): void {
    prepared(this.db, 'UPDATE items SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?').run(at, at, id);
  }

  // journal

  appendJournal(entry: JournalEntry, at: string): void {
    prepared(this.db, 'INSERT INTO journal (at, user_id, trip_id, item_id, action, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(at, entry.userId ?? null, entry.tripId ?? null, entry.itemId ?? null, entry.action,
        entry.detail ? JSON.stringify(entry.detail) : null);
  }
}
