// Which calendar accounts there are: the configured ones, then those connected through
// authorize_calendar (kept in the store with their settings). The sync run asks here; it keeps
// no list of its own.
import { AccountSchema, type Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { SyncStore } from '../store/sync.js';
import type { ConfiguredAccount } from './engine.js';

export class AccountRoster {
  constructor(private readonly config: Config, private readonly rows: SyncStore) {}

  /** The configured accounts, then those connected through authorize_calendar; one user's when `userId` is given. */
  async all(userId?: string): Promise<ConfiguredAccount[]> {
    const configured = this.config.accounts.map((a) => ({ ...a, user: a.user ?? this.config.default_user }));
    const names = new Set(configured.map((a) => a.name));
    const connected = (await this.rows.connectedAccounts())
      .filter((c) => !names.has(c.name))
      .flatMap((c) => {
        const parsed = AccountSchema.safeParse({ ...c.settings, name: c.name, user: c.userId, provider: c.provider });
        return parsed.success ? [{ ...parsed.data, user: c.userId }] : [];
      });
    return [...configured, ...connected].filter((a) => !userId || a.user === userId);
  }

  /** The account of that name, or an InputError listing the ones there are. */
  async byName(name: string): Promise<ConfiguredAccount> {
    const all = await this.all();
    const found = all.find((a) => a.name === name);
    if (!found) {
      const names = all.map((a) => a.name);
      throw new InputError('account', `no account "${name}" in the configuration${names.length ? ` (there are: ${names.join(', ')})` : ''}`);
    }
    return found;
  }
}
