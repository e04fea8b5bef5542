// The rows of the built-in authorization server: users' password hashes, registered clients,
// authorization codes and refresh tokens (by their SHA-256 only: nothing here can be presented
// as a credential), and recent failed sign-ins. The daemon's auth server decides; these only
// read and write, each change that must happen once in one statement or transaction.
import type { Sql } from './sql.js';

export interface ClientRow {
  client_id: string;
  /** The registered metadata (RFC 7591), JSON. */
  metadata: string;
  created_at: string;
}

export interface CodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  resource: string;
  /** The refresh-token family the code's tokens belong to (revoked if the code comes back). */
  family: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface RefreshRow {
  token_hash: string;
  family: string;
  client_id: string;
  user_id: string;
  scope: string;
  resource: string;
  created_at: string;
  expires_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
}

export class AuthServerRows {
  constructor(private readonly sql: Sql) {}

  // passwords

  async passwordHash(user: string): Promise<string | undefined> {
    return (await this.sql.get<{ hash: string }>('SELECT hash FROM user_passwords WHERE user_id = ?', [user]))?.hash;
  }

  async setPasswordHash(user: string, hash: string, at: string): Promise<void> {
    await this.sql.run(`INSERT INTO user_passwords (user_id, hash, updated_at) VALUES (?, ?, ?)
      ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`, [user, hash, at]);
  }

  /** Removes a user's password; their refresh tokens are revoked with it. True when there was one. */
  deletePassword(user: string, at: string): Promise<boolean> {
    return this.sql.transaction(async () => {
      await this.sql.run('UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL', [at, user]);
      return (await this.sql.run('DELETE FROM user_passwords WHERE user_id = ?', [user])) === 1;
    });
  }

  /** Revokes every refresh token of a user (a new password signs them out everywhere); returns the sign-ins (families) ended. */
  revokeUser(user: string, at: string): Promise<number> {
    return this.sql.transaction(async () => {
      const live = (await this.sql.get<{ n: number }>(`SELECT count(DISTINCT family) AS n FROM oauth_refresh_tokens
        WHERE user_id = ? AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > ?`, [user, at]))!.n;
      await this.sql.run('UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL', [at, user]);
      return live;
    });
  }

  // failed sign-ins

  /** Records a failed sign-in, forgets those before `before`, and says how many remain since `since`. */
  recordFailure(user: string, at: string, since: string): Promise<number> {
    return this.sql.transaction(async () => {
      await this.sql.run('DELETE FROM sign_in_failures WHERE at < ?', [since]);
      await this.sql.run('INSERT INTO sign_in_failures (user_id, at) VALUES (?, ?)', [user, at]);
      return this.failuresSince(user, since);
    });
  }

  async failuresSince(user: string, since: string): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT count(*) AS n FROM sign_in_failures WHERE user_id = ? AND at >= ?', [user, since]))!.n;
  }

  // clients

  client(id: string): Promise<ClientRow | undefined> {
    return this.sql.get<ClientRow>('SELECT * FROM oauth_clients WHERE client_id = ?', [id]);
  }

  async clientCount(): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT count(*) AS n FROM oauth_clients'))!.n;
  }

  async insertClient(row: ClientRow): Promise<void> {
    await this.sql.run('INSERT INTO oauth_clients (client_id, metadata, created_at) VALUES (?, ?, ?)', [row.client_id, row.metadata, row.created_at]);
  }

  // authorization codes

  /** Forgets codes that expired before `before`, then records a new one. */
  async insertCode(row: Omit<CodeRow, 'used_at'>, before: string): Promise<void> {
    await this.sql.run('DELETE FROM oauth_codes WHERE expires_at < ?', [before]);
    await this.sql.run(`INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, scope, resource, family, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.code_hash, row.client_id, row.user_id, row.redirect_uri, row.code_challenge, row.scope, row.resource, row.family, row.created_at, row.expires_at]);
  }

  code(hash: string): Promise<CodeRow | undefined> {
    return this.sql.get<CodeRow>('SELECT * FROM oauth_codes WHERE code_hash = ?', [hash]);
  }

  /** Uses a code up; false when it already was (another request took it first). */
  async useCode(hash: string, at: string): Promise<boolean> {
    return (await this.sql.run('UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL', [at, hash])) === 1;
  }

  // refresh tokens

  async insertRefresh(row: Omit<RefreshRow, 'rotated_at' | 'revoked_at'>): Promise<void> {
    await this.sql.run(`INSERT INTO oauth_refresh_tokens (token_hash, family, client_id, user_id, scope, resource, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [row.token_hash, row.family, row.client_id, row.user_id, row.scope, row.resource, row.created_at, row.expires_at]);
  }

  refresh(hash: string): Promise<RefreshRow | undefined> {
    return this.sql.get<RefreshRow>('SELECT * FROM oauth_refresh_tokens WHERE token_hash = ?', [hash]);
  }

  /**
   * Replaces a live refresh token by `next` in one transaction; false (and nothing written) when
   * it was rotated or revoked meanwhile.
   */
  rotate(hash: string, next: Omit<RefreshRow, 'rotated_at' | 'revoked_at'>, at: string): Promise<boolean> {
    return this.sql.transaction(async () => {
      const changed = (await this.sql.run('UPDATE oauth_refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL AND revoked_at IS NULL',
        [at, hash])) === 1;
      if (changed) await this.insertRefresh(next);
      return changed;
    });
  }

  /** Revokes every refresh token of a family (a rotated one came back, or its code was replayed). */
  revokeFamily(family: string, at: string): Promise<number> {
    return this.sql.run('UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL', [at, family]);
  }

  /** Forgets refresh tokens that expired before `before`. */
  async pruneRefresh(before: string): Promise<void> {
    await this.sql.run('DELETE FROM oauth_refresh_tokens WHERE expires_at < ?', [before]);
  }
}
