// From a configured account to a connected provider, through its provider's descriptor: the
// settings it needs (secrets from the config's ${ENV} or, failing that, the vault), the hint
// that reconnects it, and the fingerprint that says when it must be built again.
import { createHash } from 'node:crypto';
import { descriptorOf, type ClientConfigs, type ProviderSettings } from '../../providers/registry.js';
import { accountBudget, type RequestBudget } from '../../providers/budget.js';
import type { SecretStore } from '../../providers/descriptor.js';
import type { CalendarProvider } from '../../providers/types.js';
import type { ConfiguredAccount } from './engine.js';

export type { ClientConfigs };

/** What a person does to (re)connect an account, for needs_reauth messages. */
export function reconnectHint(account: ConfiguredAccount): string {
  return descriptorOf(account.provider).reconnectHint(account);
}

export function providerSettings(account: ConfiguredAccount, vault: SecretStore, clients: ClientConfigs): Promise<ProviderSettings> {
  return descriptorOf(account.provider).settings(account, vault, clients);
}

/**
 * What a connected provider was built from: the account's settings and its credentials (hashed).
 * When it changes (reconnected elsewhere, password stored, config reloaded), the engine builds the
 * provider again instead of going on with the old one.
 */
export async function providerFingerprint(account: ConfiguredAccount, vault: SecretStore): Promise<string> {
  let credential: string | null | undefined;
  try {
    credential = await descriptorOf(account.provider).credential(account, vault);
  } catch {
    credential = 'unreadable';
  }
  return createHash('sha256').update(JSON.stringify(account)).update('\0').update(credential ?? '').digest('hex');
}

/**
 * Builds an account's provider, its requests paced by its share of `budget` (the service's limits
 * per account, kept across every replica on PostgreSQL).
 */
export function providerFor(vault: SecretStore, clients: ClientConfigs, budget: RequestBudget): (account: ConfiguredAccount) => Promise<CalendarProvider> {
  return async (account) => {
    const descriptor = descriptorOf(account.provider);
    const share = accountBudget(budget, account.provider, account.name, descriptor.limits?.(clients) ?? {});
    return descriptor.create(await descriptor.settings(account, vault, clients), share);
  };
}
