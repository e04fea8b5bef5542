// Connecting a Google account: the authorization-code flow with PKCE (RFC 7636) through
// google-auth-library, around a `state` that is random, single-use, bound to the user, provider
// and account, and expires after 10 minutes. Only a hash of the state is stored; the PKCE
// verifier is sealed by the vault. The tokens go to the vault, never to a tool's answer.
import { createHash, randomBytes } from 'node:crypto';
import type { OAuth2Client } from 'google-auth-library';
import { googleTokensSecret, type Vault } from './vault.js';
import { loopbackOrHttps, type GoogleClientConfig } from '../config/schema.js';
import { InputError, TripcalError } from '../errors.js';
import type { SyncStore } from '../store/sync.js';
import type Database from 'better-sqlite3';
import { googleClient } from '../sync/accounts.js';
import type { GoogleTokens } from '../../providers/registry.js';

export const STATE_TTL_MS = 10 * 60 * 1000;
const AUTH_URL = 'https://accounts.google.com/o/oauth2/v2/auth';

/**
 * The narrowest scopes that work (Calendar API scopes; the discovery text in googleapis lists them
 * per method): events in the calendars we write to, the list of the user's calendars, and their
 * free/busy. A dedicated calendar tripcal has to make needs calendar.app.created, which covers
 * only calendars the app made.
 */
export function googleScopes(makesCalendar: boolean): string[] {
  return [
    'https://www.googleapis.com/auth/calendar.events',
    'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
    'https://www.googleapis.com/auth/calendar.freebusy',
    ...(makesCalendar ? ['https://www.googleapis.com/auth/calendar.app.created'] : []),
  ];
}

/** Whether an account's `calendar` setting names a calendar (found or made) rather than `primary` or an id. */
export const namesCalendar = (calendar: string) => calendar !== 'primary' && !calendar.includes('@');

export class OAuthError extends TripcalError {
  constructor(field: string, message: string) {
    super('invalid_input', message, field);
    this.name = 'OAuthError';
  }
}

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

async function oauthClient(google: GoogleClientConfig, redirectUri: string): Promise<OAuth2Client> {
  const { OAuth2Client } = await import('google-auth-library');
  const { clientId, clientSecret } = (() => {
    try {
      return googleClient(google);
    } catch (error) {
      throw new InputError('provider', (error as Error).message);
    }
  })();
  return new OAuth2Client({
    clientId,
    clientSecret,
    redirectUri,
    endpoints: {
      oauth2AuthBaseUrl: google.auth_url ?? AUTH_URL,
      ...(google.token_url ? { oauth2TokenUrl: google.token_url } : {}),
    },
  });
}

export interface Started {
  authUrl: string;
  state: string;
  expiresAt: string;
}

export interface Finished {
  account: string;
  calendar: string;
  tokens: GoogleTokens;
  grantedScopes: string[];
}

export class GoogleConnector {
  constructor(
    private readonly db: Database.Database,
    private readonly links: SyncStore,
    private readonly vault: Vault,
    private readonly google: GoogleClientConfig,
    private readonly now: () => number = Date.now,
  ) {}

  redirectUri(given: string | undefined): string {
    const uri = given ?? this.google.redirect_uri;
    if (!uri) throw new InputError('redirect_uri', 'needed: pass the URL Google should send the browser back to, or set GOOGLE_REDIRECT_URI');
    let ok = false;
    try {
      ok = loopbackOrHttps(uri);
    } catch {
      throw new InputError('redirect_uri', `"${uri}" is not a URL`);
    }
    if (!ok) throw new InputError('redirect_uri', 'must be an https:// URL, or http:// on 127.0.0.1 / localhost');
    return uri;
  }

  /** The consent URL for one user and account, and the state that will come back with the code. */
  async start(userId: string, account: string, calendar: string, redirectUri: string): Promise<Started> {
    const client = await oauthClient(this.google, redirectUri);
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const state = randomBytes(32).toString('base64url');
    const created = this.now();
    const hash = hashState(state);
    this.db.prepare('DELETE FROM oauth_states WHERE expires_at < ?').run(new Date(created - STATE_TTL_MS).toISOString());
    this.db.prepare(`INSERT INTO oauth_states (state_hash, user_id, provider, account, calendar, redirect_uri, verifier, created_at, expires_at)
      VALUES (?, ?, 'google', ?, ?, ?, ?, ?, ?)`)
      .run(hash, userId, account, calendar, redirectUri, this.vault.seal(`oauth-state:${hash}`, codeVerifier!), new Date(created).toISOString(), new Date(created + STATE_TTL_MS).toISOString());
    const authUrl = client.generateAuthUrl({
      access_type: 'offline', // a refresh token, so sync keeps working without the user
      prompt: 'consent', // …every time, even when the user consented before
      include_granted_scopes: false,
      scope: googleScopes(namesCalendar(calendar)),
      state,
      code_challenge_method: 'S256' as never,
      code_challenge: codeChallenge,
    });
    return { authUrl, state, expiresAt: new Date(created + STATE_TTL_MS).toISOString() };
  }

  /** The user of a state that can still be completed (known, unused, unexpired), else null. */
  pending(state: string): string | null {
    const row = this.db.prepare('SELECT user_id, expires_at FROM oauth_states WHERE state_hash = ? AND used_at IS NULL').get(hashState(state)) as
      { user_id: string; expires_at: string } | undefined;
    return row && Date.parse(row.expires_at) > this.now() ? row.user_id : null;
  }

  /** The user declined on Google's page: the state is used up. */
  abandon(state: string): void {
    this.db.prepare('UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL').run(new Date(this.now()).toISOString(), hashState(state));
  }

  /**
   * Checks the state (known, this user's, unused, unexpired), uses it up, and trades the code for
   * tokens, which go to the vault. A refused state changes nothing.
   */
  async finish(userId: string, code: string, state: string): Promise<Finished> {
    const hash = hashState(state);
    const row = this.db.prepare('SELECT * FROM oauth_states WHERE state_hash = ?').get(hash) as
      { user_id: string; provider: string; account: string; calendar: string; redirect_uri: string; verifier: string; expires_at: string; used_at: string | null } | undefined;
    if (!row) throw new OAuthError('state', 'unknown: it was not issued by this tripcal (or was cleaned up long ago); start again with authorize_calendar');
    if (row.user_id !== userId) throw new OAuthError('state', `was issued for another user, not "${userId}"; start again with authorize_calendar for this user`);
    if (row.used_at) throw new OAuthError('state', 'already used: each authorization can be completed once (if the browser said "tripcal is connected", it is done: see sync_status); else start again with authorize_calendar');
    if (Date.parse(row.expires_at) <= this.now()) throw new OAuthError('state', 'expired (an authorization must be completed within 10 minutes); start again with authorize_calendar');
    const taken = this.db.prepare('UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL').run(new Date(this.now()).toISOString(), hash);
    if (taken.changes !== 1) throw new OAuthError('state', 'already used: each authorization can be completed once; start again with authorize_calendar');
    const verifier = this.vault.open(`oauth-state:${hash}`, row.verifier);
    const client = await oauthClient(this.google, row.redirect_uri);
    let tokens: GoogleTokens;
    try {
      ({ tokens } = await client.getToken({ code, codeVerifier: verifier, redirect_uri: row.redirect_uri }));
    } catch (error) {
      const e = error as { response?: { data?: { error?: string; error_description?: string } }; message?: string };
      const data = e.response?.data;
      const why = data?.error ? `${data.error}${data.error_description ? `: ${data.error_description}` : ''}` : `cannot reach Google (${e.message})`;
      throw new OAuthError('code', `Google did not accept the authorization code (${why}); start again with authorize_calendar`);
    }
    // Google's consent screen lets people untick scopes; a partly working account would fail later in obscure ways.
    const granted = (tokens.scope ?? '').split(' ').filter(Boolean);
    const missing = googleScopes(namesCalendar(row.calendar)).filter((s) => !granted.includes(s) && !granted.includes('https://www.googleapis.com/auth/calendar'));
    if (tokens.scope && missing.length > 0) {
      throw new OAuthError('code', `Google did not grant ${missing.map((s) => s.replace('https://www.googleapis.com/auth/', '')).join(', ')} (unticked on the consent screen); `
        + 'nothing was stored; start again with authorize_calendar and allow all of it');
    }
    if (!tokens.refresh_token) {
      const previous = this.vault.get(googleTokensSecret(row.account));
      const kept = previous ? (JSON.parse(previous) as GoogleTokens).refresh_token : undefined;
      if (!kept) throw new OAuthError('code', 'Google gave no refresh token, so tripcal could not keep syncing; remove tripcal\'s access at https://myaccount.google.com/permissions and start again');
      tokens = { ...tokens, refresh_token: kept };
    }
    const stored: GoogleTokens = {
      access_token: tokens.access_token ?? null, refresh_token: tokens.refresh_token, expiry_date: tokens.expiry_date ?? null,
      scope: tokens.scope, token_type: tokens.token_type ?? 'Bearer',
    };
    this.vault.set(googleTokensSecret(row.account), JSON.stringify(stored));
    return { account: row.account, calendar: row.calendar, tokens: stored, grantedScopes: granted };
  }

  /** Makes the account exist: a configured one as it is, else one recorded as connected. */
  remember(done: Finished, userId: string, configured: boolean, at: string): void {
    if (!configured) this.links.connectAccount(done.account, userId, 'google', { calendar: done.calendar }, at);
  }
}
