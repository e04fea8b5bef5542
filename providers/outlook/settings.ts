// What the Outlook provider is built from, and the app registration (config.yaml's `outlook:`
// block, or MS_* in the environment).
import { z } from 'zod';
import { loopbackOrHttps } from '../oauth.js';

export interface OutlookSettings {
  kind: 'outlook';
  /** `primary` (the mailbox's default calendar), a calendar id, or a name (made when missing). */
  calendar: string;
  clientId: string;
  tenantId: string;
  clientSecret?: string;
  /** MSAL's serialized token cache, read from the vault on every use… */
  tokenCache: () => Promise<string | null>;
  /** …and written back whenever MSAL changed it (a refreshed token). */
  saveCache: (cache: string) => Promise<void>;
  batchSize?: number;
  /** Tests only: the identity platform's authority (`https://host/<tenant>`) and Graph's base URL. */
  authority?: string;
  graphUrl?: string;
}

/**
 * The Microsoft Entra app registration (public client: no secret needed); tenant `common` lets
 * work, school and personal accounts sign in. authority and graph_url point tests at a fake.
 */
export const OutlookClientSchema = z
  .object({
    client_id: z.string().min(1).optional(),
    tenant_id: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/, 'a tenant id (GUID), a domain, or common / organizations / consumers').optional(),
    client_secret: z.string().min(1).optional(),
    redirect_uri: z.url().refine(loopbackOrHttps, 'an https:// URL, or http:// on 127.0.0.1 / localhost').optional(),
    authority: z.url({ protocol: /^https$/, error: 'an https:// URL such as https://login.microsoftonline.com/<tenant>' }).optional(),
    graph_url: z.url({ protocol: /^https$/, error: 'an https:// URL' }).optional(),
    /** Graph requests in flight at once per mailbox, over every replica: Outlook's limit is 4; 0 sends without a limit. */
    concurrent_requests: z.number().int().min(0).max(64).default(4),
  })
  .strict();

export type OutlookClientConfig = z.infer<typeof OutlookClientSchema>;
