// The rows the vault keeps: each secret's sealed value by name (the vault encrypts and decrypts;
// nothing here ever sees plain text), and the OAuth sign-ins under way.
import type Database from 'better-sqlite3';
import { prepared } from './statements.js';

export class SecretRows {
  constructor(private readonly db: Database.Database) {}

  value(name: string): string | undefined {
    return (prepared(this.db, 'SELECT value FROM secrets WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  }

  has(name: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM secrets WHERE name = ?').get(name) !== undefined;
  }

  /** Secrets stored, not counting `except` (the vault's key check). */
  countExcept(except: string): number {
    return (prepared(this.db, 'SELECT count(*) AS n FROM secrets WHERE name != ?').get(except) as { n: number }).n;
  }

  put(name: string, sealed: string): void {
    prepared(this.db, `INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`).run(name, sealed, new Date().toISOString());
  }

  /** Stores `sealed` under `name` unless another process got there first. */
  putIfAbsent(name: string, sealed: string): void {
    prepared(this.db, 'INSERT OR IGNORE INTO secrets (name, value, updated_at) VALUES (?, ?, ?)').run(name, sealed, new Date().toISOString());
  }

  delete(name: string): void {
    prepared(this.db, 'DELETE FROM secrets WHERE name = ?').run(name);
  }

  /**
   * Deletes, in one transaction, every secret whose name `doomed` picks, and with `signIns` the
   * OAuth sign-ins under way too (their verifiers are sealed with the same key). Returns the names.
   */
  remove(doomed: (name: string) => boolean, signIns: boolean): string[] {
    return this.db.transaction(() => {
      const names = (prepared(this.db, 'SELECT name FROM secrets ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name).filter(doomed);
      for (const name of names) this.delete(name);
      if (signIns) prepared(this.db, 'DELETE FROM oauth_states').run();
      return names;
    }).immediate();
  }
}

/** One OAuth sign-in under way, by the hash of its state. */
export interface OAuthStateRow {
  user_id: string;
  provider: string;
  account: string;
  calendar: string;
  redirect_uri: string;
  verifier: string;
  expires_at: string;
  used_at: string | null;
}

export class OAuthStateRows {
  constructor(private readonly db: Database.Database) {}

  /** Forgets sign-ins that expired before `before`, then records a new one. */
  insert(hash: string, row: Omit<OAuthStateRow, 'used_at'> & { created_at: string }, before: string): void {
    prepared(this.db, 'DELETE FROM oauth_states WHERE expires_at < ?').run(before);
    prepared(this.db, `INSERT INTO oauth_states (state_hash, user_id, provider, account, calendar, redirect_uri, verifier, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(hash, row.user_id, row.provider, row.account, row.calendar, row.redirect_uri, row.verifier, row.created_at, row.expires_at);
  }

  find(hash: string): OAuthStateRow | undefined {
    return prepared(this.db, 'SELECT * FROM oauth_states WHERE state_hash = ?').get(hash) as OAuthStateRow | undefined;
  }

  /** Uses the sign-in up; false when it already was (another request took it first). */
  markUsed(hash: string, at: string): boolean {
    return prepared(this.db, 'UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL').run(at, hash).changes === 1;
  }
}
