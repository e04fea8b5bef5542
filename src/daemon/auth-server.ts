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
import type { IncomingMessage, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Vault } from '../auth/vault.js';
import type { AuthServerRows } from '../store/oauth-server.js';
import { AccessTokens } from './access-tokens.js';
import { AuthorizationEndpoint } from './oauth-authorize.js';
import { ClientDocuments } from './oauth-client-documents.js';
import { Clients } from './oauth-clients.js';
import { json, SCOPES, type AuthServerSettings } from './oauth-common.js';
import { TokenEndpoint } from './oauth-tokens.js';

export type { AuthServerSettings } from './oauth-common.js';
export { MAX_FAILURES_PER_MINUTE } from './oauth-authorize.js';

/** The status page signs in as this client of the server's own (its redirect: <issuer>/page/callback). */
export const PAGE_CLIENT_ID = 'tripcal-status-page';

/** The vault name of the signing key (a private JWK). */
export const SIGNING_KEY_SECRET = 'auth-server:signing-key';

export class AuthServer {
  /** How /mcp checks this server's tokens: the shared verification, with the local key. */
  readonly accessTokens: AccessTokens;
  private readonly clients: Clients;
  private readonly authorization: AuthorizationEndpoint;
  private readonly tokens: TokenEndpoint;
  private readonly issuerPath: string;

  private constructor(
    rows: AuthServerRows,
    csrfKey: Buffer,
    readonly settings: AuthServerSettings,
    signingKey: CryptoKey,
    private readonly publicJwk: JWK,
    now: () => number,
  ) {
    this.accessTokens = new AccessTokens({
      issuer: settings.issuer, audience: settings.resource, userClaim: 'sub', typ: 'at+jwt',
      keys: createLocalJWKSet({ keys: [publicJwk] }),
    });
    const documents = settings.clientMetadataDocuments ? new ClientDocuments({ allowPrivateHosts: settings.clientMetadataPrivateHosts, now }) : null;
    const page = {
      client_name: 'tripcal status page', redirect_uris: [`${settings.issuer}/page/callback`], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none' as const,
    };
    this.clients = new Clients(rows, now, documents, new Map([[PAGE_CLIENT_ID, page]]));
    this.authorization = new AuthorizationEndpoint(rows, this.clients, settings, csrfKey, now);
    this.tokens = new TokenEndpoint(rows, this.clients, settings, signingKey, publicJwk.kid!, now);
    this.issuerPath = new URL(settings.issuer).pathname.replace(/\/$/, '');
  }

  /** The server, with its signing key from the vault (made on first use; every process of the data directory shares it). */
  static async open(rows: AuthServerRows, vault: Vault, settings: AuthServerSettings, now: () => number = Date.now): Promise<AuthServer> {
    let stored = await vault.get(SIGNING_KEY_SECRET);
    if (stored === null) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(pair.privateKey);
      stored = await vault.setIfAbsent(SIGNING_KEY_SECRET, JSON.stringify({ ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256' }));
    }
    const jwk = JSON.parse(stored) as JWK;
    const key = await importJWK(jwk, 'ES256') as CryptoKey;
    const publicJwk: JWK = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y!, kid: jwk.kid!, alg: 'ES256', use: 'sig' };
    return new AuthServer(rows, await vault.derivedKey('auth-server:csrf'), settings, key, publicJwk, now);
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
      ...(this.settings.clientMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
    };
  }

  /** Trades a code or a refresh token for tokens in-process (the status page's own sign-in), or an OAuthFailure. */
  grant(form: Record<string, string>): Promise<Record<string, unknown>> {
    return this.tokens.grant(new URLSearchParams({ ...form, client_id: PAGE_CLIENT_ID, resource: this.settings.resource }));
  }

  /** Answers the request when it is one of this server's; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const open = { 'access-control-allow-origin': '*' };
    if ((path === '/.well-known/oauth-authorization-server' || (this.issuerPath && path === `/.well-known/oauth-authorization-server${this.issuerPath}`)) && req.method === 'GET') {
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
      await this.clients.register(req, res, open);
      return true;
    }
    if (path === '/token' && req.method === 'POST') {
      await this.tokens.handle(req, res, open);
      return true;
    }
    if (path === '/authorize' && req.method === 'GET') {
      await this.authorization.page(req, res, new URL(req.url ?? '/', 'http://localhost').searchParams);
      return true;
    }
    if (path === '/authorize' && req.method === 'POST') {
      await this.authorization.signIn(req, res);
      return true;
    }
    if (['/register', '/token', '/authorize'].includes(path)) {
      json(res, 405, { error: 'invalid_request', error_description: `${req.method} is not supported here` });
      return true;
    }
    return false;
  }
}
