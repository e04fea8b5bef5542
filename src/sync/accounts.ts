// From a configured account to a connected provider: the settings each provider needs, with
// secrets from the config (${ENV}) or, failing that, the vault.
import { createHash } from 'node:crypto';
import { createProvider, type GoogleTokens, type ProviderSettings } from '../../providers/registry.js';
import { AuthExpiredError, type CalendarProvider } from '../../providers/types.js';
import { caldavPasswordSecret, googleTokensSecret, outlookCacheSecret, type SecretStore } from '../../providers/secrets.js';
import { googleClient, outlookClient } from '../config/clients.js';
import type { Config, GoogleClientConfig, OutlookClientConfig } from '../config/schema.js';

/** The parts of the configuration providers are built from. */
export type ClientConfigs = Pick<Config, 'google' | 'outlook'>;
import type { ConfiguredAccount } from './engine.js';

/** What a person does to (re)connect an account, for needs_reauth messages. */
export function reconnectHint(account: ConfiguredAccount): string {
  if (account.provider === 'google') {
    return `To fix it, run \`tripcal auth google ${account.name}\`, or ask your assistant to connect Google Calendar again (authorize_calendar).`;
  }
  if (account.provider === 'outlook') {
    return `To fix it, run \`tripcal auth outlook ${account.name}\` (sign in with a code, fine on a server), or ask your assistant to connect Outlook again (authorize_calendar with provider "outlook").`;
  }
  return `To fix it, check the username, and set the password in the configuration (password: \${CALDAV_PASSWORD}) or run \`tripcal auth caldav ${account.name}\`.`;
}

export function providerSettings(account: ConfiguredAccount, vault: SecretStore, clients: ClientConfigs): ProviderSettings {
  const google = clients.google;
  if (account.provider === 'outlook') {
    const secret = outlookCacheSecret(account.name);
    if (!vault.get(secret)) throw new AuthExpiredError(`account "${account.name}" is not connected to Outlook yet`);
    return {
      kind: 'outlook',
      calendar: account.calendar,
      ...outlookClient(clients.outlook),
      tokenCache: () => vault.get(secret),
      saveCache: (cache) => vault.set(secret, cache),
      authority: clients.outlook.authority,
      graphUrl: clients.outlook.graph_url,
    };
  }
  if (account.provider === 'google') {
    const secret = googleTokensSecret(account.name);
    const stored = vault.get(secret);
    if (!stored) throw new AuthExpiredError(`account "${account.name}" is not connected to Google yet`);
    const tokens = JSON.parse(stored) as GoogleTokens;
    let mine = tokens.refresh_token ?? null;
    return {
      kind: 'google',
      calendar: account.calendar,
      ...googleClient(google),
      tokens,
      saveTokens: (next) => {
        // Compare and set: if the account was connected again meanwhile (another process, or
        // authorize_calendar), its new authorization wins over this provider's refreshed old one.
        const current = vault.get(secret);
        const theirs = current ? (JSON.parse(current) as GoogleTokens).refresh_token ?? null : null;
        if (theirs && theirs !== mine && theirs !== next.refresh_token) return;
        mine = next.refresh_token ?? mine;
        vault.set(secret, JSON.stringify(next));
      },
      availabilityCalendars: account.availability_calendars,
      apiRoot: google.api_root,
      tokenUrl: google.token_url,
    };
  }
  const password = account.password ?? vault.get(caldavPasswordSecret(account.name));
  if (!password) {
    throw new AuthExpiredError(`account "${account.name}" has no password`);
  }
  return { kind: 'caldav', url: account.url, username: account.username, password, calendar: account.calendar };
}

/**
 * What a connected provider was built from: the account's settings and its credentials (hashed).
 * When it changes (reconnected elsewhere, password stored, config reloaded), the engine builds the
 * provider again instead of going on with the old one.
 */
export function providerFingerprint(account: ConfiguredAccount, vault: SecretStore): string {
  let credential: string | null | undefined;
  try {
    credential = account.provider === 'google'
      ? (JSON.parse(vault.get(googleTokensSecret(account.name)) ?? '{}') as GoogleTokens).refresh_token
      // MSAL rewrites its cache on every refresh; only a new sign-in (another account in it) matters.
      : account.provider === 'outlook' ? outlookSignIn(vault.get(outlookCacheSecret(account.name)))
        : account.password ?? vault.get(caldavPasswordSecret(account.name));
  } catch {
    credential = 'unreadable';
  }
  return createHash('sha256').update(JSON.stringify(account)).update('\0').update(credential ?? '').digest('hex');
}

/** Who an MSAL cache is signed in as (its accounts' ids), not its ever-changing tokens. */
function outlookSignIn(cache: string | null): string | null {
  if (!cache) return null;
  const accounts = (JSON.parse(cache) as { Account?: Record<string, unknown> }).Account ?? {};
  return Object.keys(accounts).sort().join(',');
}

export function providerFor(vault: SecretStore, clients: ClientConfigs): (account: ConfiguredAccount) => Promise<CalendarProvider> {
  return async (account) => createProvider(providerSettings(account, vault, clients));
}
