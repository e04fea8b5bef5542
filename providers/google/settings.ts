// What the Google provider is built from, and the OAuth client configuration (config.yaml's
// `google:` block, or GOOGLE_* in the environment).
import { z } from 'zod';
import { loopbackOrHttps } from '../oauth.js';

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
  saveTokens: (tokens: GoogleTokens) => Promise<void>;
  /** Calendars free/busy looks at; default: every calendar shown in the user's list. */
  availabilityCalendars?: string[];
  batchSize?: number;
  /** How long the calendar list is trusted before it is read again (default 10 minutes). */
  calendarListTtlMs?: number;
  /** Tests only: where the Calendar API and the token endpoint are. */
  apiRoot?: string;
  tokenUrl?: string;
}

export { loopbackOrHttps };

/** The OAuth client (from Google Cloud console); the *_url keys point tests at a loopback fake. */
export const GoogleClientSchema = z
  .object({
    client_id: z.string().min(1).optional(),
    client_secret: z.string().min(1).optional(),
    redirect_uri: z.url().refine(loopbackOrHttps, 'an https:// URL, or http:// on 127.0.0.1 / localhost').optional(),
    auth_url: z.url().optional(),
    token_url: z.url().optional(),
    api_root: z.url().optional(),
    /**
     * Calendar API requests per minute per Google user, over every replica (each part of a batch
     * counts): Google's per-user quota, 600 unless the project's quota page says otherwise; 0
     * sends without pacing (and lets Google refuse what is over).
     */
    requests_per_minute: z.number().int().min(0).max(1_000_000).default(600),
  })
  .strict();

export type GoogleClientConfig = z.infer<typeof GoogleClientSchema>;
