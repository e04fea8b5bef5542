// The rows of the built-in authorization server: users' password hashes, registered clients,
// authorization codes and refresh tokens (by their SHA-256 only: nothing here can be presented
// as a credential), and recent failed sign-ins. The daemon's auth server decides; these only
// read and write, each change that must happen once in one statement or transaction.
import type Database from 'better-sqlite3';
import { prepared } from './statements.js';

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
  constructor(private readonly db: Database.Database) {}

  // passwords

  passwordHash(user: string): string | undefined {
    return (prepared(this.db, 'SELECT hash FROM user_passwords WHERE user_id = ?').get(user) as { hash: string } | undefined)?.hash;
  }

  setPasswordHash(user: string, hash: string, at: string): void {
    prepared(this.db, `INSERT INTO user_passwords (user_id, hash, updated_at) VALUES (?, ?, ?)
      ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`).run(user, hash, at);
  }

  /** Removes a user's password; their refresh tokens are revoked with it. True when there was one. */
  deletePassword(user: string, at: string): boolean {
    return this.db.transaction(() => {
      prepared(this.db, 'UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(at, user);
      return prepared(this.db, 'DELETE FROM user_passwords WHERE user_id = ?').run(user).changes === 1;
    }).immediate();
  }

  /** Revokes every refresh token of a user (a new password signs them out everywhere); returns the sign-ins (families) ended. */
  revokeUser(user: string, at: string): number {
    return this.db.transaction(() => {
      const live = (prepared(this.db, `SELECT count(DISTINCT family) AS n FROM oauth_refresh_tokens
        WHERE user_id = ? AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > ?`).get(user, at) as { n: number }).n;
      prepared(this.db, 'UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(at, user);
      return live;
    }).immediate();
  }

  // failed sign-ins

  /** Records a failed sign-in, forgets those before `before`, and says how many remain since `since`. */
  recordFailure(user: string, at: string, since: string): number {
    return this.db.transaction(() => {
      prepared(this.db, 'DELETE FROM sign_in_failures WHERE at < ?').run(since);
      prepared(this.db, 'INSERT INTO sign_in_failures (user_id, at) VALUES (?, ?)').run(user, at);
      return this.failuresSince(user, since);
    }).immediate();
  }

  failuresSince(user: string, since: string): number {
    return (prepared(this.db, 'SELECT count(*) AS n FROM sign_in_failures WHERE user_id = ? AND at >= ?').get(user, since) as { n: number }).n;
  }

  // clients

  client(id: string): ClientRow | undefined {
    return prepared(this.db, 'SELECT * FROM oauth_clients WHERE client_id = ?').get(id) as ClientRow | undefined;
  }

  clientCount(): number {
    return (prepared(this.db, 'SELECT count(*) AS n FROM oauth_clients').get() as { n: number }).n;
  }

  insertClient(row: ClientRow): void {
    prepared(this.db, 'INSERT INTO oauth_clients (client_id, metadata, created_at) VALUES (?, ?, ?)').run(row.client_id, row.metadata, row.created_at);
  }

  // authorization codes

  /** Forgets codes that expired before `before`, then records a new one. */
  insertCode(row: Omit<CodeRow, 'used_at'>, before: string): void {
    prepared(this.db, 'DELETE FROM oauth_codes WHERE expires_at < ?').run(before);
    prepared(this.db, `INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, scope, resource, family, created_at, expires_at)
      VALUES (@code_hash, @client_id, @user_id, @redirect_uri, @code_challenge, @scope, @resource, @family, @created_at, @expires_at)`).run(row);
  }

  code(hash: string): CodeRow | undefined {
    return prepared(this.db, 'SELECT * FROM oauth_codes WHERE code_hash = ?').get(hash) as CodeRow | undefined;
  }

  /** Uses a code up; false when it already was (another request took it first). */
  useCode(hash: string, at: string): boolean {
    return prepared(this.db, 'UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL').run(at, hash).changes === 1;
  }

  // refresh tokens

  insertRefresh(row: Omit<RefreshRow, 'rotated_at' | 'revoked_at'>): void {
    prepared(this.db, `INSERT INTO oauth_refresh_tokens (token_hash, family, client_id, user_id, scope, resource, created_at, expires_at)
      VALUES (@token_hash, @family, @client_id, @user_id, @scope, @resource, @created_at, @expires_at)`).run(row);
  }

  refresh(hash: string): RefreshRow | undefined {
    return prepared(this.db, 'SELECT * FROM oauth_refresh_tokens WHERE token_hash = ?').get(hash) as RefreshRow | undefined;
  }

  /**
   * Replaces a live refresh token by `next` in one transaction; false (and nothing written) when
   * it was rotated or revoked meanwhile.
   */
  rotate(hash: string, next: Omit<RefreshRow, 'rotated_at' | 'revoked_at'>, at: string): boolean {
    return this.db.transaction(() => {
      const changed = prepared(this.db, 'UPDATE oauth_refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL AND revoked_at IS NULL')
        .run(at, hash).changes === 1;
      if (changed) this.insertRefresh(next);
      return changed;
    }).immediate();
  }

  /** Revokes every refresh token of a family (a rotated one came back, or its code was replayed). */
  revokeFamily(family: string, at: string): number {
    return prepared(this.db, 'UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL').run(at, family).changes;
  }

  /** Forgets refresh tokens that expired before `before`. */
  pruneRefresh(before: string): void {
    prepared(this.db, 'DELETE FROM oauth_refresh_tokens WHERE expires_at < ?').run(before);
  }
}
