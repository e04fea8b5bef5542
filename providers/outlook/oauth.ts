// Connecting an Outlook / Microsoft 365 account through @azure/msal-node (reference
// docs/reference/microsoft-graph-calendar.md §9):
// - authorization code + PKCE (S256) around the same single-use, expiring, hashed `state` as
//   Google (states.ts), for authorize_calendar / handle_auth_callback;
// - the device-code flow (RFC 8628) for `tripcal auth outlook` on a machine without a browser.
// Either way MSAL's token cache, refresh token inside, goes to the vault; never to an answer.
import type { AuthenticationResult } from '@azure/msal-node';
import { InputError, OAuthError } from '../../core/errors.js';
import type { SecretStore } from '../descriptor.js';
import type { DevicePrompt, OAuthConnector, SignInStates } from '../oauth.js';
import { redirectUriOf } from '../oauth.js';
import { outlookCacheSecret, outlookClient } from './index.js';
import { cachePlugin, msalClient, msalReason, OUTLOOK_SCOPES } from './session.js';
import type { OutlookClientConfig } from './settings.js';

export interface OutlookStarted {
  authUrl: string;
  state: string;
  expiresAt: string;
}

export interface OutlookFinished {
  account: string;
  calendar: string;
  username: string | null;
}

function settings(outlook: OutlookClientConfig) {
  try {
    return { ...outlookClient(outlook), authority: outlook.authority };
  } catch (error) {
    throw new InputError('provider', (error as Error).message);
  }
}

/** A cache that lives in memory until the sign-in succeeded; only then does it reach the vault. */
function scratchCache() {
  const box: { cache: string | null } = { cache: null };
  return { box, plugin: cachePlugin(async () => box.cache, async (cache) => { box.cache = cache; }) };
}

/** MSAL's refusal of a code or device flow as a field error a user can act on. */
function refused(error: unknown, field: string): OAuthError {
  return new OAuthError(field, `Microsoft did not accept the sign-in (${msalReason(error)}); nothing was stored; start again`);
}

export class OutlookConnector implements OAuthConnector {
  constructor(
    private readonly states: SignInStates,
    private readonly vault: SecretStore,
    private readonly outlook: OutlookClientConfig,
  ) {}

  redirectUri(given: string | undefined): string {
    return redirectUriOf(given, this.outlook.redirect_uri, 'needed: pass the redirect URI registered for the Microsoft app, or set MS_REDIRECT_URI');
  }

  async start(userId: string, account: string, calendar: string, redirectUri: string): Promise<OutlookStarted> {
    const app = await msalClient(settings(this.outlook), scratchCache().plugin);
    const { CryptoProvider } = await import('@azure/msal-node');
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const { state, expiresAt } = await this.states.issue(userId, 'outlook', account, calendar, redirectUri, verifier);
    const authUrl = await app.getAuthCodeUrl({
      scopes: OUTLOOK_SCOPES, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256', state,
      prompt: 'select_account', // the user picks which Microsoft account, even when signed in to another
    });
    return { authUrl, state, expiresAt };
  }

  /** Checks the state, trades the code for tokens, and keeps MSAL's cache in the vault. */
  async finish(userId: string, code: string, state: string): Promise<OutlookFinished> {
    const row = await this.states.take(userId, state);
    if (row.provider !== 'outlook') throw new OAuthError('state', `was issued for connecting ${row.provider}, not Outlook`);
    const { box, plugin } = scratchCache();
    const app = await msalClient(settings(this.outlook), plugin);
    let result: AuthenticationResult;
    try {
      result = await app.acquireTokenByCode({ code, redirectUri: row.redirectUri, codeVerifier: row.verifier, scopes: OUTLOOK_SCOPES });
    } catch (error) {
      throw refused(error, 'code');
    }
    return this.keep(result, box.cache, row.account, row.calendar);
  }

  /**
   * The device-code flow: `prompt` gets the code to show; resolves once the user signed in on
   * another device (MSAL polls), or fails when they decline or the code expires.
   */
  async deviceCode(account: string, calendar: string, prompt: (p: DevicePrompt) => void): Promise<OutlookFinished> {
    const { box, plugin } = scratchCache();
    // Device code is a public-client flow, also when a client secret is configured (§9).
    const { clientSecret: _secret, ...publicSettings } = settings(this.outlook);
    void _secret;
    const app = await msalClient(publicSettings, plugin);
    let result: AuthenticationResult | null;
    try {
      result = await app.acquireTokenByDeviceCode({
        scopes: OUTLOOK_SCOPES,
        deviceCodeCallback: (r) => prompt({ message: r.message, userCode: r.userCode, verificationUri: r.verificationUri, expiresInSeconds: r.expiresIn }),
      });
    } catch (error) {
      throw refused(error, 'authorization');
    }
    if (!result) throw new OAuthError('authorization', 'the sign-in was cancelled; nothing was stored');
    return this.keep(result, box.cache, account, calendar);
  }

  private async keep(result: AuthenticationResult, cache: string | null, account: string, calendar: string): Promise<OutlookFinished> {
    const granted = result.scopes.map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, '').toLowerCase());
    if (!granted.includes('calendars.readwrite')) {
      throw new OAuthError('code', 'Microsoft did not grant Calendars.ReadWrite (declined, or an administrator must consent for the organisation); nothing was stored');
    }
    const refresh = cache ? Object.keys((JSON.parse(cache) as { RefreshToken?: Record<string, unknown> }).RefreshToken ?? {}).length : 0;
    if (!cache || refresh === 0) throw new OAuthError('code', 'Microsoft gave no refresh token (offline_access not granted), so tripcal could not keep syncing; nothing was stored');
    await this.vault.set(outlookCacheSecret(account), cache);
    return { account, calendar, username: result.account?.username ?? null };
  }

}
