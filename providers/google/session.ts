// The Google session of one account: google-auth-library's OAuth2Client with the stored tokens,
// refreshed tokens handed back for the vault, and API calls that meet a 401 refreshing the
// access token once — one refresh for all the calls that met the same expired token — before
// giving up with AuthExpiredError (then a person must connect the account again).
import { OAuth2Client, type Credentials } from 'google-auth-library';
import type { GoogleSettings, GoogleTokens } from './settings.js';
import { AuthExpiredError } from '../types.js';
import { errorFromThrown } from './errors.js';

export class GoogleSession {
  readonly client: OAuth2Client;
  private refreshing: Promise<void> | undefined;
  private generation = 0;

  constructor(settings: GoogleSettings) {
    this.client = new OAuth2Client({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      ...(settings.tokenUrl ? { endpoints: { oauth2TokenUrl: settings.tokenUrl } } : {}),
    });
    this.client.setCredentials(settings.tokens as Credentials);
    // A refresh answer usually has no refresh_token: keep the one we have (reference §3).
    this.client.on('tokens', (tokens) => {
      const merged: GoogleTokens = { ...this.client.credentials, ...tokens, refresh_token: tokens.refresh_token ?? this.client.credentials.refresh_token ?? null };
      // A save that fails leaves the refreshed token in memory; the next refresh saves again.
      settings.saveTokens(merged).catch(() => undefined);
    });
  }

  /** Runs one API call; a 401 refreshes the access token once and tries again. Errors come out as ProviderErrors. */
  async authorized<T>(fn: () => Promise<T>, what: string): Promise<T> {
    const generation = this.generation;
    try {
      return await mapped(fn, what);
    } catch (error) {
      if (!(error instanceof AuthExpiredError) || error.status !== 401) throw error;
      await this.refresh(generation);
      try {
        return await mapped(fn, what);
      } catch (again) {
        if (again instanceof AuthExpiredError && again.status === 401) {
          throw new AuthExpiredError(`${what}: Google refused a freshly refreshed access token`, 401);
        }
        throw again;
      }
    }
  }

  private refresh(generation: number): Promise<void> {
    if (generation !== this.generation) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        this.client.setCredentials({ ...this.client.credentials, access_token: null, expiry_date: null });
        await this.client.getAccessToken();
        this.generation += 1;
      } catch (error) {
        throw errorFromThrown(error, 'refreshing the Google access token');
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** A valid access token (refreshed first if it is about to expire), for requests made by hand. */
  async bearer(): Promise<string> {
    try {
      const { token } = await this.client.getAccessToken();
      if (!token) throw new AuthExpiredError('no Google access token; authorize the account again');
      return token;
    } catch (error) {
      throw errorFromThrown(error, 'refreshing the Google access token');
    }
  }
}

async function mapped<T>(fn: () => Promise<T>, what: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw errorFromThrown(error, what);
  }
}
