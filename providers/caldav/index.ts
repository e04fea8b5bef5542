// The CalDAV provider's descriptor: any CalDAV server (Radicale, Nextcloud, Baïkal, Fastmail,
// iCloud), a username and a password from the config (${VAR}) or the vault.
import { z } from 'zod';
import { accountBase, type ProviderDescriptor } from '../descriptor.js';
import { AuthExpiredError } from '../types.js';
import type { CalDavSettings } from './settings.js';

export const caldavAccountSchema = z
  .object({
    ...accountBase,
    provider: z.literal('caldav'),
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL of the CalDAV server' }),
    username: z.string().min(1),
    password: z.string().min(1, 'empty (set it, e.g. password: ${CALDAV_PASSWORD}, or leave it out and run `tripcal auth caldav NAME`)').optional(),
    calendar: z.string().min(1).default('Trips'),
  })
  .strict();

export type CalDavAccount = z.infer<typeof caldavAccountSchema>;

export const caldavPasswordSecret = (account: string) => `caldav:${account}:password`;

export const caldav: ProviderDescriptor<CalDavAccount, CalDavSettings, unknown> = {
  kind: 'caldav',
  title: 'CalDAV',
  displayName: 'the CalDAV server',
  accountSchema: caldavAccountSchema as unknown as z.ZodType<CalDavAccount>,
  secretNames: (account) => [caldavPasswordSecret(account)],
  reconnectHint: (account) =>
    `To fix it, check the username, and set the password in the configuration (password: \${CALDAV_PASSWORD}) or run \`tripcal auth caldav ${account.name}\`.`,
  missingCredentials: async (account, secrets) => (!account.password && !(await secrets.has(caldavPasswordSecret(account.name))) ? 'no password yet' : null),
  async settings(account, secrets) {
    const password = account.password ?? await secrets.get(caldavPasswordSecret(account.name));
    if (!password) throw new AuthExpiredError(`account "${account.name}" has no password`);
    return { kind: 'caldav', url: account.url, username: account.username, password, calendar: account.calendar };
  },
  credential: async (account, secrets) => account.password ?? secrets.get(caldavPasswordSecret(account.name)),
  async create(settings) {
    const { CalDavProvider } = await import('./provider.js');
    return new CalDavProvider(settings);
  },
};
