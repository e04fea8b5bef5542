// Access tokens for Microsoft Graph through @azure/msal-node (reference §9). MSAL's token cache is
// the account's whole authorization: it is read from and written back to the encrypted vault by
// a cache plugin, so a refreshed token survives restarts and never touches the disk in the clear.
// A refresh the identity platform refuses (invalid_grant, interaction required) is an
// AuthExpiredError: the account needs its owner to sign in again.
import type { AuthenticationResult, ICachePlugin, PublicClientApplication, TokenCacheContext } from '@azure/msal-node';
import { networkCause } from '../http.js';
import { AuthExpiredError, TransientError } from '../types.js';

/** Delegated scopes: the calendars and a refresh token, nothing broader (MSAL adds openid and profile). */
export const OUTLOOK_SCOPES = ['Calendars.ReadWrite', 'offline_access'];
export const MICROSOFT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface MsalSettings {
  clientId: string;
  tenantId: string;
  clientSecret?: string;
  /** `https://host/<tenant>`; default the public cloud's. Tests point it at a loopback fake. */
  authority?: string;
}

/** A cache plugin over a string kept elsewhere (the vault), saved only when MSAL changed it. */
export function cachePlugin(read: () => Promise<string | null>, write: (cache: string) => Promise<void>): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext) {
      const cache = await read();
      if (cache) context.tokenCache.deserialize(cache);
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (context.cacheHasChanged) await write(context.tokenCache.serialize());
    },
  };
}

export function authorityOf(settings: MsalSettings): string {
  return settings.authority ?? `${MICROSOFT_AUTHORITY_HOST}/${settings.tenantId || 'common'}`;
}

/** MSAL's client for an account (public; confidential when a client secret is configured). */
export async function msalClient(settings: MsalSettings, plugin: ICachePlugin): Promise<PublicClientApplication> {
  const msal = await import('@azure/msal-node');
  const authority = authorityOf(settings);
  const host = new URL(authority).host;
  const custom = !authority.startsWith(MICROSOFT_AUTHORITY_HOST);
  const auth = {
    clientId: settings.clientId,
    authority,
    // Another host (a sovereign cloud, or the tests' fake) is trusted as given: no instance discovery.
    ...(custom ? { knownAuthorities: [host] } : {}),
    ...(settings.clientSecret ? { clientSecret: settings.clientSecret } : {}),
  };
  const config = { auth, cache: { cachePlugin: plugin }, system: { loggerOptions: { piiLoggingEnabled: false, logLevel: msal.LogLevel.Error, loggerCallback: () => undefined } } };
  // Both kinds have the token calls tripcal uses (by code, silent); device code is public-only.
  return (settings.clientSecret ? new msal.ConfidentialClientApplication(config) : new msal.PublicClientApplication(config)) as PublicClientApplication;
}

/** MSAL's error in a line: `invalid_grant: AADSTS700082: The refresh token has expired…`. */
export function msalReason(error: unknown): string {
  const e = error as { name?: string; errorCode?: string; errorMessage?: string; message?: string };
  // "Error(s): 700082 - Timestamp: … - Description: AADSTS700082: The refresh token has expired… - Correlation ID: …"
  const text = e.errorMessage || e.message || '';
  const why = /AADSTS\d+:.*?(?= - |\s*Trace ID|$)/.exec(text)?.[0] ?? text.split('\n')[0]!;
  return [e.errorCode || e.name, why].filter(Boolean).join(': ');
}

/** What MSAL threw, as the provider errors: a refused refresh needs a person, a network failure waits. */
export function msalError(error: unknown): Error {
  const e = error as { name?: string; errorCode?: string; errorMessage?: string; subError?: string; message?: string };
  const code = e.errorCode ?? '';
  if (e.name === 'InteractionRequiredAuthError' || code === 'invalid_grant' || code === 'no_tokens_found' || code === 'interaction_required'
    || code === 'invalid_client' || code === 'unauthorized_client') {
    return new AuthExpiredError(`Microsoft refused the stored sign-in (${msalReason(error)})`);
  }
  if (/network|ENOTFOUND|ECONNREFUSED|ECONNRESET|timed? ?out/i.test(`${code} ${e.message ?? ''}`)) {
    return new TransientError(`cannot reach Microsoft's sign-in service (${networkCause(error)})`);
  }
  return new AuthExpiredError(`Microsoft's sign-in failed (${code || e.message})`);
}

export class OutlookSession {
  private client: Promise<PublicClientApplication> | undefined;
  private pending: Promise<AuthenticationResult> | undefined;

  constructor(private readonly settings: MsalSettings, private readonly plugin: ICachePlugin) {}

  private app(): Promise<PublicClientApplication> {
    this.client ??= msalClient(this.settings, this.plugin);
    return this.client;
  }

  /** The signed-in account's name (its mail address, for getSchedule). */
  async username(): Promise<string | null> {
    const [account] = await (await this.app()).getTokenCache().getAllAccounts();
    return account?.username ?? null;
  }

  /**
   * An access token from the cache, refreshed by MSAL when due; `force` asks for a new one (after
   * a 401). Concurrent callers share one request.
   */
  async token(force = false): Promise<string> {
    if (!this.pending || force) {
      const attempt = this.acquire(force);
      this.pending = attempt;
      attempt.then(() => {
        if (this.pending === attempt) this.pending = undefined;
      }, () => {
        if (this.pending === attempt) this.pending = undefined;
      });
    }
    return (await this.pending).accessToken;
  }

  private async acquire(force: boolean): Promise<AuthenticationResult> {
    const app = await this.app();
    const [account] = await app.getTokenCache().getAllAccounts();
    if (!account) throw new AuthExpiredError('this Outlook account is not signed in');
    try {
      const result = await app.acquireTokenSilent({ account, scopes: ['Calendars.ReadWrite'], forceRefresh: force });
      if (!result?.accessToken) throw new AuthExpiredError('Microsoft gave no access token');
      return result;
    } catch (error) {
      if (error instanceof AuthExpiredError) throw error;
      throw msalError(error);
    }
  }
}
