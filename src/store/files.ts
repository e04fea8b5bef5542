// Database files other than the open model: a backup looked at before it is restored, the model
// a restore would replace, and a staged copy whose secrets are left out. All SQL stays here.
import Database from 'better-sqlite3';
import { StoreError } from './database.js';
import { MIGRATIONS } from './migrations.js';
import { SecretRows } from './secrets.js';
import { SqliteSql } from './sqlite.js';

export interface Inspected<K> {
  trips: number;
  items: number;
  version: number;
  /** What `secrets` made of the backup's sealed values (the caller holds the key). */
  secrets: K;
}

/** The backup at `file` as it is, or a StoreError naming what is wrong with it. Opened read-only. */
export async function inspectBackup<K>(file: string, secrets: (rows: SecretRows) => Promise<K>): Promise<Inspected<K>> {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check') as Array<{ quick_check: string }>;
    if (check[0]?.quick_check !== 'ok') throw new StoreError(file, `the backup is damaged (${check[0]?.quick_check}); nothing was changed`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StoreError(file, `the backup has schema version ${version}, made by a newer tripcal (this one knows up to ${MIGRATIONS.length}); restore it with that version. Nothing was changed`);
    }
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    if (!['trips', 'items', 'secrets'].every((t) => tables.includes(t))) throw new StoreError(file, 'is not a tripcal backup (no trips, items and secrets tables); nothing was changed');
    const count = (table: string) => (db!.prepare(`SELECT count(*) AS n FROM ${table} WHERE deleted_at IS NULL`).get() as { n: number }).n;
    return { trips: count('trips'), items: count('items'), version, secrets: await secrets(new SecretRows(SqliteSql.over(db, file))) };
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new StoreError(file, `cannot be read as a tripcal backup (${code}); nothing was changed`);
  } finally {
    db?.close();
  }
}

/** Live trips in the database at `path`: -1 when it is there but cannot be read. */
export function liveTrips(path: string): number {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM trips WHERE deleted_at IS NULL').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return -1;
  }
}

/** Leaves every secret and sign-in out of the (staged, not yet open) database at `path`. */
export function dropSecrets(path: string): void {
  const db = new Database(path);
  try {
    db.exec('DELETE FROM secrets; DELETE FROM oauth_states;');
  } finally {
    db.close();
  }
}
