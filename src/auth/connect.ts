// Connecting a calendar account, shared by the MCP tools (authorize_calendar,
// handle_auth_callback) and `tripcal auth <provider>`: which account a user's authorization is
// for, and what happens once the provider sends the code back (credentials to the vault, the
// calendars it can reach, a first sync). Which providers sign in this way, and what they are
// called, comes from their descriptors.
import type { App, EditSync } from '../app.js';
import { ACCOUNT_NAME } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { CalendarInfo } from '../../providers/types.js';
import { OAuthStates, RESTART_WITH_TOOL, type OAuthProvider } from './states.js';
import { descriptorOf, OAUTH_PROVIDERS, PROVIDER_KINDS } from '../../providers/registry.js';
import type { OAuthConnector, SignedIn, SignInDeps } from '../../providers/oauth.js';

/** The providers connected by signing in, in the registry's order (authorize_calendar's choices). */
export const SIGN_IN_PROVIDERS = OAUTH_PROVIDERS;

/** The descriptor of a provider connected by signing in; an InputError for any other name. */
function signInDescriptor(provider: OAuthProvider) {
  if (!OAUTH_PROVIDERS.includes(provider)) {
    throw new InputError('provider', (PROVIDER_KINDS as readonly string[]).includes(provider)
      ? `${provider} accounts are not connected by signing in; set them in the configuration`
      : `no provider "${provider}" (there are: ${OAUTH_PROVIDERS.join(', ')})`);
  }
  return descriptorOf(provider);
}

/** What the provider's calendar is called: "Google Calendar", "Outlook". */
export const providerName = (provider: OAuthProvider) => signInDescriptor(provider).title;
/** Who a person signs in to: "Google", "Microsoft". */
export const signsInWith = (provider: OAuthProvider) => signInDescriptor(provider).displayName;
/** What a client shows with the consent URL. */
export const consentPrompt = (provider: OAuthProvider) =>
  signInDescriptor(provider).consentPrompt ?? `Connect ${providerName(provider)} to tripcal: sign in to ${signsInWith(provider)} and allow access to your calendars.`;

export interface TargetAccount {
  name: string;
  calendar: string;
  configured: boolean;
}

/** What a provider's sign-in needs from this app: its states, the account rows, the vault. */
function signInDeps(app: App, restart: string): SignInDeps {
  return { states: states(app, restart), secrets: app.vault, restart };
}

/** The authorization-code sign-in of an OAuth provider (authorize_calendar, handle_auth_callback). */
export function connectorFor(app: App, provider: OAuthProvider, restart = RESTART_WITH_TOOL): OAuthConnector {
  return signInDescriptor(provider).signIn!(signInDeps(app, restart), app.config);
}

/**
 * The account a user's authorization is for: the one named, else their first of this provider,
 * else a new one. `calendar` (primary, a calendar id, or a name to find or make) may be chosen
 * for accounts that are not in the config file; a configured account keeps the config's.
 */
export async function accountFor(app: App, provider: OAuthProvider, userId: string, name?: string, calendar?: string): Promise<TargetAccount> {
  signInDescriptor(provider); // only a provider that signs in
  const all = await app.sync.accounts();
  const configuredNames = new Set(app.config.accounts.map((a) => a.name));
  const existing = name ? all.find((a) => a.name === name) : all.find((a) => a.provider === provider && a.user === userId);
  if (name && !ACCOUNT_NAME.test(name)) throw new InputError('account', 'letters, digits, _ and - only, at most 40');
  if (existing) {
    if (existing.provider !== provider) throw new InputError('account', `"${existing.name}" is a ${existing.provider} account, not a ${providerName(provider)} one`);
    if (existing.user !== userId) throw new InputError('account', `"${existing.name}" belongs to another user`);
    const configured = configuredNames.has(existing.name);
    if (configured && calendar && calendar !== existing.calendar) {
      throw new InputError('calendar', `account "${existing.name}" is in the config file, which sets its calendar ("${existing.calendar}"); change it there`);
    }
    if (!configured && calendar && calendar !== existing.calendar && (await app.sync.links.links(existing.name)).length > 0) {
      // Its events and sync token belong to the old calendar; moving them is not what a reconnect should do.
      throw new InputError('calendar', `account "${existing.name}" already keeps trips in "${existing.calendar}"; to use "${calendar}", connect it under another account name (account: …)`);
    }
    return { name: existing.name, calendar: configured ? existing.calendar : calendar ?? existing.calendar, configured };
  }
  if (name) return { name, calendar: calendar ?? 'primary', configured: false };
  const taken = new Set(all.map((a) => a.name));
  const slug = userId.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 32);
  const candidates = [provider, `${provider}-${slug}`, ...Array.from({ length: 50 }, (_, i) => `${provider}-${slug}-${i + 2}`)];
  return { name: candidates.find((c) => !taken.has(c))!, calendar: calendar ?? 'primary', configured: false };
}

export interface Connected {
  provider: OAuthProvider;
  account: string;
  calendars: CalendarInfo[];
  calendarsError: string | null;
  sync: EditSync;
  /**
   * The writable calendars named like the one asked for, when there are several (two "Trips" in
   * one Google account): the first is used unless the person picks another (chooseCalendar).
   */
  sameName: CalendarInfo[];
}

/** What finishing a sign-in does before the first sync. */
export interface FinishOptions {
  /** Hold the first sync when the calendar's name fits several calendars: the caller asks which first. */
  holdIfAmbiguous?: boolean;
}

/** The sync a held first sync stands for, until the person said which calendar. */
const HELD: EditSync = { status: 'pending', message: 'waiting to hear which calendar to use', accounts: [] };

/** After a sign-in that needed no redirect (a device code): the account exists, its calendars, a first sync. */
export async function finishSignIn(app: App, userId: string, provider: OAuthProvider, done: SignedIn): Promise<Connected> {
  return connected(app, userId, provider, done);
}

function states(app: App, restart = RESTART_WITH_TOOL): OAuthStates {
  return new OAuthStates(app.store.oauthStates, app.vault, restart);
}

/** Who a state still open is for (user and provider), else null. */
export function pendingAuthorization(app: App, state: string): Promise<{ userId: string; provider: OAuthProvider } | null> {
  return states(app).pending(state);
}

export function abandonAuthorization(app: App, state: string): Promise<void> {
  return states(app).abandon(state);
}

/**
 * The code and state the browser came back with, whichever provider the state was issued for.
 * `restart` words how to start over if it is refused (the command's own name, from the terminal).
 */
export async function finishAuthorization(
  app: App, userId: string, code: string, state: string, restart = RESTART_WITH_TOOL, options: FinishOptions = {},
): Promise<Connected> {
  // A state that can no longer be completed names no provider: taking it refuses it, saying why
  // (unknown, another user's, used, expired).
  const provider = (await pendingAuthorization(app, state))?.provider ?? (await states(app, restart).take(userId, state)).provider;
  const flow = connectorFor(app, provider, restart);
  return connected(app, userId, provider, await flow.finish(userId, code, state), options);
}

/**
 * After a sign-in was kept: the account exists (a configured one as it is, else recorded as
 * connected, with the calendar it was made for), its calendars are listed, and the trips sync.
 */
async function connected(
  app: App, userId: string, provider: OAuthProvider, done: { account: string; calendar: string }, options: FinishOptions = {},
): Promise<Connected> {
  if (!app.config.accounts.some((a) => a.name === done.account)) {
    await app.sync.links.connectAccount(done.account, userId, provider, { calendar: done.calendar }, new Date().toISOString());
  }
  app.sync.reconnect(done.account);
  const listed = await calendarsOf(app, done.account);
  const sameName = listed.calendars.filter((c) => c.writable && c.name === done.calendar && c.id !== done.calendar);
  const ambiguous = sameName.length > 1;
  const sync = ambiguous && options.holdIfAmbiguous ? HELD : await app.syncAfterEdit(userId);
  return { provider, account: done.account, ...listed, sync, sameName: ambiguous ? sameName : [] };
}

async function calendarsOf(app: App, account: string): Promise<{ calendars: CalendarInfo[]; calendarsError: string | null }> {
  try {
    return { calendars: await app.sync.listCalendars(account), calendarsError: null };
  } catch (error) {
    return { calendars: [], calendarsError: (error as Error).message };
  }
}

/**
 * The person picked one of the calendars of the same name: a connected account keeps its trips
 * in that one (by id) from now on, and syncs. `null`: they did not pick; the first one it is.
 */
export async function chooseCalendar(app: App, userId: string, account: string, calendarId: string | null): Promise<Connected> {
  const row = (await app.sync.links.connectedAccounts()).find((a) => a.name === account && a.userId === userId);
  if (!row) throw new InputError('account', `no account "${account}" connected for user "${userId}"`);
  if (calendarId !== null) {
    if (app.config.accounts.some((a) => a.name === account)) {
      throw new InputError('calendar', `account "${account}" is set in the config file: put calendar: ${calendarId} there`);
    }
    if ((await app.sync.links.links(account)).length > 0) {
      throw new InputError('calendar', `account "${account}" already keeps trips in its calendar; connect another account name to use ${calendarId}`);
    }
    await app.sync.links.connectAccount(account, userId, row.provider, { ...row.settings, calendar: calendarId }, new Date().toISOString());
    app.sync.reconnect(account);
  }
  const listed = await calendarsOf(app, account);
  return { provider: row.provider, account, ...listed, sync: await app.syncAfterEdit(userId), sameName: [] };
}
