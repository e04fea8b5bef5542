// The rows the vault keeps: each secret's sealed value by name (the vault encrypts and decrypts;
// nothing here ever sees plain text), and the OAuth sign-ins under way.
import type { Sql } from './sql.js';

export class SecretRows {
  constructor(private readonly sql: Sql) {}

  async value(name: string): Promise<string | undefined> {
    return (await this.sql.get<{ value: string }>('SELECT value FROM secrets WHERE name = ?', [name]))?.value;
  }

  async has(name: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS one FROM secrets WHERE name = ?', [name])) !== undefined;
  }

  /** Secrets stored, not counting `except` (the vault's key check). */
  async countExcept(except: string): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT count(*) AS n FROM secrets WHERE name != ?', [except]))!.n;
  }

  async put(name: string, sealed: string): Promise<void> {
    await this.sql.run(`INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, [name, sealed, new Date().toISOString()]);
  }

  /** Stores `sealed` under `name` unless another process got there first. */
  async putIfAbsent(name: string, sealed: string): Promise<void> {
    await this.sql.run('INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING', [name, sealed, new Date().toISOString()]);
  }

  async delete(name: string): Promise<void> {
    await this.sql.run('DELETE FROM secrets WHERE name = ?', [name]);
  }

  /**
   * Deletes, in one transaction, every secret whose name `doomed` picks, and with `signIns` the
   * OAuth sign-ins under way too (their verifiers are sealed with the same key). Returns the names.
   */
  remove(doomed: (name: string) => boolean, signIns: boolean): Promise<string[]> {
    return this.sql.transaction(async () => {
      const names = (await this.sql.all<{ name: string }>('SELECT name FROM secrets ORDER BY name')).map((r) => r.name).filter(doomed);
      for (const name of names) await this.delete(name);
      if (signIns) await this.sql.run('DELETE FROM oauth_states');
      return names;
    });
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
  constructor(private readonly sql: Sql) {}

  /** Forgets sign-ins that expired before `before`, then records a new one. */
  async insert(hash: string, row: Omit<OAuthStateRow, 'used_at'> & { created_at: string }, before: string): Promise<void> {
    await this.sql.run('DELETE FROM oauth_states WHERE expires_at < ?', [before]);
    await this.sql.run(`INSERT INTO oauth_states (state_hash, user_id, provider, account, calendar, redirect_uri, verifier, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [hash, row.user_id, row.provider, row.account, row.calendar, row.redirect_uri, row.verifier, row.created_at, row.expires_at]);
  }

  find(hash: string): Promise<OAuthStateRow | undefined> {
    return this.sql.get<OAuthStateRow>('SELECT * FROM oauth_states WHERE state_hash = ?', [hash]);
  }

  /** Uses the sign-in up; false when it already was (another request took it first). */
  async markUsed(hash: string, at: string): Promise<boolean> {
    return (await this.sql.run('UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL', [at, hash])) === 1;
  }
}
