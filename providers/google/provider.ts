// Google Calendar v3 through googleapis (rules: docs/reference/google-calendar-v3.md).
// - Event ids are chosen by us from the key (base32hex, §4), so a create repeated after a lost
//   answer gets 409 and the event is read back, never made twice; an id whose event the user
//   deleted (still there as `cancelled`, §4) is brought back with a conditional update.
// - Every event we own carries extendedProperties.private (§7); full listings find them with
//   privateExtendedProperty, incremental ones use the syncToken (which allows no filter, §6) and
//   keep ours client-side; 410 fullSyncRequired drops the token for a full listing.
// - Updates and deletes carry If-Match (§5); 412 is a RemoteConflictError the reconciler re-plans.
// - gaxios's own retries are off: the one retry helper (src/sync/retry.ts) backs off with jitter
//   and Retry-After, and treats 403 rateLimitExceeded like 429 (§9, which gaxios does not).
// - A 401 refreshes the access token once (coalesced across concurrent calls), then needs a person.
// - More than a few writes at once go out as batch requests (§10, batch.ts).
import { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { REQUEST_TIMEOUT_MS } from '../http.js';
import { UNLIMITED, type AccountBudget } from '../budget.js';
import type { GoogleSettings } from './settings.js';
import {
  RemoteConflictError, InvalidError, RemoteNotFoundError, type BusyInterval, type CalendarInfo, type CalendarProvider,
  type EventContent, type Listing, type OutgoingEvent, type RemoteEvent,
} from '../types.js';
import { postBatch, WriteBatcher, type Answer, type Call } from './batch.js';
import { errorForAnswer, errorFromThrown } from './errors.js';
import { GoogleSession } from './session.js';
import { busyFromEvents, chunks, freeBusyWindows, MAX_FREEBUSY_CALENDARS } from './freebusy.js';
import { contentOf, googleEvent, keyOf, MARK, patchBody, utcOf, type Event } from './events.js';
import { randomUUID } from 'node:crypto';
import type { PushChannel, WatchTarget } from '../types.js';

const PAGE_SIZE = 2500; // the most events.list allows (§6)
/** Fewer writes than this at once go out one by one; more share a batch of up to `batchSize`. */
const MIN_BATCH = 3;
const GOOGLE_API = 'https://www.googleapis.com/';

const CALENDAR_LIST_TTL_MS = 10 * 60_000;

/** The method options every call gets: no gaxios retries (ours decide), a timeout. */
const CALL = { retry: false, timeout: REQUEST_TIMEOUT_MS } as const;

interface CalendarEntry {
  id: string;
  summary: string;
  accessRole: string;
  primary: boolean;
  selected: boolean;
  hidden: boolean;
}

export class GoogleProvider implements CalendarProvider {
  readonly writeConcurrency: number;
  private readonly session: GoogleSession;
  private readonly api: calendar_v3.Calendar;
  private readonly origin: string;
  private readonly batcher: WriteBatcher;
  private calendarId = '';
  private calendarZone = 'UTC';
  /** The target is a calendar tripcal made for trips (not one with the user's own events). */
  private dedicated = false;
  private entries: CalendarEntry[] | undefined;
  private entriesAt = 0;
  private requests = 0;

  constructor(private readonly settings: GoogleSettings, private readonly budget: AccountBudget = UNLIMITED) {
    this.origin = new URL(settings.apiRoot ?? GOOGLE_API).origin;
    this.session = new GoogleSession(settings);
    this.api = new calendar_v3.Calendar({ auth: this.session.client, rootUrl: `${this.origin}/` });
    const batchSize = settings.batchSize ?? 50;
    this.writeConcurrency = batchSize;
    this.batcher = new WriteBatcher((calls) => this.sendBatch(calls), MIN_BATCH, batchSize);
  }

  requestCount(): number {
    return this.requests;
  }

  private get eventsPath(): string {
    return `/calendar/v3/calendars/${encodeURIComponent(this.calendarId)}/events`;
  }

  private async call<T>(fn: () => Promise<{ data: T }>, what: string): Promise<T> {
    return this.session.authorized(async () => {
      await this.budget.spend(1);
      this.requests += 1;
      return (await fn()).data;
    }, what);
  }

  async connect(): Promise<void> {
    if (this.calendarId) return;
    const wanted = this.settings.calendar;
    if (wanted === 'primary' || wanted.includes('@')) {
      this.calendarId = wanted;
      return;
    }
    const found = (await this.calendarEntries()).find((c) => c.summary === wanted && (c.accessRole === 'owner' || c.accessRole === 'writer'));
    if (found) {
      this.calendarId = found.id;
    } else {
      const made = await this.call(() => this.api.calendars.insert({ requestBody: { summary: wanted } }, CALL), `creating calendar "${wanted}"`);
      this.calendarId = made.id!;
      this.entries = undefined;
    }
    this.dedicated = true;
  }

  /**
   * The user's calendar list, read again once it is older than calendarListTtlMs: a daemon runs
   * for months, and a calendar subscribed to meanwhile must count for free/busy and list_calendars.
   */
  private async calendarEntries(): Promise<CalendarEntry[]> {
    if (this.entries && Date.now() - this.entriesAt < (this.settings.calendarListTtlMs ?? CALENDAR_LIST_TTL_MS)) return this.entries;
    const entries: CalendarEntry[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call(() => this.api.calendarList.list({ maxResults: 250, pageToken }, CALL), 'listing calendars');
      for (const c of page.items ?? []) {
        entries.push({
          id: c.id!, summary: c.summaryOverride ?? c.summary ?? c.id!, accessRole: c.accessRole ?? 'reader',
          // `selected` (shown in the user's calendar list) is often left out, which means false.
          primary: c.primary === true, selected: c.selected === true || c.primary === true, hidden: c.hidden === true,
        });
      }
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    this.entries = entries;
    this.entriesAt = Date.now();
    return entries;
  }

  private remote(event: Event): RemoteEvent {
    return { id: event.id!, etag: event.etag!, key: keyOf(event)!, content: contentOf(event, this.calendarZone), link: event.htmlLink ?? null };
  }

  async list(cursor: string | null, knownEtag?: (id: string) => string | undefined): Promise<Listing> {
    await this.connect();
    const before = this.requests;
    if (cursor) {
      try {
        return await this.listPages({ syncToken: cursor }, false, before, knownEtag);
      } catch (error) {
        // 410 fullSyncRequired: the token is no longer valid; start over with a full listing (§6).
        if (!(error instanceof RemoteNotFoundError && error.status === 410)) throw error;
      }
    }
    return this.listPages({ privateExtendedProperty: [`${MARK}=1`] }, true, before, knownEtag);
  }

  private async listPages(
    params: calendar_v3.Params$Resource$Events$List, full: boolean, before: number, knownEtag?: (id: string) => string | undefined,
  ): Promise<Listing> {
    const listing: Listing = { changed: [], unchanged: [], removed: [], full, cursor: null, requests: 0 };
    let pageToken: string | undefined;
    for (;;) {
      const page = await this.call(() => this.api.events.list({ calendarId: this.calendarId, maxResults: PAGE_SIZE, ...params, pageToken }, CALL), 'listing events');
      if (page.timeZone) this.calendarZone = page.timeZone;
      for (const event of page.items ?? []) {
        if (event.status === 'cancelled') {
          // Deletions come only as {id, status}: whether it was ours, the caller knows by id.
          if (!full) listing.removed.push(event.id!);
          continue;
        }
        if (!keyOf(event)) continue; // not ours: the syncToken listing sees every event
        if (knownEtag?.(event.id!) === event.etag) listing.unchanged.push(event.id!);
        else listing.changed.push(this.remote(event));
      }
      pageToken = page.nextPageToken ?? undefined;
      if (!pageToken) {
        listing.cursor = page.nextSyncToken ?? null;
        break;
      }
    }
    listing.requests = this.requests - before;
    return listing;
  }

  private async getRaw(id: string): Promise<Event | null> {
    try {
      const event = await this.call(() => this.api.events.get({ calendarId: this.calendarId, eventId: id }, CALL), 'reading an event');
      return event;
    } catch (error) {
      if (error instanceof RemoteNotFoundError) return null;
      throw error;
    }
  }

  async get(id: string): Promise<RemoteEvent | null> {
    await this.connect();
    const event = await this.getRaw(id);
    return event && event.status !== 'cancelled' && keyOf(event) ? this.remote(event) : null;
  }

  /** A write through the batcher: alone through googleapis, or as a part of a batch. */
  private async write(call: Call, single: () => Promise<{ status: number; data: unknown }>, what: string): Promise<Event | undefined> {
    const answer = await this.session.authorized(async () => {
      const a = await this.batcher.run(call, async () => {
        await this.budget.spend(1);
        this.requests += 1;
        try {
          const res = await single();
          return { status: res.status, headers: {}, body: res.data };
        } catch (error) {
          const e = error as { response?: { status: number; data: unknown; headers?: Record<string, string> } };
          if (!e.response) throw error;
          return { status: e.response.status, headers: e.response.headers ?? {}, body: e.response.data };
        }
      });
      if (a.status >= 300) {
        // Retry-After may sit in the response's headers object (gaxios) or a plain map (batch).
        const headers = a.headers as unknown as { get?: (n: string) => string | null } & Record<string, string>;
        const retryAfter = typeof headers.get === 'function' ? headers.get('retry-after') : headers['retry-after'];
        throw errorForAnswer(a.status, a.body, retryAfter, what);
      }
      return a;
    }, what);
    return answer.body as Event | undefined;
  }

  private async sendBatch(calls: Call[]): Promise<Answer[]> {
    const token = await this.session.bearer();
    // Google counts a batch of n calls as n requests.
    await this.budget.spend(calls.length);
    this.requests += 1;
    try {
      return await postBatch(this.origin, token, calls);
    } catch (error) {
      throw errorFromThrown(error, 'sending a batch of writes');
    }
  }

  async create(event: OutgoingEvent): Promise<RemoteEvent> {
    await this.connect();
    const body = googleEvent(event);
    try {
      const made = await this.write({ method: 'POST', path: this.eventsPath, body },
        () => this.api.events.insert({ calendarId: this.calendarId, requestBody: body }, CALL), 'creating an event');
      return this.remote(made!);
    } catch (error) {
      if (!(error instanceof RemoteConflictError && error.status === 409)) throw error;
      // The id is taken (§4): by our own event whose answer was lost, or by the one the user deleted.
      const existing = await this.getRaw(body.id!);
      if (!existing) throw error;
      if (existing.status === 'cancelled') return this.update(existing.id!, existing.etag!, event);
      if (keyOf(existing) !== event.key) throw new InvalidError(`event id ${body.id} is taken by an event tripcal does not own`, 409);
      throw new RemoteConflictError('the event exists already', 409, this.remote(existing));
    }
  }

  async update(id: string, etag: string, event: OutgoingEvent): Promise<RemoteEvent> {
    await this.connect();
    // A PATCH of our fields only, conditional on the etag we hold: nothing is read first, and what
    // a person added (guests, a colour, a video call) stays.
    const body = patchBody(event);
    const path = `${this.eventsPath}/${encodeURIComponent(id)}`;
    const saved = await this.write({ method: 'PATCH', path, headers: { 'If-Match': etag }, body },
      () => this.api.events.patch({ calendarId: this.calendarId, eventId: id, requestBody: body }, { ...CALL, headers: { 'If-Match': etag } }),
      'updating an event');
    return this.remote(saved!);
  }

  expectedContent(event: OutgoingEvent): EventContent {
    return contentOf({ ...googleEvent(event), status: 'confirmed' }, this.calendarZone);
  }

  async delete(id: string, etag: string): Promise<void> {
    await this.connect();
    const path = `${this.eventsPath}/${encodeURIComponent(id)}`;
    try {
      await this.write({ method: 'DELETE', path, headers: { 'If-Match': etag } },
        () => this.api.events.delete({ calendarId: this.calendarId, eventId: id }, { ...CALL, headers: { 'If-Match': etag } }),
        'deleting an event');
    } catch (error) {
      // 410 deleted / 404: it is gone already, which is what we wanted.
      if (error instanceof RemoteNotFoundError) return;
      throw error;
    }
  }

  /**
   * Busy time from the user's calendars: freeBusy queries for the others (one per 90 days and 50
   * calendars); the calendar we write to, when it also holds the user's own events (say
   * `primary`), is read instead, so that our own trip events do not count as busy.
   */
  async freeBusy(from: string, to: string): Promise<BusyInterval[]> {
    await this.connect();
    const configured = this.settings.availabilityCalendars?.length ? this.settings.availabilityCalendars : undefined;
    const entries = !configured || this.calendarId === 'primary' || configured.includes('primary') ? await this.calendarEntries() : [];
    const primaryId = entries.find((c) => c.primary)?.id ?? 'primary';
    const real = (id: string) => (id === 'primary' ? primaryId : id);
    const target = real(this.calendarId);
    const ids = [...new Set((configured ?? entries.filter((c) => c.selected && !c.hidden).map((c) => c.id)).map(real))];
    const others = ids.filter((id) => id !== target);
    // A calendar tripcal made holds only trips: left out, unless the user asked for it by name.
    const readTarget = ids.includes(target) && (!this.dedicated || Boolean(configured));
    const busy: BusyInterval[] = [];
    const failed: string[] = [];
    for (const [windowFrom, windowTo] of others.length ? freeBusyWindows(from, to) : []) {
      for (const items of chunks(others, MAX_FREEBUSY_CALENDARS)) {
        const answer = await this.call(() => this.api.freebusy.query({ requestBody: { timeMin: windowFrom, timeMax: windowTo, items: items.map((id) => ({ id })) } }, CALL), 'asking free/busy');
        for (const [id, cal] of Object.entries(answer.calendars ?? {})) {
          // A calendar's own problem comes inside a 200 (reference §8).
          if (cal.errors?.length) failed.push(`${id} (${cal.errors.map((e) => e.reason).join(', ')})`);
          for (const b of cal.busy ?? []) busy.push({ start: utcOf(b.start!), end: utcOf(b.end!), calendar: id });
        }
      }
    }
    if (failed.length > 0 && configured) throw new InvalidError(`free/busy failed for ${[...new Set(failed)].join('; ')}`);
    if (readTarget) busy.push(...await this.ownBusy(from, to));
    return busy.sort((a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end));
  }

  /** Busy time from the target calendar's events that are not ours. */
  private async ownBusy(from: string, to: string): Promise<BusyInterval[]> {
    const busy: BusyInterval[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call(() => this.api.events.list({
        calendarId: this.calendarId, timeMin: from, timeMax: to, singleEvents: true, maxResults: PAGE_SIZE, pageToken,
      }, CALL), 'listing events for free/busy');
      busy.push(...busyFromEvents(page.items ?? [], page.timeZone ?? this.calendarZone, from, to, this.calendarId));
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    return busy;
  }

  async listCalendars(): Promise<CalendarInfo[]> {
    await this.connect();
    const entries = await this.calendarEntries();
    return entries.map((c) => ({
      id: c.id,
      name: c.summary,
      writable: c.accessRole === 'owner' || c.accessRole === 'writer',
      selected: c.id === this.calendarId || (this.calendarId === 'primary' && c.primary),
      accessRole: c.accessRole,
      primary: c.primary,
    }));
  }

  /**
   * events.watch (developers.google.com/workspace/calendar/api/guides/push): a web_hook channel
   * with an id and token of ours; Google answers with its resourceId and the expiration in ms. A
   * channel cannot be renewed: the caller makes a new one before this one ends (they may overlap).
   */
  async watch(target: WatchTarget): Promise<PushChannel> {
    await this.connect();
    const id = target.id ?? randomUUID();
    const ttl = Math.max(1, Math.round(target.ttlSeconds));
    const channel = await this.call(() => this.api.events.watch({
      calendarId: this.calendarId,
      requestBody: { id, type: 'web_hook', address: target.address, token: target.token, params: { ttl: String(ttl) } },
    }, CALL), 'watching the calendar for changes');
    const expires = Number(channel.expiration ?? Date.now() + ttl * 1000);
    return { channelId: channel.id ?? id, resourceId: channel.resourceId ?? null, expiresAt: new Date(expires).toISOString() };
  }

  /** channels.stop with the channel's id and resourceId; a channel Google no longer knows is gone already. */
  async unwatch(channel: PushChannel): Promise<void> {
    try {
      await this.call(() => this.api.channels.stop({ requestBody: { id: channel.channelId, resourceId: channel.resourceId ?? undefined } }, CALL), 'stopping a notification channel');
    } catch (error) {
      if (!(error instanceof RemoteNotFoundError)) throw error;
    }
  }

  async close(): Promise<void> {
    // Nothing held open: googleapis uses fetch per call.
  }
}
