// Signing in to the status page, when the daemon runs its own authorization server
// (http.auth.builtin): the page is one more OAuth client of it (authorization code + PKCE, its
// redirect at /page/callback), so a person signs in on the same page, with the same password and
// the same limits, as an assistant's client. Its tokens live in cookies only this daemon reads
// (HttpOnly, SameSite=Lax, Secure over https): the access token for each request, the refresh
// token to get another when it expires (rotated, as for every client). Who is signed in is then
// the page's principal: their own trips, accounts and feeds, and changes only with tripcal:write.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../log.js';
import type { Principal } from '../mcp/principal.js';
import { RefusedToken } from './access-tokens.js';
import { PAGE_CLIENT_ID, type AuthServer } from './auth-server.js';
import { sendPlainPage } from '../web/page.js';
import { OAuthFailure, sameText, SCOPES } from './oauth-common.js';

const ACCESS = 'tripcal_page';
const REFRESH = 'tripcal_page_refresh';
const SIGN_IN = 'tripcal_page_sign_in';

/** The cookies of a request, by name. */
function cookiesOf(req: IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) found.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return found;
}

export class PageSession {
  private readonly secure: string;

  constructor(private readonly auth: AuthServer) {
    this.secure = new URL(auth.settings.issuer).protocol === 'https:' ? '; Secure' : '';
  }

  private cookie(name: string, value: string, maxAgeSeconds: number, path = '/'): string {
    return `${name}=${value}; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${this.secure}`;
  }

  private addCookies(res: ServerResponse, cookies: string[]): void {
    const before = res.getHeader('set-cookie');
    res.setHeader('set-cookie', [...(Array.isArray(before) ? before : before ? [String(before)] : []), ...cookies]);
  }

  private keep(res: ServerResponse, tokens: Record<string, unknown>): string {
    const access = String(tokens.access_token);
    this.addCookies(res, [
      this.cookie(ACCESS, access, Number(tokens.expires_in) || 600),
      ...(typeof tokens.refresh_token === 'string' ? [this.cookie(REFRESH, tokens.refresh_token, this.auth.settings.refreshTokenDays * 86_400)] : []),
    ]);
    return access;
  }

  /** Answers /page/sign-in, /page/callback and /page/sign-out; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const { issuer, resource } = this.auth.settings;
    if (url.pathname === '/page/sign-in' && req.method === 'GET') {
      const state = randomBytes(24).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const go = new URL(`${issuer}/authorize`);
      for (const [key, value] of Object.entries({
        response_type: 'code', client_id: PAGE_CLIENT_ID, redirect_uri: `${issuer}/page/callback`, state, scope: SCOPES.join(' '), resource,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      })) go.searchParams.set(key, value);
      this.addCookies(res, [this.cookie(SIGN_IN, `${state}.${verifier}`, 600, '/page/callback')]);
      res.writeHead(303, { location: go.href, 'cache-control': 'no-store' }).end();
      return true;
    }
    if (url.pathname === '/page/callback' && req.method === 'GET') {
      const [state, verifier] = (cookiesOf(req).get(SIGN_IN) ?? '').split('.');
      const given = url.searchParams.get('state') ?? '';
      const code = url.searchParams.get('code');
      this.addCookies(res, [this.cookie(SIGN_IN, '', 0, '/page/callback')]);
      if (!state || !verifier || !sameText(given, state) || url.searchParams.get('iss') !== issuer) {
        return this.back(res, 400, 'This sign-in was not started from this browser, or it is too old: start again from the page.');
      }
      if (!code) return this.back(res, 403, `Not signed in (${url.searchParams.get('error_description') ?? url.searchParams.get('error') ?? 'no code'}).`);
      try {
        this.keep(res, await this.auth.grant({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: `${issuer}/page/callback` }));
      } catch (error) {
        if (!(error instanceof OAuthFailure)) throw error;
        return this.back(res, 400, `The sign-in was refused: ${error.message}. Start again from the page.`);
      }
      res.writeHead(303, { location: '/', 'cache-control': 'no-store' }).end();
      return true;
    }
    if (url.pathname === '/page/sign-out' && req.method === 'POST') {
      this.addCookies(res, [this.cookie(ACCESS, '', 0), this.cookie(REFRESH, '', 0)]);
      res.writeHead(303, { location: '/page/signed-out', 'cache-control': 'no-store' }).end();
      return true;
    }
    if (url.pathname === '/page/signed-out' && req.method === 'GET') return this.back(res, 200, 'Signed out.');
    return false;
  }

  /**
   * Who the request's cookies say is signed in: their access token's principal, refreshed (and
   * its cookies set on `res`) when it has expired; null when no one is.
   */
  async principal(req: IncomingMessage, res: ServerResponse): Promise<Principal | null> {
    const cookies = cookiesOf(req);
    const access = cookies.get(ACCESS);
    if (access) {
      try {
        return await this.auth.accessTokens.verify(access);
      } catch (error) {
        if (!(error instanceof RefusedToken)) throw error;
      }
    }
    const refresh = cookies.get(REFRESH);
    if (!refresh) return null;
    try {
      return await this.auth.accessTokens.verify(this.keep(res, await this.auth.grant({ grant_type: 'refresh_token', refresh_token: refresh })));
    } catch (error) {
      if (!(error instanceof OAuthFailure) && !(error instanceof RefusedToken)) throw error;
      log.info('a status page session ended', { reason: (error as Error).message });
      this.addCookies(res, [this.cookie(ACCESS, '', 0), this.cookie(REFRESH, '', 0)]);
      return null;
    }
  }

  private back(res: ServerResponse, status: number, message: string): true {
    sendPlainPage(res, status, message);
    return true;
  }
}
