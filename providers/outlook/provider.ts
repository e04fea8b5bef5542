// Outlook / Microsoft 365 through Microsoft Graph with @microsoft/microsoft-graph-client (rules:
// docs/reference/microsoft-graph-calendar.md).
// - Graph picks event ids, so a create carries a `transactionId` (§2): the same create repeated
//   (our retry, or the answer lost) gives back the first event instead of a second one. It comes
//   from the key and this create's attempt, so an event the user deleted can be made again.
// - Every event we own carries a single-value extended property holding its key (§2a). A full
//   listing finds ours with `$filter` on it; changes come from `calendarView/delta` (§3), which
//   cannot return the property, so a changed event that may be ours is read again with `$expand`.
//   An expired delta link (410, or a 4xx with syncStateNotFound / resyncRequired) means a full listing.
// - Times go out as wall time + IANA zone and are read back in UTC (`Prefer: outlook.timezone`).
// - Updates and deletes carry If-Match with the event's @odata.etag (§5); 412 (or 409
//   ErrorIrresolvableConflict) is a RemoteConflictError the reconciler re-plans by the account's policy.
// - The SDK's RetryHandler is left out of the middleware chain: the one retry helper
//   (src/sync/retry.ts) honours Retry-After on 429/503/504 (§6), so nothing retries twice.
// - Three or more writes at once go out as JSON $batch requests of up to 20 (§7), their parts in
//   sequence with dependsOn (Outlook throttles more than 4 parallel requests to one mailbox).
import type { Client } from '@microsoft/microsoft-graph-client';
import { REQUEST_TIMEOUT_MS } from '../http.js';
import { WriteBatcher, type Answer, type Call } from '../batcher.js';
import { UNLIMITED, type AccountBudget } from '../budget.js';
import type { OutlookSettings } from './settings.js';
import { deltaExpired, errorFromThrown, graphErrorFor, type GraphErrorLike } from './errors.js';
import {
  InvalidError, RemoteNotFoundError, TransientError,
  type BusyInterval, type CalendarInfo, type CalendarProvider, type EventContent, type Listing, type OutgoingEvent, type RemoteEvent,
} from '../types.js';
import { contentOf, expectedContent, graphEvent, keyOf, KEY_PROPERTY, MARK_PROPERTY, patchOf, READ_PREFER, type GraphEvent } from './events.js';
import { cachePlugin, OutlookSession } from './session.js';
import { batchAnswers, batchBody, FAILED_DEPENDENCY, type BatchResult } from './batch.js';
import { initialDelta, RELIST_AFTER_MS, type Cursor } from './delta.js';
import { busyFromView, viewSpans } from './freebusy.js';
import { sameOrigin } from './links.js';
import { createHash, randomBytes } from 'node:crypto';
import type { PushChannel, WatchTarget } from '../types.js';

const GRAPH = 'https://graph.microsoft.com/';
const PAGE_SIZE = 100;
const MIN_BATCH = 3;
const MAX_BATCH = 20; // §7
/** The mailbox's default calendar, which needs no id. */
const PRIMARY = 'primary';
/** The longest an Outlook event subscription may run: 10,080 minutes (a minute kept for clock skew). */
const MAX_SUBSCRIPTION_SECONDS = 10_079 * 60;

const EXPAND = `singleValueExtendedProperties($filter=id eq '${KEY_PROPERTY}')`;
const FILTER = `singleValueExtendedProperties/Any(ep: ep/id eq '${MARK_PROPERTY}' and ep/value eq '1')`;


export class OutlookProvider implements CalendarProvider {
  readonly writeConcurrency: number;
  private readonly session: OutlookSession;
  private client: Client | undefined;
  private readonly batcher: WriteBatcher;
  private calendarId = '';
  private calendars: GraphEvent[] | undefined;
  private requests = 0;
  /** Set when a forced token refresh failed inside the SDK's middleware. */
  authFailure: Error | undefined;
  /** transactionId per key while its create is being tried (kept across retries, dropped once made). */
  private readonly transactions = new Map<string, string>();

  constructor(private readonly settings: OutlookSettings, private readonly budget: AccountBudget = UNLIMITED) {
    this.session = new OutlookSession(settings, cachePlugin(() => settings.tokenCache(), (cache) => settings.saveCache(cache)));
    this.writeConcurrency = settings.batchSize ?? MAX_BATCH;
    this.batcher = new WriteBatcher((calls) => this.sendBatch(calls), MIN_BATCH, Math.min(MAX_BATCH, this.writeConcurrency));
  }

  requestCount = (): number => this.requests;

  private mailboxName: Promise<string | undefined> | undefined;

  /** The signed-in mailbox (read once from the token cache): Outlook's limits are per mailbox, whichever accounts use it. */
  private mailbox(): Promise<string | undefined> {
    this.mailboxName ??= this.session.username().then((name) => name ?? undefined, () => undefined);
    return this.mailboxName;
  }

  private async graph(): Promise<Client> {
    if (this.client) return this.client;
    const mod = await import('@microsoft/microsoft-graph-client');
    const sdk = ((mod as unknown as { default?: typeof mod }).default ?? mod) as typeof mod;
    const session = this.session;
    const provider = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const graphOrigin = new URL(this.settings.graphUrl ?? GRAPH).origin;
    const counted = () => {
      this.requests += 1;
    };
    // Our chain: the bearer token (sent to the configured host only), then fetch. No RetryHandler (see top).
    const bearer = {
      next: undefined as { execute: (c: unknown) => Promise<void> } | undefined,
      async execute(context: { request: RequestInfo; options?: RequestInit; response?: Response }) {
        // Links are checked where they are followed (sameOrigin); this is the last line.
        const target = typeof context.request === 'string' ? context.request : context.request.url;
        if (new URL(target, graphOrigin).origin !== graphOrigin) throw new InvalidError(`refusing to send the account's token to ${new URL(target).origin}`);
        const headers = new Headers(context.options?.headers);
        headers.set('Authorization', `Bearer ${await session.token()}`);
        context.options = { ...context.options, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
        counted();
        // Outlook's concurrent requests per mailbox, held over every replica while the request is out.
        await provider.budget.withSlot(() => this.next!.execute(context), await provider.mailbox());
        if (context.response?.status === 401) {
          // An access token the cache thought valid was refused: one forced refresh, then give up.
          // A refused refresh is kept for call() to raise: the SDK would wrap it as a network error.
          let fresh: string;
          try {
            fresh = await session.token(true);
          } catch (error) {
            provider.authFailure = error as Error;
            return;
          }
          headers.set('Authorization', `Bearer ${fresh}`);
          counted();
          await provider.budget.withSlot(() => this.next!.execute(context), await provider.mailbox());
        }
      },
      setNext(next: { execute: (c: unknown) => Promise<void> }) {
        this.next = next;
      },
    };
    bearer.setNext(new sdk.HTTPMessageHandler() as never);
    this.client = sdk.Client.initWithMiddleware({ middleware: bearer as never, baseUrl: this.settings.graphUrl ?? GRAPH, defaultVersion: 'v1.0' });
    return this.client;
  }

  private async call<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.graph();
    // The token first (cached by MSAL): a refused sign-in surfaces as itself, not wrapped by the SDK.
    await this.session.token();
    try {
      return await fn(client);
    } catch (error) {
      throw this.takeAuthFailure() ?? errorFromThrown(error, what);
    }
  }

  private takeAuthFailure(): Error | undefined {
    const failure = this.authFailure;
    this.authFailure = undefined;
    return failure;
  }

  /** A link Graph handed back, followed only on the configured origin (see links.ts). */
  private sameOrigin(link: string): string {
    return sameOrigin(link, this.settings.graphUrl ?? GRAPH);
  }

  /** The default calendar is addressed as `/me/calendar` (§1), so using it costs no lookup. */
  private get calendarPath(): string {
    return this.calendarId === PRIMARY ? '/me/calendar' : `/me/calendars/${encodeURIComponent(this.calendarId)}`;
  }

  /** Where a delta chain of the calendar starts: `/me/calendarView/delta` tracks the default one (§3). */
  private get deltaRoot(): string {
    return this.calendarId === PRIMARY ? '/me' : this.calendarPath;
  }

  async connect(): Promise<void> {
    if (this.calendarId) return;
    const wanted = this.settings.calendar;
    if (wanted === 'primary') {
      // No request: a no-change sync from a fresh process is its one delta read.
      this.calendarId = PRIMARY;
      return;
    }
    const all = await this.calendarList();
    const found = all.find((c) => c.id === wanted) ?? all.find((c) => c.name === wanted && c.canEdit !== false);
    if (found) {
      this.calendarId = found.id;
      return;
    }
    if (wanted.startsWith('AAMk') || wanted.length > 100) throw new InvalidError(`no calendar with id ${wanted.slice(0, 20)}… in this mailbox`);
    const made = await this.call(`creating calendar "${wanted}"`, (c) => c.api('/me/calendars').post({ name: wanted })) as GraphEvent;
    this.calendarId = made.id;
    this.calendars = undefined;
  }

  private async calendarList(): Promise<GraphEvent[]> {
    if (this.calendars) return this.calendars;
    const all: GraphEvent[] = [];
    let page = await this.call('listing calendars', (c) => c.api('/me/calendars').top(PAGE_SIZE).get()) as GraphEvent;
    for (;;) {
      all.push(...(page.value ?? []));
      const next = page['@odata.nextLink'];
      if (!next) break;
      page = await this.call('listing calendars', (c) => c.api(this.sameOrigin(next)).get()) as GraphEvent;
    }
    this.calendars = all;
    return all;
  }

  private remote(event: GraphEvent, key: string): RemoteEvent {
    return { id: event.id, etag: event['@odata.etag'] ?? `W/"${event.changeKey}"`, key, content: contentOf(event), link: event.webLink ?? null };
  }

  async list(cursor: string | null, knownEtag?: (id: string) => string | undefined): Promise<Listing> {
    await this.connect();
    const before = this.requests;
    const parsed = cursor ? (JSON.parse(cursor) as Cursor) : null;
    if (parsed && Date.now() - parsed.at < RELIST_AFTER_MS) {
      try {
        const listing = await this.changes(parsed, knownEtag);
        listing.requests = this.requests - before;
        return listing;
      } catch (error) {
        if (!deltaExpired(error)) throw error;
      }
    }
    const listing = await this.fullListing(knownEtag);
    listing.requests = this.requests - before;
    return listing;
  }

  /** Every event of ours (by the property filter), then a new delta chain from now on. */
  private async fullListing(knownEtag?: (id: string) => string | undefined): Promise<Listing> {
    const at = Date.now();
    // The delta round first: whatever changes while the filter pages are read comes in the next round.
    const link = await this.deltaRound(initialDelta(this.deltaRoot, at), () => undefined);
    const listing: Listing = { changed: [], unchanged: [], removed: [], full: true, cursor: JSON.stringify({ link, at } satisfies Cursor), requests: 0 };
    await this.ownEvents(listing, knownEtag);
    return listing;
  }

  /** Every event of ours, by the property filter, into `listing`. */
  private async ownEvents(listing: Listing, knownEtag?: (id: string) => string | undefined): Promise<void> {
    let page = await this.call('listing events', (c) => c.api(`${this.calendarPath}/events`)
      .header('Prefer', READ_PREFER).filter(FILTER).expand(EXPAND).top(PAGE_SIZE).get()) as GraphEvent;
    for (;;) {
      for (const event of page.value ?? []) {
        const key = keyOf(event);
        if (!key) continue;
        if (knownEtag?.(event.id) === event['@odata.etag']) listing.unchanged.push(event.id);
        else listing.changed.push(this.remote(event, key));
      }
      const next = page['@odata.nextLink'];
      if (!next) break;
      page = await this.call('listing events', (c) => c.api(this.sameOrigin(next)).header('Prefer', READ_PREFER).get()) as GraphEvent;
    }
  }


  /** Follows a delta round to its deltaLink; each event (merged by id, last copy wins) goes to `seen`. */
  private async deltaRound(start: string, seen: (event: GraphEvent) => void): Promise<string> {
    // §3.5: the page size preference goes on every request of the round, with the zone and body ones.
    const prefer = `odata.maxpagesize=${PAGE_SIZE}, ${READ_PREFER}`;
    let page = await this.call('listing changes', (c) => c.api(this.sameOrigin(start)).header('Prefer', prefer).get()) as GraphEvent;
    for (;;) {
      for (const event of page.value ?? []) seen(event);
      if (page['@odata.deltaLink']) return page['@odata.deltaLink'];
      const next = page['@odata.nextLink'];
      if (!next) throw new TransientError('listing changes: a delta page had neither a next link nor a delta link');
      page = await this.call('listing changes', (c) => c.api(this.sameOrigin(next)).header('Prefer', prefer).get()) as GraphEvent;
    }
  }

  private async changes(cursor: Cursor, knownEtag?: (id: string) => string | undefined): Promise<Listing> {
    const latest = new Map<string, GraphEvent>();
    const link = await this.deltaRound(cursor.link, (event) => latest.set(event.id, { ...latest.get(event.id), ...event }));
    const listing: Listing = { changed: [], unchanged: [], removed: [], full: false, cursor: JSON.stringify({ link, at: cursor.at } satisfies Cursor), requests: 0 };
    for (const [id, event] of latest) {
      const known = knownEtag?.(id);
      if (event['@removed']) {
        if (known === undefined) continue;
        // Also said of events that only moved out of the window (§3.3): see whether it is really gone.
        const still = await this.read(id);
        if (!still) listing.removed.push(id);
        else if (keyOf(still)) listing.changed.push(this.remote(still, keyOf(still)!));
        continue;
      }
      if (known !== undefined && known === event['@odata.etag']) {
        listing.unchanged.push(id);
        continue;
      }
      // Ours when we know it, or when it carries a transactionId of ours (a create whose answer was lost).
      if (known === undefined && !String(event.transactionId ?? '').startsWith('tripcal-')) continue;
      const full = await this.read(id);
      const key = full && keyOf(full);
      if (full && key) listing.changed.push(this.remote(full, key));
    }
    return listing;
  }

  /** One event with our property, or null when it is gone. */
  private async read(id: string): Promise<GraphEvent | null> {
    try {
      return await this.call('reading an event', (c) => c.api(`/me/events/${encodeURIComponent(id)}`).header('Prefer', READ_PREFER).expand(EXPAND).get()) as GraphEvent;
    } catch (error) {
      if (error instanceof RemoteNotFoundError) return null;
      throw error;
    }
  }

  async get(id: string): Promise<RemoteEvent | null> {
    await this.connect();
    const event = await this.read(id);
    const key = event && keyOf(event);
    return event && key ? this.remote(event, key) : null;
  }

  /** A write alone through the SDK, or as a part of a $batch when several are due at once. */
  private async write(call: Call, what: string): Promise<GraphEvent | undefined> {
    const answer = await this.batcher.run(call, async (): Promise<Answer> => {
      const client = await this.graph();
      await this.session.token();
      try {
        let request = client.api(call.path).header('Prefer', READ_PREFER);
        for (const [k, v] of Object.entries(call.headers ?? {})) request = request.header(k, v);
        const body = call.method === 'POST' ? await request.post(call.body) : call.method === 'PATCH' ? await request.patch(call.body) : await request.delete();
        return { status: 200, headers: {}, body };
      } catch (error) {
        const e = error as GraphErrorLike;
        const failure = this.takeAuthFailure();
        if (failure) throw failure;
        if (!e.statusCode || e.statusCode < 0) throw errorFromThrown(error, what);
        return { status: e.statusCode, headers: { 'retry-after': e.headers?.get?.('retry-after') ?? '' }, body: { error: { code: e.code, message: e.message } } };
      }
    });
    if (answer.status >= 300) {
      const err = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw graphErrorFor(answer.status, err?.code, err?.message ?? '', answer.headers['retry-after'] || null, what);
    }
    return answer.body as GraphEvent | undefined;
  }

  /**
   * §7: one $batch, its parts in sequence (see batch.ts); each answer matched back by id (they may
   * come in any order). Parts not run because an earlier one failed (424) go out again in a new
   * batch: the first part of every batch has no dependency, so each round settles at least one.
   */
  private async sendBatch(calls: Call[]): Promise<Answer[]> {
    const answers: Answer[] = new Array(calls.length);
    let pending = calls.map((_, i) => i);
    while (pending.length > 0) {
      const round = pending;
      const result = await this.call('sending a batch of writes', (c) => c.api('/$batch').post(batchBody(round.map((i) => calls[i]!), READ_PREFER))) as BatchResult;
      const got = batchAnswers(round.map((i) => calls[i]!), result);
      pending = [];
      got.forEach((answer, j) => {
        if (answer.status === FAILED_DEPENDENCY && j > 0) pending.push(round[j]!);
        else answers[round[j]!] = answer;
      });
    }
    return answers;
  }

  async create(event: OutgoingEvent): Promise<RemoteEvent> {
    await this.connect();
    let tx = this.transactions.get(event.key);
    if (!tx) {
      tx = `tripcal-${createHash('sha256').update(event.key).update(randomBytes(8)).digest('hex').slice(0, 32)}`;
      this.transactions.set(event.key, tx);
    }
    const made = await this.write({ method: 'POST', path: `${this.calendarPath}/events`, body: { ...graphEvent(event), transactionId: tx } }, 'creating an event');
    this.transactions.delete(event.key);
    return this.remote(made!, event.key);
  }

  async update(id: string, etag: string, event: OutgoingEvent, current?: EventContent | null): Promise<RemoteEvent> {
    await this.connect();
    const body = current ? patchOf(event, current) : graphEvent(event);
    const saved = await this.write({ method: 'PATCH', path: `/me/events/${encodeURIComponent(id)}`, headers: { 'If-Match': etag }, body }, 'updating an event');
    return this.remote(saved!, event.key);
  }

  expectedContent(event: OutgoingEvent): EventContent {
    return expectedContent(event);
  }

  async delete(id: string, etag: string): Promise<void> {
    await this.connect();
    try {
      await this.write({ method: 'DELETE', path: `/me/events/${encodeURIComponent(id)}`, headers: { 'If-Match': etag } }, 'deleting an event');
    } catch (error) {
      if (!(error instanceof RemoteNotFoundError)) throw error;
    }
  }

  /**
   * Busy time from the default calendar's view (recurrences expanded), 41 days per request. Our
   * own trip events are left out by identity: the ones carrying our key property.
   */
  async freeBusy(from: string, to: string): Promise<BusyInterval[]> {
    await this.connect();
    const mailbox = (await this.session.username()) ?? 'calendar';
    const busy: BusyInterval[] = [];
    for (const [start, end] of viewSpans(from, to)) {
      const window = { startDateTime: new Date(start).toISOString(), endDateTime: new Date(end).toISOString() };
      let page = await this.call('listing events for free/busy', (c) => c.api('/me/calendar/calendarView')
        .query(window).header('Prefer', READ_PREFER).expand(EXPAND).top(PAGE_SIZE).get()) as GraphEvent;
      for (;;) {
        busy.push(...busyFromView(page.value ?? [], start, end, mailbox));
        const next = page['@odata.nextLink'];
        if (!next) break;
        page = await this.call('listing events for free/busy', (c) => c.api(this.sameOrigin(next)).header('Prefer', READ_PREFER).get()) as GraphEvent;
      }
    }
    return busy.sort((a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end));
  }

  async listCalendars(): Promise<CalendarInfo[]> {
    await this.connect();
    return (await this.calendarList()).map((c) => ({
      id: c.id, name: c.name, writable: c.canEdit !== false, selected: this.calendarId === PRIMARY ? c.isDefaultCalendar === true : c.id === this.calendarId,
      accessRole: c.canEdit === false ? 'reader' : 'owner', primary: c.isDefaultCalendar === true,
    }));
  }

  /**
   * The subscription's resource: the calendar's events, or the mailbox's (`me/events`) for the
   * default calendar (a change in another of its calendars then costs one delta read).
   */
  private get subscriptionResource(): string {
    return this.calendarId === PRIMARY ? 'me/events' : `me/calendars/${this.calendarId}/events`;
  }

  /**
   * POST /subscriptions (learn.microsoft.com/graph/api/subscription-post-subscriptions): Graph
   * checks notificationUrl (and lifecycleNotificationUrl) with a validation request before it
   * answers; clientState comes back in every notification.
   */
  async watch(target: WatchTarget): Promise<PushChannel> {
    await this.connect();
    const made = await this.call('subscribing to changes', (c) => c.api('/subscriptions').post({
      changeType: 'created,updated,deleted', notificationUrl: target.address,
      ...(target.lifecycleAddress ? { lifecycleNotificationUrl: target.lifecycleAddress } : {}),
      resource: this.subscriptionResource, expirationDateTime: expiryOf(target.ttlSeconds), clientState: target.token,
    })) as { id: string; expirationDateTime: string };
    return { channelId: made.id, resourceId: null, expiresAt: new Date(made.expirationDateTime).toISOString() };
  }

  /** PATCH /subscriptions/{id} with a new expirationDateTime. */
  async renewWatch(channel: PushChannel, ttlSeconds: number): Promise<PushChannel> {
    const renewed = await this.call('renewing a subscription', (c) => c.api(`/subscriptions/${encodeURIComponent(channel.channelId)}`)
      .patch({ expirationDateTime: expiryOf(ttlSeconds) })) as { expirationDateTime: string };
    return { ...channel, expiresAt: new Date(renewed.expirationDateTime).toISOString() };
  }

  /** DELETE /subscriptions/{id}; one Graph no longer knows is gone already. */
  async unwatch(channel: PushChannel): Promise<void> {
    try {
      await this.call('deleting a subscription', (c) => c.api(`/subscriptions/${encodeURIComponent(channel.channelId)}`).delete());
    } catch (error) {
      if (!(error instanceof RemoteNotFoundError)) throw error;
    }
  }

  /** Nothing held open: the SDK uses fetch per call. */
  async close(): Promise<void> {}
}

/** expirationDateTime for a subscription lasting `ttlSeconds`, at most Outlook's limit. */
function expiryOf(ttlSeconds: number): string {
  return new Date(Date.now() + Math.min(Math.max(60, ttlSeconds), MAX_SUBSCRIPTION_SECONDS) * 1000).toISOString();
}
