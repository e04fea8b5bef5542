// The authorization endpoint of the built-in authorization server: the authorization code
// grant (RFC 6749 §4.1) with PKCE S256 only (RFC 7636), `iss` in every response (RFC 9207), and
// the sign-in and consent page. The page's form carries the checked request, signed, and a CSRF
// token bound to it and to the browser (an HMAC over a cookie's value and the request).
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkPassword } from '../auth/passwords.js';
import { USER_ID } from '../config/schema.js';
import { log } from '../log.js';
import type { AuthServerRows } from '../store/oauth-server.js';
import { READ_SCOPE, WRITE_SCOPE } from './access-tokens.js';
import type { Clients } from './oauth-clients.js';
import { iso, OAuthFailure, random, readText, sameText, SCOPES, sha256, type AuthServerSettings, type ClientMetadata } from './oauth-common.js';
import { sendProblem, sendSignIn } from './sign-in-page.js';

const CODE_TTL_MS = 2 * 60 * 1000;
/** How long a sign-in page may be left open before its form is refused. */
const REQUEST_TTL_MS = 10 * 60 * 1000;
/** Failed sign-ins per user name per minute before further tries are refused. */
export const MAX_FAILURES_PER_MINUTE = 5;
const SCOPE_WORDS: Record<string, string> = {
  [READ_SCOPE]: 'read your trips, bookings and calendar sync status',
  [WRITE_SCOPE]: 'add, change and delete your trips and bookings, and sync them to your calendars',
};
const WRONG_PASSWORD = 'The user name or password is not right.';
const COOKIE = 'tripcal_signin';
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

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

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export class AuthorizationEndpoint {
  private readonly issuerUrl: URL;

  constructor(
    private readonly rows: AuthServerRows,
    private readonly clients: Clients,
    private readonly settings: AuthServerSettings,
    private readonly csrfKey: Buffer,
    private readonly now: () => number,
  ) {
    this.issuerUrl = new URL(settings.issuer);
  }

  private endpoint(path: string): string {
    return `${this.settings.issuer}${path}`;
  }

  private async checkRequest(params: URLSearchParams): Promise<{ request: AuthorizationRequest; client: ClientMetadata } | { page: string } | { redirect: string; error: string; description: string; state?: string | undefined }> {
    const clientId = params.get('client_id') ?? undefined;
    let client: ClientMetadata | undefined;
    try {
      client = await this.clients.get(clientId);
    } catch (error) {
      if (!(error instanceof OAuthFailure)) throw error;
      return { page: `The application could not be identified: ${error.message}.` };
    }
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
      documentHost: /^https:\/\//.test(request.client_id) ? new URL(request.client_id).host : undefined,
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

  async page(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
    const checked = await this.checkRequest(params);
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

  async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    const client = await this.clients.get(request.client_id);
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
    if ((await this.rows.failuresSince(user, since)) >= MAX_FAILURES_PER_MINUTE) {
      this.form(res, 429, request, client, cookie, { user, error: 'Too many failed sign-ins for this user name; wait a minute, then try again.' });
      return;
    }
    const known = USER_ID.test(user) ? await this.rows.passwordHash(user) : undefined;
    if (!(await checkPassword(password, known))) {
      await this.rows.recordFailure(user, iso(at), since);
      log.warn('a sign-in to the built-in authorization server failed', { client_id: request.client_id });
      this.form(res, 401, request, client, cookie, { user, error: WRONG_PASSWORD });
      return;
    }
    const code = random();
    await this.rows.insertCode({
      code_hash: sha256(code), client_id: request.client_id, user_id: user, redirect_uri: request.redirect_uri, code_challenge: request.code_challenge,
      scope: request.scope, resource: request.resource, family: random(16), created_at: iso(at), expires_at: iso(at + CODE_TTL_MS),
    }, iso(at - CODE_TTL_MS));
    log.info('signed in through the built-in authorization server', { user, client_id: request.client_id });
    res.writeHead(303, { location: this.back(request.redirect_uri, { code, state: request.state }), 'cache-control': 'no-store' }).end();
  }
}
