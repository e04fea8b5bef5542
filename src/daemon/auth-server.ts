// tripcal's own OAuth 2.1 authorization server, for self-hosters without an identity provider
// (http.auth.builtin): a person signs in as one of the users on a sign-in and consent page
// (password set with `tripcal user passwd`), and the MCP client gets short-lived access tokens
// for /mcp and rotating refresh tokens.
//
//   metadata       RFC 8414 at /.well-known/oauth-authorization-server (exact issuer, S256 only,
//                  RFC 9207 `iss` in responses); keys at /.well-known/jwks.json
//   /register      RFC 7591 dynamic registration of public clients (no secret): redirect URIs
//                  must be https, or http on a loopback address (RFC 8252 §7.3), matched exactly
//   /authorize     the authorization code grant with PKCE (RFC 7636, S256 only); the form's CSRF
//                  token is bound to the browser (a cookie) and to the request (an HMAC over both)
//   /token         authorization_code (single-use codes; a code presented twice revokes what it
//                  gave) and refresh_token (each use rotates it; a rotated one presented again
//                  revokes its whole family: OAuth 2.1 §4.3.1)
//
// Access tokens are JWTs (RFC 9068) signed ES256 with a key kept in the vault, for this server's
// resource alone (RFC 8707: `resource` naming anything else is refused), with the scopes
// tripcal:read / tripcal:write and the user as `sub`; /mcp checks them with the same code as an
// external provider's (access-tokens.ts). Codes and refresh tokens are stored as SHA-256 only.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { checkPassword } from '../auth/passwords.js';
import type { Vault } from '../auth/vault.js';
import { USER_ID } from '../config/schema.js';
import { log } from '../log.js';
import type { AuthServerRows, CodeRow, RefreshRow } from '../store/oauth-server.js';
import { AccessTokens, READ_SCOPE, WRITE_SCOPE } from './access-tokens.js';
import { sendProblem, sendSignIn } from './sign-in-page.js';

/** The vault name of the signing key (a private JWK). */
export const SIGNING_KEY_SECRET = 'auth-server:signing-key';

const CODE_TTL_MS = 2 * 60 * 1000;
/** How long a sign-in page may be left open before its form is refused. */
const REQUEST_TTL_MS = 10 * 60 * 1000;
/** Failed sign-ins per user name per minute before further tries are refused. */
export const MAX_FAILURES_PER_MINUTE = 5;
const MAX_CLIENTS = 10_000;
const MAX_FORM = 64 * 1024;
const SCOPES = [READ_SCOPE, WRITE_SCOPE];
const SCOPE_WORDS: Record<string, string> = {
  [READ_SCOPE]: 'read your trips, bookings and calendar sync status',
  [WRITE_SCOPE]: 'add, change and delete your trips and bookings, and sync them to your calendars',
};
const WRONG_PASSWORD = 'The user name or password is not right.';
const COOKIE = 'tripcal_signin';

export interface AuthServerSettings {
  /** The issuer: http.public_url, or the loopback address the daemon listens on; no trailing slash. */
  issuer: string;
  /** The one resource tokens are for: <issuer>/mcp. */
  resource: string;
  accessTokenMinutes: number;
  refreshTokenDays: number;
}

/** What a registered client said about itself (RFC 7591), as stored. */
interface ClientMetadata {
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'none';
  scope?: string;
  software_id?: string;
  software_version?: string;
}

/** An authorization request, checked, as the sign-in form carries it (signed). */
interface AuthorizationRequest {
  client_id: string;
  redirect_uri: string;
  state?: string | undefined;
  code_challenge: string;
  scope: string;
  resource: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}

class OAuthFailure extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const random = (bytes = 32) => randomBytes(bytes).toString('base64url');
const iso = (ms: number) => new Date(ms).toISOString();
/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

async function readText(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** A redirect URI a client may register: https, or http on loopback; absolute, no fragment. */
function redirectProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri.length > 2000) return 'each redirect URI is a string of at most 2000 characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri.slice(0, 100)}" is not an absolute URL`;
  }
  if (url.hash || uri.includes('#')) return `"${uri}" has a fragment (RFC 6749 §3.1.2)`;
  if (url.username || url.password) return `"${uri}" carries credentials`;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return `"${uri}" is neither https nor http on a loopback address (127.0.0.1, [::1], localhost)`;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AuthServer {
  /** How /mcp checks this server's tokens: the shared verification, with the local key. */
  readonly accessTokens: AccessTokens;
  private readonly csrfKey: Buffer;
  private readonly issuerUrl: URL;

  private constructor(
    private readonly rows: AuthServerRows,
    vault: Vault,
    readonly settings: AuthServerSettings,
    private readonly signingKey: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly now: () => number,
  ) {
    this.accessTokens = new AccessTokens({
      issuer: settings.issuer, audience: settings.resource, userClaim: 'sub', typ: 'at+jwt',
      keys: createLocalJWKSet({ keys: [publicJwk] }),
    });
    this.csrfKey = vault.derivedKey('auth-server:csrf');
    this.issuerUrl = new URL(settings.issuer);
  }

  /** The server, with its signing key from the vault (made on first use; every process of the data directory shares it). */
  static async open(rows: AuthServerRows, vault: Vault, settings: AuthServerSettings, now: () => number = Date.now): Promise<AuthServer> {
    let stored = vault.get(SIGNING_KEY_SECRET);
    if (stored === null) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(pair.privateKey);
      stored = vault.setIfAbsent(SIGNING_KEY_SECRET, JSON.stringify({ ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256' }));
    }
    const jwk = JSON.parse(stored) as JWK;
    const key = await importJWK(jwk, 'ES256') as CryptoKey;
    const publicJwk: JWK = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y!, kid: jwk.kid!, alg: 'ES256', use: 'sig' };
    return new AuthServer(rows, vault, settings, key, publicJwk, now);
  }

  private endpoint(path: string): string {
    return `${this.settings.issuer}${path}`;
  }

  /** RFC 8414 authorization server metadata. */
  metadata(): Record<string, unknown> {
    return {
      issuer: this.settings.issuer,
      authorization_endpoint: this.endpoint('/authorize'),
      token_endpoint: this.endpoint('/token'),
      registration_endpoint: this.endpoint('/register'),
      jwks_uri: this.endpoint('/.well-known/jwks.json'),
      scopes_supported: SCOPES,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['none'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /** Answers the request when it is one of this server's; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const issuerPath = this.issuerUrl.pathname.replace(/\/$/, '');
    const open = { 'access-control-allow-origin': '*' };
    if ((path === '/.well-known/oauth-authorization-server' || (issuerPath && path === `/.well-known/oauth-authorization-server${issuerPath}`)) && req.method === 'GET') {
      json(res, 200, this.metadata(), { ...open, 'cache-control': 'max-age=3600' });
      return true;
    }
    if (path === '/.well-known/jwks.json' && req.method === 'GET') {
      json(res, 200, { keys: [this.publicJwk] }, { ...open, 'cache-control': 'max-age=600' });
      return true;
    }
    if ((path === '/token' || path === '/register') && req.method === 'OPTIONS') {
      // Clients running in a browser call these cross-origin; nothing here relies on cookies.
      res.writeHead(204, { ...open, 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'content-type, authorization', 'access-control-max-age': '600' }).end();
      return true;
    }
    if (path === '/register' && req.method === 'POST') {
      await this.register(req, res, open);
      return true;
    }
    if (path === '/token' && req.method === 'POST') {
      await this.token(req, res, open);
      return true;
    }
    if (path === '/authorize' && req.method === 'GET') {
      this.authorizePage(req, res, new URL(req.url ?? '/', 'http://localhost').searchParams);
      return true;
    }
    if (path === '/authorize' && req.method === 'POST') {
      await this.signIn(req, res);
      return true;
    }
    if (['/register', '/token', '/authorize'].includes(path)) {
      json(res, 405, { error: 'invalid_request', error_description: `${req.method} is not supported here` });
      return true;
    }
    return false;
  }

  // registration (RFC 7591)

  private async register(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const text = await readText(req);
    let body: Record<string, unknown>;
    try {
      if (text === null) throw new OAuthFailure('invalid_client_metadata', `the registration is over ${MAX_FORM} bytes`);
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OAuthFailure('invalid_client_metadata', 'the registration is a JSON object');
      body = parsed as Record<string, unknown>;
      const metadata = this.clientMetadata(body);
      if (this.rows.clientCount() >= MAX_CLIENTS) throw new OAuthFailure('invalid_client_metadata', `this server holds ${MAX_CLIENTS} client registrations, its limit`);
      const clientId = `tc-${random(18)}`;
      const issuedAt = this.now();
      this.rows.insertClient({ client_id: clientId, metadata: JSON.stringify(metadata), created_at: iso(issuedAt) });
      log.info('an OAuth client registered', { client_id: clientId, redirect_uris: metadata.redirect_uris.length });
      json(res, 201, { client_id: clientId, client_id_issued_at: Math.floor(issuedAt / 1000), ...metadata }, headers);
    } catch (error) {
      if (error instanceof SyntaxError) {
        json(res, 400, { error: 'invalid_client_metadata', error_description: 'the registration is not JSON' }, headers);
        return;
      }
      if (!(error instanceof OAuthFailure)) throw error;
      json(res, 400, { error: error.code, error_description: error.message }, headers);
    }
  }

  private clientMetadata(body: Record<string, unknown>): ClientMetadata {
    const uris = body.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10) throw new OAuthFailure('invalid_redirect_uri', 'redirect_uris: one to ten redirect URIs');
    for (const uri of uris) {
      const problem = redirectProblem(uri);
      if (problem) throw new OAuthFailure('invalid_redirect_uri', problem);
    }
    const grants = body.grant_types === undefined ? ['authorization_code', 'refresh_token'] : body.grant_types;
    if (!Array.isArray(grants) || grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token') || !grants.includes('authorization_code')) {
      throw new OAuthFailure('invalid_client_metadata', 'grant_types: authorization_code, and refresh_token if wanted (no other grant is offered)');
    }
    const responses = body.response_types === undefined ? ['code'] : body.response_types;
    if (!Array.isArray(responses) || responses.some((r) => r !== 'code')) throw new OAuthFailure('invalid_client_metadata', 'response_types: only "code"');
    const text = (value: unknown, max: number) => (typeof value === 'string' ? value.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, max) : undefined);
    const metadata: ClientMetadata = {
      redirect_uris: uris as string[],
      grant_types: [...new Set(grants as string[])],
      response_types: ['code'],
      // Public clients only (RFC 7591 §3.2.1 lets the server say what it registered instead):
      // a secret kept by an assistant's client would protect nothing PKCE does not.
      token_endpoint_auth_method: 'none',
    };
    const name = text(body.client_name, 100);
    if (name) metadata.client_name = name;
    const scope = text(body.scope, 200);
    if (scope) metadata.scope = scope;
    const softwareId = text(body.software_id, 100);
    if (softwareId) metadata.software_id = softwareId;
    const softwareVersion = text(body.software_version, 50);
    if (softwareVersion) metadata.software_version = softwareVersion;
    return metadata;
  }

  private client(id: string | undefined): ClientMetadata | undefined {
    if (!id || id.length > 200) return undefined;
    const row = this.rows.client(id);
    return row ? JSON.parse(row.metadata) as ClientMetadata : undefined;
  }

  // authorization (RFC 6749 §4.1, RFC 7636, RFC 9207)

  /**
   * The checked request, or a refusal: `redirect` when the client and redirect URI are known (the
   * error goes back to the client), else a page (nothing may be sent to an unchecked address).
   */
  private checkRequest(params: URLSearchParams): { request: AuthorizationRequest; client: ClientMetadata } | { page: string } | { redirect: string; error: string; description: string; state?: string | undefined } {
    const clientId = params.get('client_id') ?? undefined;
    const client = this.client(clientId);
    if (!client) return { page: clientId ? 'The application is not registered with this tripcal (unknown client_id).' : 'The request names no application (client_id is missing).' };
    const given = params.get('redirect_uri');
    const redirectUri = given ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0]! : undefined);
    // Exact string comparison (OAuth 2.1 §4.1.1): no prefix, no normalization.
    if (!redirectUri || !client.redirect_uris.includes(redirectUri)) {
      return { page: given ? 'The address to return to (redirect_uri) is not one the application registered.' : 'The request names no address to return to (redirect_uri).' };
    }
    const state = params.get('state') ?? undefined;
    const refuse = (error: string, description: string) => ({ redirect: redirectUri, error, description, state });
    if (params.get('response_type') !== 'code') return refuse('unsupported_response_type', 'only response_type=code is supported');
    const challenge = params.get('code_challenge');
    if (!challenge) return refuse('invalid_request', 'code_challenge is required (PKCE with S256)');
    // RFC 7636 §4.3: no method means plain, which is not offered.
    if (params.get('code_challenge_method') !== 'S256') return refuse('invalid_request', 'code_challenge_method must be S256 (plain is not supported)');
    if (!CHALLENGE.test(challenge)) return refuse('invalid_request', 'code_challenge is not a base64url SHA-256 (43 characters)');
    const resources = params.getAll('resource');
    if (resources.some((r) => r !== this.settings.resource)) return refuse('invalid_target', `tokens are issued for ${this.settings.resource} only`);
    const asked = (params.get('scope') ?? '').split(' ').filter(Boolean);
    // Scopes of other servers (openid, offline_access) are left out, not refused (RFC 6749 §3.3).
    const scope = asked.length === 0 ? SCOPES : SCOPES.filter((s) => asked.includes(s));
    if (scope.length === 0) return refuse('invalid_scope', `ask for ${READ_SCOPE} and/or ${WRITE_SCOPE}`);
    if (client.grant_types && !client.grant_types.includes('authorization_code')) return refuse('unauthorized_client', 'the client did not register for authorization_code');
    return {
      client,
      request: {
        client_id: clientId!, redirect_uri: redirectUri, state, code_challenge: challenge, scope: scope.join(' '), resource: this.settings.resource,
        exp: this.now() + REQUEST_TTL_MS,
      },
    };
  }

  /** Where the browser goes back to the client: the redirect URI with the answer and `iss` (RFC 9207). */
  private back(redirectUri: string, params: Record<string, string | undefined>): string {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries({ ...params, iss: this.settings.issuer })) if (value !== undefined) url.searchParams.set(name, value);
    return url.href;
  }

  private csrfFor(cookie: string, request: string): string {
    return createHmac('sha256', this.csrfKey).update(`${cookie}.${request}`).digest('base64url');
  }

  private sealRequest(request: AuthorizationRequest): string {
    const body = Buffer.from(JSON.stringify(request)).toString('base64url');
    return `${body}.${createHmac('sha256', this.csrfKey).update(`request.${body}`).digest('base64url')}`;
  }

  private openRequest(sealed: string): AuthorizationRequest | null {
    const [body, mac] = sealed.split('.');
    if (!body || !mac || !sameText(mac, createHmac('sha256', this.csrfKey).update(`request.${body}`).digest('base64url'))) return null;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AuthorizationRequest;
    } catch {
      return null;
    }
  }

  private form(res: ServerResponse, status: number, request: AuthorizationRequest, client: ClientMetadata, cookie: string, extra: { user?: string; error?: string; setCookie?: boolean } = {}): void {
    const sealed = this.sealRequest(request);
    const redirect = new URL(request.redirect_uri);
    const secure = this.issuerUrl.protocol === 'https:' ? '; Secure' : '';
    const path = `${this.issuerUrl.pathname.replace(/\/$/, '')}/authorize`;
    sendSignIn(res, status, {
      clientName: client.client_name ?? request.client_id,
      redirectHost: redirect.host,
      redirectOrigin: redirect.origin,
      scopes: request.scope.split(' ').map((s) => SCOPE_WORDS[s] ?? s),
      request: sealed,
      csrf: this.csrfFor(cookie, sealed),
      action: this.endpoint('/authorize'),
      user: extra.user,
      error: extra.error,
      extraHeaders: extra.setCookie ? { 'set-cookie': `${COOKIE}=${cookie}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${REQUEST_TTL_MS / 1000}${secure}` } : {},
    });
  }

  private authorizePage(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): void {
    const checked = this.checkRequest(params);
    if ('page' in checked) {
      sendProblem(res, 400, checked.page);
      return;
    }
    if ('redirect' in checked) {
      res.writeHead(302, { location: this.back(checked.redirect, { error: checked.error, error_description: checked.description, state: checked.state }), 'cache-control': 'no-store' }).end();
      return;
    }
    const existing = cookieOf(req, COOKIE);
    const cookie = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : random();
    this.form(res, 200, checked.request, checked.client, cookie, { setCookie: cookie !== existing });
  }

  private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A form posted from another site's page is refused before anything else is read.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.issuerUrl.origin) {
      sendProblem(res, 403, 'The form was not sent from this tripcal\'s sign-in page.');
      return;
    }
    const text = await readText(req);
    const form = new URLSearchParams(text ?? '');
    const sealed = form.get('request') ?? '';
    const cookie = cookieOf(req, COOKIE);
    const request = text === null ? null : this.openRequest(sealed);
    if (!request || !cookie || !sameText(form.get('csrf') ?? '', this.csrfFor(cookie, sealed))) {
      sendProblem(res, 403, 'The sign-in form is not valid for this browser (its security token does not match). Cookies must be allowed for this page.');
      return;
    }
    if (request.exp <= this.now()) {
      sendProblem(res, 400, 'The sign-in page was open too long (10 minutes).');
      return;
    }
    const client = this.client(request.client_id);
    if (!client || !client.redirect_uris.includes(request.redirect_uri)) {
      sendProblem(res, 400, 'The application is no longer registered with this tripcal.');
      return;
    }
    if (form.get('decision') !== 'allow') {
      res.writeHead(303, { location: this.back(request.redirect_uri, { error: 'access_denied', error_description: 'the user declined', state: request.state }), 'cache-control': 'no-store' }).end();
      return;
    }
    const user = (form.get('user') ?? '').trim().slice(0, 64);
    const password = form.get('password') ?? '';
    const at = this.now();
    const since = iso(at - 60_000);
    // The limit is per name typed, known or not: its answer says nothing about who exists.
    if (this.rows.failuresSince(user, since) >= MAX_FAILURES_PER_MINUTE) {
      this.form(res, 429, request, client, cookie, { user, error: 'Too many failed sign-ins for this user name; wait a minute, then try again.' });
      return;
    }
    const known = USER_ID.test(user) ? this.rows.passwordHash(user) : undefined;
    if (!(await checkPassword(password, known))) {
      this.rows.recordFailure(user, iso(at), since);
      log.warn('a sign-in to the built-in authorization server failed', { client_id: request.client_id });
      this.form(res, 401, request, client, cookie, { user, error: WRONG_PASSWORD });
      return;
    }
    const code = random();
    this.rows.insertCode({
      code_hash: sha256(code), client_id: request.client_id, user_id: user, redirect_uri: request.redirect_uri, code_challenge: request.code_challenge,
      scope: request.scope, resource: request.resource, family: random(16), created_at: iso(at), expires_at: iso(at + CODE_TTL_MS),
    }, iso(at - CODE_TTL_MS));
    log.info('signed in through the built-in authorization server', { user, client_id: request.client_id });
    res.writeHead(303, { location: this.back(request.redirect_uri, { code, state: request.state }), 'cache-control': 'no-store' }).end();
  }

  // tokens (RFC 6749 §4.1.3, §6)

  private async token(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    try {
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
        throw new OAuthFailure('invalid_request', 'the token request is application/x-www-form-urlencoded');
      }
      const text = await readText(req);
      if (text === null) throw new OAuthFailure('invalid_request', `the token request is over ${MAX_FORM} bytes`);
      const form = new URLSearchParams(text);
      const clientId = this.clientIdOf(req, form);
      const client = this.client(clientId);
      if (!clientId || !client) throw new OAuthFailure('invalid_client', 'unknown client_id', 401);
      const resources = form.getAll('resource');
      if (resources.some((r) => r !== this.settings.resource)) throw new OAuthFailure('invalid_target', `tokens are issued for ${this.settings.resource} only`);
      const grant = form.get('grant_type');
      if (!grant || !client.grant_types.includes(grant)) {
        throw new OAuthFailure(grant === 'authorization_code' || grant === 'refresh_token' ? 'unauthorized_client' : 'unsupported_grant_type', `grant_type "${grant ?? ''}" is not offered to this client`);
      }
      const tokens = grant === 'authorization_code' ? await this.exchangeCode(form, clientId) : await this.refresh(form, clientId);
      json(res, 200, tokens, { ...headers, pragma: 'no-cache' });
    } catch (error) {
      if (!(error instanceof OAuthFailure)) throw error;
      json(res, error.status, { error: error.code, error_description: error.message }, headers);
    }
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
    const row = this.rows.code(hash);
    if (!row) throw new OAuthFailure('invalid_grant', 'the code is not known (or expired long ago)');
    const at = this.now();
    // Used up on first presentation, whatever follows: a code is worth one try (RFC 6749 §4.1.2).
    if (!this.rows.useCode(hash, iso(at))) {
      const revoked = this.rows.revokeFamily(row.family, iso(at));
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
    const row = this.rows.refresh(hash);
    const at = this.now();
    if (!row) throw new OAuthFailure('invalid_grant', 'the refresh token is not known');
    if (row.client_id !== clientId) throw new OAuthFailure('invalid_grant', 'the refresh token was issued to another client');
    if (row.revoked_at) throw new OAuthFailure('invalid_grant', 'the refresh token was revoked');
    if (row.rotated_at) {
      // Someone holds a copy of a token already replaced: the whole line of tokens goes.
      const revoked = this.rows.revokeFamily(row.family, iso(at));
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
    if (this.rows.passwordHash(grant.user_id) === undefined) throw new OAuthFailure('invalid_grant', 'the user can no longer sign in (no password)');
    const expiresIn = this.settings.accessTokenMinutes * 60;
    const accessToken = await new SignJWT({ scope: grant.scope, client_id: grant.client_id })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid!, typ: 'at+jwt' })
      .setIssuer(this.settings.issuer).setAudience(grant.resource).setSubject(grant.user_id)
      .setIssuedAt(Math.floor(at / 1000)).setExpirationTime(Math.floor(at / 1000) + expiresIn).setJti(random(16))
      .sign(this.signingKey);
    const tokens: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope: grant.scope };
    const client = this.client(grant.client_id);
    if (client?.grant_types.includes('refresh_token')) {
      const refreshToken = random();
      const next = {
        token_hash: sha256(refreshToken), family, client_id: grant.client_id, user_id: grant.user_id, scope: grant.scope, resource: grant.resource,
        created_at: iso(at), expires_at: iso(at + this.settings.refreshTokenDays * 86_400_000),
      };
      if (replaces === null) {
        this.rows.pruneRefresh(iso(at));
        this.rows.insertRefresh(next);
      } else if (!this.rows.rotate(replaces, next, iso(at))) {
        // Another request rotated it between our read and now: the same token used twice.
        this.rows.revokeFamily(family, iso(at));
        throw new OAuthFailure('invalid_grant', 'the refresh token was already used; sign in again');
      }
      tokens.refresh_token = refreshToken;
    }
    return tokens;
  }
}
