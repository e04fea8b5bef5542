// What a provider folder exports: one descriptor that holds everything tripcal needs to know of
// it — the accounts it takes (a zod schema), the secrets it keeps in the vault, how a person
// reconnects it, how its settings are made from an account and its secrets, and the factory.
// The registry is the list of descriptors; nothing outside providers/ branches on a provider's name.
import { z } from 'zod';
import type { OAuthConnector, SignInDeps, SignInSetup, TerminalSignIn } from './oauth.js';
import type { AccountBudget } from './budget.js';
import type { CalendarProvider } from './types.js';

/** Account names: `tripcal sync --account NAME`, the vault's secret names. */
export const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
/** User ids: letters, digits and . _ @ + - . */
export const USER_ID = /^[\p{L}\p{N}_@+-][\p{L}\p{N}._@+-]{0,63}$/u;

/** The fields every account has, whatever its provider. */
export const accountBase = {
  name: z.string().regex(ACCOUNT_NAME, 'letters, digits, _ and - only, at most 40'),
  user: z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64').optional(),
  policy: z.enum(['model_wins', 'remote_wins', 'flag']).default('model_wins'),
};

/** Where an account's secrets are read and written (the vault, which seals them). */
export interface SecretStore {
  get(name: string): Promise<string | null>;
  set(name: string, plain: string): Promise<void>;
  has(name: string): Promise<boolean>;
}

/** An account as the configuration gives it: its provider, name and calendar, and that provider's own fields. */
export interface AccountLike {
  name: string;
  provider: string;
  calendar: string;
}

export interface ProviderDescriptor<Account extends AccountLike, Settings, Clients> {
  kind: Account['provider'];
  /** For people: "CalDAV", "Google Calendar", "Outlook". */
  title: string;
  /** Who a person signs in to, in messages ("sign in to Google", "Microsoft said: …"): "Google", "Microsoft". */
  displayName: string;
  /** The account's entry in config.yaml (strict: a typo'd key is an error). */
  accountSchema: z.ZodType<Account>;
  /** Every vault name this provider may keep for an account. */
  secretNames(account: string): string[];
  /** What a person does to (re)connect the account, for needs_reauth and doctor. */
  reconnectHint(account: Account): string;
  /** Why the account cannot sync yet (no password, never signed in), or null. */
  missingCredentials(account: Account, secrets: SecretStore): Promise<string | null>;
  /** The provider's settings from the account, its secrets and the OAuth client configuration; AuthExpiredError when not connected. */
  settings(account: Account, secrets: SecretStore, clients: Clients): Promise<Settings>;
  /** What identifies the account's sign-in (a refresh token, a password): a new one means a new provider. */
  credential(account: Account, secrets: SecretStore): Promise<string | null>;
  /** The provider, its SDK loaded only now; its requests paced by `budget` (its share of the service's limits). */
  create(settings: Settings, budget?: AccountBudget): Promise<CalendarProvider>;
  /** The service's limits per account that `budget` enforces across processes (from the client configuration). */
  limits?(clients: Clients): { perMinute?: number; concurrent?: number };
  /** Its authorization-code sign-in, for providers connected by OAuth (not CalDAV: a password). */
  signIn?(deps: SignInDeps, clients: Clients): OAuthConnector;
  /** What that sign-in needs set up (client ids, redirect URI), with where each is set. */
  signInSetup?: SignInSetup<Clients>;
  /** What an assistant's client shows with the consent URL (MCP URL-mode elicitation). */
  consentPrompt?: string;
  /** How `tripcal auth <kind>` signs in from a terminal (a loopback redirect or a device code). */
  terminalSignIn?: TerminalSignIn;
}
