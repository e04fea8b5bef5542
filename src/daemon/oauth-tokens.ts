// The token endpoint of the built-in authorization server (RFC 6749 §4.1.3, §6): a code is
// good once (presented again, what it gave is revoked), with its PKCE verifier; a refresh token
// is replaced on each use, and one already replaced coming back revokes its whole family (OAuth
// 2.1 §4.3.1). Access tokens are JWTs (RFC 9068) for this server's resource alone (RFC 8707).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, type CryptoKey } from 'jose';
import { log } from '../log.js';
import type { AuthServerRows, CodeRow, RefreshRow } from '../store/oauth-server.js';
import type { Clients } from './oauth-clients.js';
import { iso, json, MAX_FORM, OAuthFailure, random, readText, sameText, sha256, type AuthServerSettings } from './oauth-common.js';

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export class TokenEndpoint {
  constructor(
    private readonly rows: AuthServerRows,
    private readonly clients: Clients,
    private readonly settings: AuthServerSettings,
    private readonly signingKey: CryptoKey,
    private readonly kid: string,
    private readonly now: () => number,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    try {
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
        throw new OAuthFailure('invalid_request', 'the token request is application/x-www-form-urlencoded');
      }
      const text = await readText(req);
      if (text === null) throw new OAuthFailure('invalid_request', `the token request is over ${MAX_FORM} bytes`);
      const form = new URLSearchParams(text);
      const tokens = await this.grant(form, this.clientIdOf(req, form));
      json(res, 200, tokens, { ...headers, pragma: 'no-cache' });
    } catch (error) {
      if (!(error instanceof OAuthFailure)) throw error;
      json(res, error.status, { error: error.code, error_description: error.message }, headers);
    }
  }

  /**
   * A token request, checked and answered: an authorization code or a refresh token traded for
   * tokens, or an OAuthFailure. The HTTP endpoint's, and the status page's own sign-in's.
   */
  async grant(form: URLSearchParams, clientId = form.get('client_id') ?? undefined): Promise<Record<string, unknown>> {
    const client = await this.clients.get(clientId);
    if (!clientId || !client) throw new OAuthFailure('invalid_client', 'unknown client_id', 401);
    const resources = form.getAll('resource');
    if (resources.some((r) => r !== this.settings.resource)) throw new OAuthFailure('invalid_target', `tokens are issued for ${this.settings.resource} only`);
    const grant = form.get('grant_type');
    if (!grant || !client.grant_types.includes(grant)) {
      throw new OAuthFailure(grant === 'authorization_code' || grant === 'refresh_token' ? 'unauthorized_client' : 'unsupported_grant_type', `grant_type "${grant ?? ''}" is not offered to this client`);
    }
    return grant === 'authorization_code' ? this.exchangeCode(form, clientId) : this.refresh(form, clientId);
  }

  /** The client_id of the body, or of HTTP Basic (a client that sends one with an empty secret). */
  private clientIdOf(req: IncomingMessage, form: URLSearchParams): string | undefined {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (basic) {
      const id = decodeURIComponent(Buffer.from(basic, 'base64').toString('utf8').split(':')[0] ?? '');
      const fromBody = form.get('client_id');
      if (fromBody && fromBody !== id) throw new OAuthFailure('invalid_request', 'two different client_ids');
      return id;
    }
    return form.get('client_id') ?? undefined;
  }

  private async exchangeCode(form: URLSearchParams, clientId: string): Promise<Record<string, unknown>> {
    const code = form.get('code');
    if (!code) throw new OAuthFailure('invalid_request', 'code is missing');
    const hash = sha256(code);
    const row = await this.rows.code(hash);
    if (!row) throw new OAuthFailure('invalid_grant', 'the code is not known (or expired long ago)');
    const at = this.now();
    // Used up on first presentation, whatever follows: a code is worth one try (RFC 6749 §4.1.2).
    if (!(await this.rows.useCode(hash, iso(at)))) {
      const revoked = await this.rows.revokeFamily(row.family, iso(at));
      log.warn('an authorization code was presented again; what it gave is revoked', { client_id: row.client_id, revoked });
      throw new OAuthFailure('invalid_grant', 'the code was already used');
    }
    if (Date.parse(row.expires_at) <= at) throw new OAuthFailure('invalid_grant', 'the code has expired');
    if (row.client_id !== clientId) throw new OAuthFailure('invalid_grant', 'the code was issued to another client');
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== null && redirectUri !== row.redirect_uri) throw new OAuthFailure('invalid_grant', 'redirect_uri is not the one of the authorization request');
    const verifier = form.get('code_verifier');
    if (!verifier) throw new OAuthFailure('invalid_request', 'code_verifier is missing (PKCE is required)');
    if (!VERIFIER.test(verifier)) throw new OAuthFailure('invalid_grant', 'code_verifier is not 43–128 unreserved characters (RFC 7636)');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!sameText(challenge, row.code_challenge)) throw new OAuthFailure('invalid_grant', 'code_verifier does not match the code_challenge');
    if (form.getAll('resource').some((r) => r !== row.resource)) throw new OAuthFailure('invalid_target', 'resource is not the one of the authorization request');
    return this.issue(row, row.family, null, at);
  }

  private async refresh(form: URLSearchParams, clientId: string): Promise<Record<string, unknown>> {
    const token = form.get('refresh_token');
    if (!token) throw new OAuthFailure('invalid_request', 'refresh_token is missing');
    const hash = sha256(token);
    const row = await this.rows.refresh(hash);
    const at = this.now();
    if (!row) throw new OAuthFailure('invalid_grant', 'the refresh token is not known');
    if (row.client_id !== clientId) throw new OAuthFailure('invalid_grant', 'the refresh token was issued to another client');
    if (row.revoked_at) throw new OAuthFailure('invalid_grant', 'the refresh token was revoked');
    if (row.rotated_at) {
      // Someone holds a copy of a token already replaced: the whole line of tokens goes.
      const revoked = await this.rows.revokeFamily(row.family, iso(at));
      log.warn('a rotated refresh token was presented again; its family is revoked', { client_id: row.client_id, user: row.user_id, revoked });
      throw new OAuthFailure('invalid_grant', 'the refresh token was already used; sign in again');
    }
    if (Date.parse(row.expires_at) <= at) throw new OAuthFailure('invalid_grant', 'the refresh token has expired; sign in again');
    const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const granted = row.scope.split(' ');
    if (asked.some((s) => !granted.includes(s))) throw new OAuthFailure('invalid_scope', `the refresh token was granted "${row.scope}" only`);
    const scope = asked.length ? granted.filter((s) => asked.includes(s)).join(' ') : row.scope;
    return this.issue({ ...row, scope }, row.family, hash, at);
  }

  /** An access token and a new refresh token; `replaces`: the refresh token rotated out. */
  private async issue(grant: Pick<CodeRow | RefreshRow, 'client_id' | 'user_id' | 'scope' | 'resource'>, family: string, replaces: string | null, at: number): Promise<Record<string, unknown>> {
    if ((await this.rows.passwordHash(grant.user_id)) === undefined) throw new OAuthFailure('invalid_grant', 'the user can no longer sign in (no password)');
    const expiresIn = this.settings.accessTokenMinutes * 60;
    const accessToken = await new SignJWT({ scope: grant.scope, client_id: grant.client_id })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'at+jwt' })
      .setIssuer(this.settings.issuer).setAudience(grant.resource).setSubject(grant.user_id)
      .setIssuedAt(Math.floor(at / 1000)).setExpirationTime(Math.floor(at / 1000) + expiresIn).setJti(random(16))
      .sign(this.signingKey);
    const tokens: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope: grant.scope };
    const client = await this.clients.get(grant.client_id);
    if (client?.grant_types.includes('refresh_token')) {
      const refreshToken = random();
      const next = {
        token_hash: sha256(refreshToken), family, client_id: grant.client_id, user_id: grant.user_id, scope: grant.scope, resource: grant.resource,
        created_at: iso(at), expires_at: iso(at + this.settings.refreshTokenDays * 86_400_000),
      };
      if (replaces === null) {
        await this.rows.pruneRefresh(iso(at));
        await this.rows.insertRefresh(next);
      } else if (!(await this.rows.rotate(replaces, next, iso(at)))) {
        // Another request rotated it between our read and now: the same token used twice.
        await this.rows.revokeFamily(family, iso(at));
        throw new OAuthFailure('invalid_grant', 'the refresh token was already used; sign in again');
      }
      tokens.refresh_token = refreshToken;
    }
    return tokens;
  }
}
