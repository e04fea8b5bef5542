// The Outlook / Microsoft 365 provider's descriptor: MSAL's token cache in the vault (from
// `tripcal auth outlook` or authorize_calendar), the app registration from the configuration.
import { z } from 'zod';
import { accountBase, type ProviderDescriptor } from '../descriptor.js';
import { AuthExpiredError } from '../types.js';
import { OutlookConnector } from './oauth.js';
import type { OutlookClientConfig, OutlookSettings } from './settings.js';

export const outlookAccountSchema = z
  .object({
    ...accountBase,
    provider: z.literal('outlook'),
    calendar: z.string().min(1).default('primary'),
  })
  .strict();

export type OutlookAccount = z.infer<typeof outlookAccountSchema>;

/** The config.yaml keys of the Microsoft OAuth client, each with the environment variable read when the file does not set it. */
const OUTLOOK_ENV = { client_id: 'MS_CLIENT_ID', tenant_id: 'MS_TENANT_ID', client_secret: 'MS_CLIENT_SECRET', redirect_uri: 'MS_REDIRECT_URI' };

/** MSAL's serialized token cache for an Outlook account (its refresh token inside). */
export const outlookCacheSecret = (account: string) => `outlook:${account}:msal-cache`;

/** The app registration, or AuthExpiredError saying where to set it. */
export function outlookClient(outlook: OutlookClientConfig): { clientId: string; tenantId: string; clientSecret?: string } {
  if (!outlook.client_id) {
    throw new AuthExpiredError('no Microsoft app is configured: set MS_CLIENT_ID (and MS_TENANT_ID, default common), or outlook.client_id in the config file');
  }
  return { clientId: outlook.client_id, tenantId: outlook.tenant_id ?? 'common', ...(outlook.client_secret ? { clientSecret: outlook.client_secret } : {}) };
}

/** Who an MSAL cache is signed in as (its accounts' ids), not its ever-changing tokens. */
function signedInAs(cache: string | null): string | null {
  if (!cache) return null;
  const accounts = (JSON.parse(cache) as { Account?: Record<string, unknown> }).Account ?? {};
  return Object.keys(accounts).sort().join(',');
}

export const outlook: ProviderDescriptor<OutlookAccount, OutlookSettings, { outlook: OutlookClientConfig }> = {
  kind: 'outlook',
  title: 'Outlook',
  displayName: 'Microsoft',
  accountSchema: outlookAccountSchema as unknown as z.ZodType<OutlookAccount>,
  secretNames: (account) => [outlookCacheSecret(account)],
  reconnectHint: (account) =>
    `To fix it, run \`tripcal auth outlook ${account.name}\` (sign in with a code, fine on a server), or ask your assistant to connect Outlook again (authorize_calendar with provider "outlook").`,
  missingCredentials: async (account, secrets) => ((await secrets.has(outlookCacheSecret(account.name))) ? null : `not connected yet: tripcal auth outlook ${account.name}`),
  async settings(account, secrets, clients) {
    const secret = outlookCacheSecret(account.name);
    if (!(await secrets.get(secret))) throw new AuthExpiredError(`account "${account.name}" is not connected to Outlook yet`);
    return {
      kind: 'outlook',
      calendar: account.calendar,
      ...outlookClient(clients.outlook),
      tokenCache: () => secrets.get(secret),
      saveCache: (cache) => secrets.set(secret, cache),
      authority: clients.outlook.authority,
      graphUrl: clients.outlook.graph_url,
    };
  },
  // MSAL rewrites its cache on every refresh; only a new sign-in (another account in it) matters.
  credential: async (account, secrets) => signedInAs(await secrets.get(outlookCacheSecret(account.name))),
  signInSetup: {
    block: 'outlook',
    where: 'Microsoft Entra admin center → App registrations (a public client with the redirect URI, or a Web app with a secret in MS_CLIENT_SECRET)',
    readme: 'Connect Outlook / Microsoft 365',
    exampleRedirect: 'http://127.0.0.1:8977/oauth/callback',
    env: OUTLOOK_ENV,
    needs: ({ outlook: o }, redirectGiven) => [
      { what: 'the application (client) ID', key: 'client_id', env: OUTLOOK_ENV.client_id, present: Boolean(o.client_id) },
      { what: 'the redirect URI (or pass redirect_uri)', key: 'redirect_uri', env: OUTLOOK_ENV.redirect_uri, present: redirectGiven || Boolean(o.redirect_uri) },
    ],
  },
  consentPrompt: 'Connect Outlook to tripcal: sign in with your Microsoft account and allow access to your calendars.',
  // The device-code flow needs no browser on this machine, so it works on a server.
  terminalSignIn: { flow: 'device', connects: 'an Outlook / Microsoft 365 account', accountOf: 'Outlook', primary: 'the default calendar' },
  signIn: (deps, clients) => new OutlookConnector(deps.states, deps.secrets, clients.outlook),
  limits: (clients) => ({ concurrent: clients.outlook.concurrent_requests }),
  async create(settings, budget) {
    const { OutlookProvider } = await import('./provider.js');
    return new OutlookProvider(settings, budget);
  },
};
