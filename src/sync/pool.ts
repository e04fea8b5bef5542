// Providers, one per account, kept while what they were built from (settings and
// credentials: the fingerprint) stays the same; a changed fingerprint builds a new one.
import type { CalendarProvider } from '../../providers/types.js';
import type { ConfiguredAccount } from './engine.js';

export class ProviderPool {
  private readonly providers = new Map<string, { fingerprint: string; provider: Promise<CalendarProvider> }>();

  constructor(
    private readonly make: (account: ConfiguredAccount) => Promise<CalendarProvider>,
    private readonly fingerprint: (account: ConfiguredAccount) => Promise<string>,
  ) {}

  /**
   * The account's provider, built when there is none or it is out of date. It connects when its
   * first call needs it, so a provider that can list from its cursor alone asks nothing more.
   */
  async get(account: ConfiguredAccount): Promise<CalendarProvider> {
    const fingerprint = await this.fingerprint(account);
    const cached = this.providers.get(account.name);
    if (cached?.fingerprint === fingerprint) return cached.provider;
    if (cached) this.drop(account.name);
    const provider = this.make(account);
    void provider.catch(() => {
      if (this.providers.get(account.name)?.provider === provider) this.providers.delete(account.name);
    });
    this.providers.set(account.name, { fingerprint, provider });
    return provider;
  }

  /** A provider for `account` outside the pool (another calendar of it, say), connected, for the caller to close. */
  async once(account: ConfiguredAccount): Promise<CalendarProvider> {
    const provider = await this.make(account);
    await provider.connect();
    return provider;
  }

  /** Forgets the account's provider (closed in the background): the next use connects again. */
  drop(name: string): void {
    const cached = this.providers.get(name);
    this.providers.delete(name);
    void cached?.provider.then((p) => p.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const { provider } of this.providers.values()) await provider.then((p) => p.close()).catch(() => undefined);
    this.providers.clear();
  }
}
