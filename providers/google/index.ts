// The Google Calendar provider's descriptor: OAuth tokens in the vault (from `tripcal auth google`
// or authorize_calendar), the OAuth client from the configuration.
import { z } from 'zod';
import { accountBase, type ProviderDescriptor } from '../descriptor.js';
import { AuthExpiredError } from '../types.js';
import { GoogleConnector } from './oauth.js';
import type { GoogleClientConfig, GoogleSettings, GoogleTokens } from './settings.js';

export const googleAccountSchema = z
  .object({
    ...accountBase,
    provider: z.literal('google'),
    calendar: z.string().min(1).default('primary'),
    availability_calendars: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type GoogleAccount = z.infer<typeof googleAccountSchema>;

/** The config.yaml keys of the Google OAuth client, each with the environment variable read when the file does not set it. */
const GOOGLE_ENV = { client_id: 'GOOGLE_CLIENT_ID', client_secret: 'GOOGLE_CLIENT_SECRET', redirect_uri: 'GOOGLE_REDIRECT_URI' };

export const googleTokensSecret = (account: string) => `google:${account}:tokens`;

/** The OAuth client, or AuthExpiredError saying where to set it. */
export function googleClient(google: GoogleClientConfig): { clientId: string; clientSecret: string } {
  if (!google.client_id || !google.client_secret) {
    throw new AuthExpiredError('no Google OAuth client is configured: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (or google.client_id and google.client_secret in the config file)');
  }
  return { clientId: google.client_id, clientSecret: google.client_secret };
}

export const google: ProviderDescriptor<GoogleAccount, GoogleSettings, { google: GoogleClientConfig }> = {
  kind: 'google',
  title: 'Google Calendar',
  displayName: 'Google',
  accountSchema: googleAccountSchema as unknown as z.ZodType<GoogleAccount>,
  secretNames: (account) => [googleTokensSecret(account)],
  reconnectHint: (account) =>
    `To fix it, run \`tripcal auth google ${account.name}\`, or ask your assistant to connect Google Calendar again (authorize_calendar).`,
  missingCredentials: async (account, secrets) => ((await secrets.has(googleTokensSecret(account.name))) ? null : `not connected yet: tripcal auth google ${account.name}`),
  async settings(account, secrets, clients) {
    const secret = googleTokensSecret(account.name);
    const stored = await secrets.get(secret);
    if (!stored) throw new AuthExpiredError(`account "${account.name}" is not connected to Google yet`);
    const tokens = JSON.parse(stored) as GoogleTokens;
    let mine = tokens.refresh_token ?? null;
    return {
      kind: 'google',
      calendar: account.calendar,
      ...googleClient(clients.google),
      tokens,
      saveTokens: async (next) => {
        // Compare and set: if the account was connected again meanwhile (another process, or
        // authorize_calendar), its new authorization wins over this provider's refreshed old one.
        const current = await secrets.get(secret);
        const theirs = current ? (JSON.parse(current) as GoogleTokens).refresh_token ?? null : null;
        if (theirs && theirs !== mine && theirs !== next.refresh_token) return;
        mine = next.refresh_token ?? mine;
        await secrets.set(secret, JSON.stringify(next));
      },
      availabilityCalendars: account.availability_calendars,
      // A batch's parts count one by one: none larger than a minute's whole quota.
      ...(clients.google.requests_per_minute > 0 && clients.google.requests_per_minute < 50 ? { batchSize: clients.google.requests_per_minute } : {}),
      apiRoot: clients.google.api_root,
      tokenUrl: clients.google.token_url,
    };
  },
  credential: async (account, secrets) => (JSON.parse((await secrets.get(googleTokensSecret(account.name))) ?? '{}') as GoogleTokens).refresh_token ?? null,
  signInSetup: {
    block: 'google',
    where: 'Google Cloud console → APIs & Services → Credentials (an OAuth client of type "Desktop app" or "Web application")',
    readme: 'Connect Google Calendar',
    exampleRedirect: 'http://127.0.0.1:8976/oauth/callback',
    env: GOOGLE_ENV,
    needs: ({ google: g }, redirectGiven) => [
      { what: 'the OAuth client ID', key: 'client_id', env: GOOGLE_ENV.client_id, present: Boolean(g.client_id) },
      { what: 'the OAuth client secret', key: 'client_secret', env: GOOGLE_ENV.client_secret, present: Boolean(g.client_secret) },
      { what: 'the redirect URI (or pass redirect_uri)', key: 'redirect_uri', env: GOOGLE_ENV.redirect_uri, present: redirectGiven || Boolean(g.redirect_uri) },
    ],
  },
  consentPrompt: 'Connect your Google Calendar to tripcal: sign in to Google and allow access to your calendar events.',
  // A Desktop-app OAuth client accepts any loopback port: Google's flow for installed apps.
  terminalSignIn: { flow: 'loopback', connects: 'a Google account', accountOf: 'Google', primary: 'default' },
  signIn: (deps, clients) => new GoogleConnector(deps.states, deps.secrets, clients.google, deps.restart),
  limits: (clients) => ({ perMinute: clients.google.requests_per_minute }),
  async create(settings, budget) {
    const { GoogleProvider } = await import('./provider.js');
    return new GoogleProvider(settings, budget);
  },
};
