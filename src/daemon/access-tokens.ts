// The daemon as an OAuth 2.1 protected resource (MCP authorization) in front of an identity
// provider the team already runs: access tokens are JWTs signed by `http.auth.issuer`, for this
// server (audience, RFC 8707: `<public_url>/mcp` unless set), unexpired, with the scope
// `tripcal:read` and, to change anything, `tripcal:write`; the user is the claim
// `http.auth.user_claim` names. Keys come from the issuer's JWKS (found through its metadata),
// cached and refetched when a token names a key not seen yet; or, for tripcal's own
// authorization server, its key given here (`keys`), so both kinds of token are checked by the
// same code. Metadata for clients: RFC 9728.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { USER_ID } from '../config/schema.js';
import { log } from '../log.js';
import type { Principal } from '../mcp/principal.js';

export const READ_SCOPE = 'tripcal:read';
export const WRITE_SCOPE = 'tripcal:write';

export interface AccessTokenSettings {
  issuer: string;
  /** The resource (audience) tokens must be for. */
  audience: string;
  /** The claim naming the tripcal user (default `sub`). */
  userClaim: string;
  /** The issuer's key set; found through its metadata when not given. */
  jwksUri?: string | undefined;
  /** The issuer's keys themselves (tripcal's own authorization server): nothing is fetched. */
  keys?: JWTVerifyGetKey | undefined;
  /** The JOSE `typ` tokens must carry (RFC 9068: `at+jwt`), when the issuer is known to set it. */
  typ?: string | undefined;
}

/** Why a token was refused, as the `error_description` of the 401 says it. */
export class RefusedToken extends Error {}

/** Signature algorithms an issuer may use (asymmetric only: a shared secret would let anyone holding it mint tokens). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export class AccessTokens {
  private keys: JWTVerifyGetKey | undefined;

  constructor(readonly settings: AccessTokenSettings) {
    this.keys = settings.keys;
  }

  /** RFC 9728 protected resource metadata. */
  metadata(): Record<string, unknown> {
    return {
      resource: this.settings.audience,
      authorization_servers: [this.settings.issuer],
      scopes_supported: [READ_SCOPE, WRITE_SCOPE],
      bearer_methods_supported: ['header'],
      resource_name: 'tripcal',
    };
  }

  private async keySet(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    let uri = this.settings.jwksUri;
    if (!uri) {
      const base = this.settings.issuer.replace(/\/$/, '');
      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        try {
          const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
          if (!res.ok) continue;
          const found = (await res.json()) as { issuer?: string; jwks_uri?: string };
          // RFC 8414 §3.3: the metadata must name the issuer it was fetched for, exactly.
          if (found.issuer !== this.settings.issuer || !found.jwks_uri) continue;
          uri = found.jwks_uri;
          break;
        } catch (error) {
          log.warn('could not read the identity provider\'s metadata', { issuer: this.settings.issuer, error: (error as Error).message });
        }
      }
      if (!uri) throw new RefusedToken(`the identity provider ${this.settings.issuer} publishes no key set tripcal could read`);
    }
    this.keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: 10_000, cooldownDuration: 5_000 });
    return this.keys;
  }

  /** The principal of a valid token; a RefusedToken saying why otherwise. */
  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        issuer: this.settings.issuer, audience: this.settings.audience, algorithms: ALGORITHMS, requiredClaims: ['exp'],
        ...(this.settings.typ ? { typ: this.settings.typ } : {}),
      }));
    } catch (error) {
      if (error instanceof RefusedToken) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new RefusedToken('the token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new RefusedToken(`the token's "${error.claim}" claim is not for this server`);
      throw new RefusedToken('the token is not valid (its signature, form or key)');
    }
    const user = payload[this.settings.userClaim];
    if (typeof user !== 'string' || !USER_ID.test(user)) {
      throw new RefusedToken(`the token's "${this.settings.userClaim}" claim does not name a tripcal user`);
    }
    const scopes = scopesOf(payload);
    if (!scopes.includes(READ_SCOPE) && !scopes.includes(WRITE_SCOPE)) throw new RefusedToken(`the token has neither scope ${READ_SCOPE} nor ${WRITE_SCOPE}`);
    return { user, write: scopes.includes(WRITE_SCOPE) };
  }
}

/** `scope` (space-separated, RFC 9068) or `scp` (a list, as some providers write it). */
function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  return [];
}
