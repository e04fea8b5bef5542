// Provider registry: one entry per folder under providers/. Each is imported only when an
// account uses it, so an SDK nobody needs never slows start-up.
import type { CalendarProvider } from './types.js';

export interface CalDavSettings {
  kind: 'caldav';
  url: string;
  username: string;
  password: string;
  calendar: string;
}

/** OAuth tokens as google-auth-library keeps them. */
export interface GoogleTokens {
  access_token?: string | null;
  refresh_token?: string | null;
  expiry_date?: number | null;
  scope?: string;
  token_type?: string | null;
}

export interface GoogleSettings {
  kind: 'google';
  /** `primary`, a calendar id, or the name of a calendar to use (made when missing). */
  calendar: string;
  clientId: string;
  clientSecret: string;
  tokens: GoogleTokens;
  /** Called with the whole token set whenever google-auth-library refreshes it. */
  saveTokens: (tokens: GoogleTokens) => void;
  /** Calendars free/busy looks at; default: every calendar shown in the user's list. */
  availabilityCalendars?: string[];
  batchSize?: number;
  /** How long the calendar list is trusted before it is read again (default 10 minutes). */
  calendarListTtlMs?: number;
  /** Tests only: where the Calendar API and the token endpoint are. */
  apiRoot?: string;
  tokenUrl?: string;
}

export interface OutlookSettings {
  kind: 'outlook';
  /** `primary` (the mailbox's default calendar), a calendar id, or a name (made when missing). */
  calendar: string;
  clientId: string;
  tenantId: string;
  clientSecret?: string;
  /** MSAL's serialized token cache, read from the vault on every use… */
  tokenCache: () => string | null;
  /** …and written back whenever MSAL changed it (a refreshed token). */
  saveCache: (cache: string) => void;
  batchSize?: number;
  /** Tests only: the identity platform's authority (`https://host/<tenant>`) and Graph's base URL. */
  authority?: string;
  graphUrl?: string;
}

export type ProviderSettings = CalDavSettings | GoogleSettings | OutlookSettings;

export const PROVIDER_KINDS = ['caldav', 'google', 'outlook'] as const;

export async function createProvider(settings: ProviderSettings): Promise<CalendarProvider> {
  switch (settings.kind) {
    case 'caldav': {
      const { CalDavProvider } = await import('./caldav/provider.js');
      return new CalDavProvider(settings);
    }
    case 'google': {
      const { GoogleProvider } = await import('./google/provider.js');
      return new GoogleProvider(settings);
    }
    case 'outlook': {
      const { OutlookProvider } = await import('./outlook/provider.js');
      return new OutlookProvider(settings);
    }
  }
}
