// From a configured account to a connected provider: the settings each provider needs, with
// secrets from the config (${ENV}) or, failing that, the vault.
import { createProvider, type ProviderSettings } from '../../providers/registry.js';
import { AuthExpiredError, type CalendarProvider } from '../../providers/types.js';
import { caldavPasswordSecret, type Vault } from '../auth/vault.js';
import type { ConfiguredAccount } from './engine.js';

export function providerSettings(account: ConfiguredAccount, vault: Vault): ProviderSettings {
  const password = account.password ?? vault.get(caldavPasswordSecret(account.name));
  if (!password) {
    throw new AuthExpiredError(`account "${account.name}" has no password`);
  }
  return { kind: 'caldav', url: account.url, username: account.username, password, calendar: account.calendar };
}

export function providerFor(vault: Vault): (account: ConfiguredAccount) => Promise<CalendarProvider> {
  return async (account) => createProvider(providerSettings(account, vault));
}
