// The OAuth client a Google or Microsoft account signs in and refreshes with, from the config
// (or the environment it was read with): one place for sign-in and sync alike.
import { AuthExpiredError } from '../../providers/types.js';
import type { GoogleClientConfig, OutlookClientConfig } from './schema.js';

export function googleClient(google: GoogleClientConfig): { clientId: string; clientSecret: string } {
  if (!google.client_id || !google.client_secret) {
    throw new AuthExpiredError('no Google OAuth client is configured: set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (or google.client_id and google.client_secret in the config file)');
  }
  return { clientId: google.client_id, clientSecret: google.client_secret };
}

export function outlookClient(outlook: OutlookClientConfig): { clientId: string; tenantId: string; clientSecret?: string } {
  if (!outlook.client_id) {
    throw new AuthExpiredError('no Microsoft app is configured: set MS_CLIENT_ID (and MS_TENANT_ID, default common), or outlook.client_id in the config file');
  }
  return { clientId: outlook.client_id, tenantId: outlook.tenant_id ?? 'common', ...(outlook.client_secret ? { clientSecret: outlook.client_secret } : {}) };
}
