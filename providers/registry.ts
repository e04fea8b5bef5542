// The provider registry: the list of descriptors, one per folder under providers/. Adding a
// provider is one folder and its entries here: its descriptor, its account schema and settings
// type, and for an OAuth provider its client's config block; nothing else in tripcal has to name
// it. Each descriptor loads its SDK only when an account uses it, so an SDK nobody needs never
// slows start-up.
import type { z } from 'zod';
import { caldav, caldavAccountSchema } from './caldav/index.js';
import type { CalDavSettings } from './caldav/settings.js';
import type { AccountLike, ProviderDescriptor, SecretStore } from './descriptor.js';
import { google, googleAccountSchema } from './google/index.js';
import { GoogleClientSchema, type GoogleSettings } from './google/settings.js';
import { outlook, outlookAccountSchema } from './outlook/index.js';
import { OutlookClientSchema, type OutlookSettings } from './outlook/settings.js';
import type { CalendarProvider } from './types.js';

export type { CalDavSettings } from './caldav/settings.js';
export type { GoogleSettings, GoogleTokens } from './google/settings.js';
export type { OutlookSettings } from './outlook/settings.js';

export type ProviderSettings = CalDavSettings | GoogleSettings | OutlookSettings;

export const PROVIDERS = [caldav, google, outlook] as const;
/** Their entries under `accounts:` in config.yaml, for the config schema's union on `provider`. */
export const ACCOUNT_SCHEMAS = [caldavAccountSchema, googleAccountSchema, outlookAccountSchema] as const;
/** The OAuth clients' blocks in config.yaml (`google:`, `outlook:`), empty unless set. */
export const CLIENT_SCHEMAS = { google: GoogleClientSchema.prefault({}), outlook: OutlookClientSchema.prefault({}) };

/** The configuration every provider's settings may draw on (the OAuth clients). */
export type ClientConfigs = { [Block in keyof typeof CLIENT_SCHEMAS]: z.output<(typeof CLIENT_SCHEMAS)[Block]> };

export const PROVIDER_KINDS = PROVIDERS.map((p) => p.kind);
/** The providers connected by signing in (OAuth), in the registry's order. */
export const OAUTH_PROVIDERS: readonly string[] = PROVIDERS.filter((p) => p.signIn !== undefined).map((p) => p.kind);

/** The OAuth clients' blocks in config.yaml (`google:`), each key with its environment variable. */
export const CLIENT_BLOCKS: readonly { block: string; env: Record<string, string> }[] = PROVIDERS.flatMap((p) =>
  (p.signInSetup ? [{ block: p.signInSetup.block, env: p.signInSetup.env }] : []));

type AnyDescriptor = ProviderDescriptor<AccountLike, ProviderSettings, ClientConfigs>;

/** The descriptor of a provider kind (as an account's `provider:` names it). */
export function descriptorOf(kind: string): AnyDescriptor {
  const found = PROVIDERS.find((p) => p.kind === kind);
  if (!found) throw new Error(`no provider "${kind}" (there are: ${PROVIDER_KINDS.join(', ')})`);
  return found as unknown as AnyDescriptor;
}

/** Every vault name any provider may keep for an account. */
export function accountSecrets(account: string): string[] {
  return PROVIDERS.flatMap((p) => p.secretNames(account));
}

export async function createProvider(settings: ProviderSettings): Promise<CalendarProvider> {
  return descriptorOf(settings.kind).create(settings);
}

export type { SecretStore };
