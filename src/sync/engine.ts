// The sync engine: for each configured account, list what changed remotely, fold it into the
// links, plan, and apply — never two runs of one account at once, and one failing account never
// stops another. Also answers sync_status and list_calendars.
import type { BusyInterval, CalendarInfo, CalendarProvider, EventContent, PushChannel, WatchTarget } from '../../providers/types.js';
import { AuthExpiredError, ProviderError } from '../../providers/types.js';
import type { AccountConfig, Config } from '../config/schema.js';
import { desiredEvents, desiredEventsForItem, type DesiredEvent } from '../events/desired.js';
import { log } from '../log.js';
import type { Store } from '../store/store.js';
import { SyncStore, type Link } from '../store/sync.js';
import type { Trips } from '../trips/service.js';
import { reconnectHint } from './accounts.js';
import { applyPlan, emptyCounts, StopAccount, type SyncCounts } from './apply.js';
import { changesFromRemote, observe, plan } from './plan.js';
import { checkAvailability, type Availability } from './availability.js';
import { leaveCalendar } from './move.js';
import { ProviderPool } from './pool.js';
import { AccountRoster } from './roster.js';
import { syncStatus, type AccountStatus } from './status.js';
import { withRetry } from './retry.js';

export interface SyncRequest {
  account?: string;
  userId?: string;
  tripId?: string;
  recreate?: boolean;
  resolve?: 'model' | 'remote';
  allowMassDelete?: boolean;
  onProgress?: (progress: { account: string; done: number; total: number }) => void;
  /** The caller gave up (an MCP client cancelled): writes in flight finish, nothing new starts. */
  signal?: AbortSignal;
}

export interface AccountReport {
  account: string;
  status: 'ok' | 'error' | 'guarded' | 'needs_reauth';
  message: string | null;
  counts: SyncCounts;
  gone: string[];
  requests: number;
}

export type ConfiguredAccount = AccountConfig & { user: string };

/**
 * A run is the only writer of its account's links and cursor (runs of one account never overlap),
 * so its transactions need to be whole, not isolated from other accounts' runs.
 */
const ALONE = { isolated: false };

/**
 * The sync run: for each account, list, observe, plan and apply, one run per account at a time.
 * Which accounts there are is the roster's; their connected providers are the pool's; what to
 * do about each event is plan's.
 */
export class SyncEngine {
  readonly links: SyncStore;
  private readonly roster: AccountRoster;
  private readonly pool: ProviderPool;
  private readonly running = new Map<string, Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly config: Config,
    private readonly trips: Trips,
    makeProvider: (account: ConfiguredAccount) => Promise<CalendarProvider>,
    private readonly now: () => string = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    /** What a provider was built from; a change builds it again (see providerFingerprint). */
    fingerprint: (account: ConfiguredAccount) => Promise<string> = async () => '',
  ) {
    this.links = store.syncRows;
    this.roster = new AccountRoster(config, this.links);
    this.pool = new ProviderPool(makeProvider, fingerprint);
  }

  /** The configured accounts, then those connected through authorize_calendar. */
  accounts(userId?: string): Promise<ConfiguredAccount[]> {
    return this.roster.all(userId);
  }

  account(name: string): Promise<ConfiguredAccount> {
    return this.roster.byName(name);
  }

  /** Drops the account's connected provider: the next run connects again (say, with new tokens). */
  reconnect(name: string): void {
    this.pool.drop(name);
  }

  private provider(account: ConfiguredAccount): Promise<CalendarProvider> {
    return this.pool.get(account);
  }

  /**
   * Syncs every selected account at once; each report says how its account fared. An unexpected
   * error in one account is raised only after every other account has finished its run.
   */
  async sync(request: SyncRequest = {}): Promise<AccountReport[]> {
    const selected = request.account ? [await this.account(request.account)] : await this.accounts(request.userId);
    const settled = await Promise.allSettled(selected.map((account) => this.exclusive(account.name, () => this.syncAccount(account, request))));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<AccountReport>).value);
  }

  /** One run of an account at a time: in this process, and (on PostgreSQL) across every replica. */
  private exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.running.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.store.exclusive(`sync:${name}`, fn));
    this.running.set(name, next);
    const forget = () => {
      if (this.running.get(name) === next) this.running.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  private async syncAccount(account: ConfiguredAccount, request: SyncRequest): Promise<AccountReport> {
    const counts = emptyCounts();
    const report = async (status: AccountReport['status'], message: string | null, gone: string[] = [], requests = 0): Promise<AccountReport> => {
      await this.links.setStatus(account.name, status, message, this.now(), status === 'ok');
      if (status !== 'ok') log.warn('sync stopped', { account: account.name, status, reason: message });
      return { account: account.name, status, message, counts, gone, requests };
    };
    await this.links.ensureAccount(account.name, account.user, account.provider, this.now());
    let provider: CalendarProvider | undefined;
    const startRequests = () => provider?.requestCount() ?? 0;
    let before = 0;
    try {
      provider = await this.provider(account);
      before = startRequests();
      const moved = await this.followCalendar(account, counts);
      const row = (await this.links.account(account.name))!;
      const desired = desiredEvents(await this.store.userItems(account.user));
      const byKey = new Map(desired.map((d) => [d.key, d]));
      // Read once: runs of one account never overlap (see exclusive), so nothing changes them meanwhile.
      const links = await this.links.links(account.name);
      const known = new Map<string, string>();
      for (const l of links) if (l.remoteId && l.remoteEtag) known.set(l.remoteId, l.remoteEtag);
      const listing = await withRetry(() => provider!.list(row.cursor, (id) => known.get(id)), this.retryOptions());
      const observed = observe(links, listing, {
        account: account.name, knownItems: await this.links.knownItemIds(account.user), desired: byKey, now: this.now(),
        acceptEmpty: request.recreate || request.allowMassDelete,
      });
      if (observed.guard) return report('guarded', observed.guard, [], provider.requestCount() - before);
      // Links and cursor together. Copies to delete live only in this listing, so with any, the
      // cursor moves only once the plan has run: a run that stops early lists them again.
      await this.store.transaction(async () => {
        for (const link of observed.links) await this.links.saveLink(link);
        if (observed.duplicates.length === 0) await this.links.setCursor(account.name, listing.cursor);
      }, ALONE);
      const decided = plan({
        desired, links: observed.links, duplicates: observed.duplicates, policy: account.policy,
        inScope: (tripId) => !request.tripId || tripId === request.tripId,
        deletedItems: await this.links.deletedItems(account.user),
        recreate: request.recreate, resolve: request.resolve, allowMassDelete: request.allowMassDelete,
        guard: { maxDeleteShare: this.config.sync.max_delete_share, minGuardedDeletes: this.config.sync.min_guarded_deletes },
      });
      counts.unchanged = decided.unchanged;
      if (decided.guard) return report('guarded', decided.guard, decided.gone, provider.requestCount() - before);
      await applyPlan(decided.operations, {
        account: account.name, policy: account.policy, provider, store: this.links,
        transaction: (fn) => this.store.transaction(fn, ALONE),
        retry: this.retryOptions(),
        pull: (event, remote, written) => this.pull(account, event, remote, written),
        now: this.now,
        onProgress: (done, total) => request.onProgress?.({ account: account.name, done, total }),
        shouldStop: () => (this.stopping ? 'tripcal is shutting down' : request.signal?.aborted ? 'the sync was cancelled' : null),
      }, counts, provider.writeConcurrency ?? this.config.sync.concurrency);
      if (observed.duplicates.length > 0) await this.links.setCursor(account.name, listing.cursor);
      return report(counts.failed > 0 ? 'error' : 'ok', [counts.failed > 0 ? `${counts.failed} event(s) failed; see sync_status` : null, moved]
        .filter(Boolean).join('; ') || null, decided.gone, provider.requestCount() - before);
    } catch (error) {
      const cause = error instanceof StopAccount ? ((error.cause as Error | undefined) ?? error) : error;
      if (cause instanceof AuthExpiredError) {
        this.pool.drop(account.name);
        return report('needs_reauth', `${cause.message}. ${reconnectHint(account)}`);
      }
      if (cause instanceof ProviderError || error instanceof StopAccount) {
        return report('error', `${(cause as Error).message}; the remaining changes stay pending for the next sync`, [], startRequests() - before);
      }
      throw error;
    }
  }

  /**
   * The account's `calendar:` setting changed since its events were written: they leave the old
   * calendar and the plan makes them again in the new one. Says what happened, or null.
   */
  private async followCalendar(account: ConfiguredAccount, counts: SyncCounts): Promise<string | null> {
    const previous = await this.links.accountCalendar(account.name);
    if (previous === account.calendar) return null;
    if (previous === null) {
      await this.links.setAccountCalendar(account.name, account.calendar);
      return null;
    }
    const left = await leaveCalendar(() => this.pool.once({ ...account, calendar: previous }), await this.links.links(account.name), this.retryOptions());
    counts.deleted += left.deleted;
    await this.store.transaction(async () => {
      await this.links.forgetLinks(account.name);
      await this.links.setCursor(account.name, null);
      await this.links.setAccountCalendar(account.name, account.calendar);
      await this.links.journal({ account: account.name, action: 'calendar.move', detail: { deleted: left.deleted, kept: left.problem !== null } }, this.now());
    }, ALONE);
    log.info('calendar changed: events moved', { account: account.name, deleted: left.deleted });
    return `calendar changed from "${previous}" to "${account.calendar}": ${left.deleted} event(s) deleted from the old one and made again here`
      + (left.problem ? `; ${left.problem}` : '');
  }

  private retryOptions() {
    return { attempts: this.config.sync.retry_attempts, maxWaitMs: this.config.sync.retry_max_wait_seconds * 1000 };
  }

  private async pull(account: ConfiguredAccount, event: DesiredEvent, remote: EventContent, written: EventContent | null): Promise<DesiredEvent | null> {
    const changes = changesFromRemote(event, remote, written);
    // Nothing the model keeps was changed (say, only the title): the model's version goes back out.
    if (Object.keys(changes).length === 0) return event;
    try {
      const { item } = await this.trips.updateItem(account.user, event.itemId, { changes });
      return desiredEventsForItem(item).find((d) => d.key === event.key) ?? null;
    } catch (error) {
      log.warn('could not take a remote change into the model', { account: account.name, key: event.key });
      return null;
    }
  }

  /** Every account's state, counts and conflicts (sync_status, /healthz). */
  status(): Promise<AccountStatus[]> {
    return syncStatus(this.store, this);
  }

  /** Busy time of a user's calendars over [from, to), with the trip items that collide with it. */
  availability(user: { id: string; timezone: string }, fromUtc: string, toUtc: string, only?: string[]): Promise<Availability> {
    return checkAvailability(this, this.store, user, fromUtc, toUtc, only);
  }

  /** Busy time of an account, retried like every sync call (a 429 or 503 is waited out, within bounds). */
  async freeBusy(name: string, from: string, to: string): Promise<BusyInterval[]> {
    const provider = await this.provider(await this.account(name));
    return withRetry(() => provider.freeBusy(from, to), this.retryOptions());
  }

  async listCalendars(name: string): Promise<CalendarInfo[]> {
    const provider = await this.provider(await this.account(name));
    return withRetry(() => provider.listCalendars(), this.retryOptions());
  }

  /** The primary account's link for an item's first event: its real id and link once synced. */
  async primaryLink(userId: string, itemId: string): Promise<Link | undefined> {
    const primary = (await this.accounts(userId))[0];
    if (!primary) return undefined;
    return (await this.links.linksForItem(itemId)).find((l) => l.account === primary.name && l.remoteId && l.state === 'synced');
  }

  // ---- push channels (src/daemon/push.ts decides when; these only ask the account's provider)

  /** Whether the account's provider can push its changes (Google, Outlook); CalDAV cannot. */
  async canWatch(name: string): Promise<boolean> {
    const provider = await this.provider(await this.account(name));
    return typeof provider.watch === 'function';
  }

  /** A new channel of the account's calendar, retried like every sync call. */
  async watch(name: string, target: WatchTarget): Promise<PushChannel> {
    const provider = await this.provider(await this.account(name));
    if (!provider.watch) throw new ProviderError(`account "${name}": its calendar cannot push changes`);
    return withRetry(() => provider.watch!(target), this.retryOptions());
  }

  /** The channel extended in place, or null when the provider cannot (then a new one replaces it). */
  async renewWatch(name: string, channel: PushChannel, ttlSeconds: number): Promise<PushChannel | null> {
    const provider = await this.provider(await this.account(name));
    if (!provider.renewWatch) return null;
    return withRetry(() => provider.renewWatch!(channel, ttlSeconds), this.retryOptions());
  }

  async unwatch(name: string, channel: PushChannel): Promise<void> {
    const provider = await this.provider(await this.account(name));
    if (provider.unwatch) await withRetry(() => provider.unwatch!(channel), this.retryOptions());
  }

  /** Whether a run of this account is under way (or queued). */
  busy(name: string): boolean {
    return this.running.has(name);
  }

  /** Shutting down: runs under way finish the writes in flight and leave the rest pending. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()]);
    await this.pool.closeAll();
  }
}
