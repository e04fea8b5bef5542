// Connecting a calendar account, shared by the MCP tools (authorize_calendar,
// handle_auth_callback) and `tripcal auth google`: which account a user's authorization is for,
// and what happens once Google sends the code back (tokens to the vault, the calendars it can
// reach, a first sync).
import type { App, EditSync } from '../app.js';
import { ACCOUNT_NAME } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { CalendarInfo } from '../../providers/types.js';
import { GoogleConnector } from './google-oauth.js';

export interface TargetAccount {
  name: string;
  calendar: string;
  configured: boolean;
}

export function connector(app: App): GoogleConnector {
  return new GoogleConnector(app.store.db, app.sync.links, app.vault, app.config.google);
}

/** The Google account a user's authorization is for: the one named, else their first, else a new one. */
export function googleAccountFor(app: App, userId: string, name?: string): TargetAccount {
  const all = app.sync.accounts();
  const configuredNames = new Set(app.config.accounts.map((a) => a.name));
  if (name) {
    if (!ACCOUNT_NAME.test(name)) throw new InputError('account', 'letters, digits, _ and - only, at most 40');
    const found = all.find((a) => a.name === name);
    if (!found) return { name, calendar: 'primary', configured: false };
    if (found.provider !== 'google') throw new InputError('account', `"${name}" is a ${found.provider} account, not a Google one`);
    if (found.user !== userId) throw new InputError('account', `"${name}" belongs to another user`);
    return { name, calendar: found.calendar, configured: configuredNames.has(name) };
  }
  const mine = all.find((a) => a.provider === 'google' && a.user === userId);
  if (mine) return { name: mine.name, calendar: mine.calendar, configured: configuredNames.has(mine.name) };
  const taken = new Set(all.map((a) => a.name));
  const slug = userId.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 32);
  const candidates = ['google', `google-${slug}`, ...Array.from({ length: 50 }, (_, i) => `google-${slug}-${i + 2}`)];
  return { name: candidates.find((c) => !taken.has(c))!, calendar: 'primary', configured: false };
}

export interface Connected {
  account: string;
  calendars: CalendarInfo[];
  calendarsError: string | null;
  sync: EditSync;
}

/** After the browser came back: checks the state, stores the tokens, lists calendars, syncs. */
export async function finishGoogle(app: App, userId: string, code: string, state: string): Promise<Connected> {
  const google = connector(app);
  const done = await google.finish(userId, code, state);
  const configured = app.config.accounts.some((a) => a.name === done.account);
  google.remember(done.account, userId, configured, new Date().toISOString());
  app.sync.reconnect(done.account);
  let calendars: CalendarInfo[] = [];
  let calendarsError: string | null = null;
  try {
    calendars = await app.sync.listCalendars(done.account);
  } catch (error) {
    calendarsError = (error as Error).message;
  }
  const sync = await app.syncAfterEdit(userId);
  return { account: done.account, calendars, calendarsError, sync };
}
