// Connecting a Google account (the Google provider's sign-in): the authorization-code flow with PKCE (RFC 7636) through
// google-auth-library, around a `state` that is random, single-use, bound to the user, provider
// and account, and expires after 10 minutes. Only a hash of the state is stored; the PKCE
// verifier is sealed by the vault. The tokens go to the vault, never to a tool's answer.
import type { OAuth2Client } from 'google-auth-library';
import { InputError, OAuthError } from '../../core/errors.js';
import type { SecretStore } from '../descriptor.js';
import type { OAuthConnector, SignInStates } from '../oauth.js';
import { redirectUriOf } from '../oauth.js';
import { googleClient, googleTokensSecret } from './index.js';
import type { GoogleClientConfig, GoogleTokens } from './settings.js';

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

export class GoogleConnector implements OAuthConnector {
  constructor(
    private readonly states: SignInStates,
    private readonly vault: SecretStore,
    private readonly google: GoogleClientConfig,
    private readonly restart: string,
  ) {}

  redirectUri(given: string | undefined): string {
    return redirectUriOf(given, this.google.redirect_uri, 'needed: pass the URL Google should send the browser back to, or set GOOGLE_REDIRECT_URI');
  }

  /** The consent URL for one user and account, and the state that will come back with the code. */
  async start(userId: string, account: string, calendar: string, redirectUri: string): Promise<Started> {
    const client = await oauthClient(this.google, redirectUri);
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const { state, expiresAt } = await this.states.issue(userId, 'google', account, calendar, redirectUri, codeVerifier!);
    const authUrl = client.generateAuthUrl({
      access_type: 'offline', // a refresh token, so sync keeps working without the user
      prompt: 'consent', // …every time, even when the user consented before
      include_granted_scopes: false,
      scope: googleScopes(namesCalendar(calendar)),
      state,
      code_challenge_method: 'S256' as never,
      code_challenge: codeChallenge,
    });
    return { authUrl, state, expiresAt };
  }

  /**
   * Checks the state (known, this user's, unused, unexpired), uses it up, and trades the code for
   * tokens, which go to the vault. A refused state changes nothing.
   */
  async finish(userId: string, code: string, state: string): Promise<Finished> {
    const row = await this.states.take(userId, state);
    if (row.provider !== 'google') throw new OAuthError('state', `was issued for connecting ${row.provider}, not Google`);
    const verifier = row.verifier;
    const client = await oauthClient(this.google, row.redirectUri);
    let tokens: GoogleTokens;
    try {
      ({ tokens } = await client.getToken({ code, codeVerifier: verifier, redirect_uri: row.redirectUri }));
    } catch (error) {
      const e = error as { response?: { data?: { error?: string; error_description?: string } }; message?: string };
      const data = e.response?.data;
      const why = data?.error ? `${data.error}${data.error_description ? `: ${data.error_description}` : ''}` : `cannot reach Google (${e.message})`;
      throw new OAuthError('code', `Google did not accept the authorization code (${why}); ${this.restart}`);
    }
    // Google's consent screen lets people untick scopes; a partly working account would fail later in obscure ways.
    const granted = (tokens.scope ?? '').split(' ').filter(Boolean);
    const missing = googleScopes(namesCalendar(row.calendar)).filter((s) => !granted.includes(s) && !granted.includes('https://www.googleapis.com/auth/calendar'));
    if (tokens.scope && missing.length > 0) {
      throw new OAuthError('code', `Google did not grant ${missing.map((s) => s.replace('https://www.googleapis.com/auth/', '')).join(', ')} (unticked on the consent screen); `
        + `nothing was stored; ${this.restart} and allow all of it`);
    }
    if (!tokens.refresh_token) {
      const previous = await this.vault.get(googleTokensSecret(row.account));
      const kept = previous ? (JSON.parse(previous) as GoogleTokens).refresh_token : undefined;
      if (!kept) throw new OAuthError('code', 'Google gave no refresh token, so tripcal could not keep syncing; remove tripcal\'s access at https://myaccount.google.com/permissions and start again');
      tokens = { ...tokens, refresh_token: kept };
    }
    const stored: GoogleTokens = {
      access_token: tokens.access_token ?? null, refresh_token: tokens.refresh_token, expiry_date: tokens.expiry_date ?? null,
      scope: tokens.scope, token_type: tokens.token_type ?? 'Bearer',
    };
    await this.vault.set(googleTokensSecret(row.account), JSON.stringify(stored));
    return { account: row.account, calendar: row.calendar, tokens: stored, grantedScopes: granted };
  }

}
