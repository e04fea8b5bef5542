// CalDAV through tsdav (rules: docs/reference/caldav.md). Deterministic href per key with
// If-None-Match: * on create, If-Match on update and delete, RFC 6578 sync-collection for
// incremental listing (with the gaps tsdav leaves closed here: an invalid token falls back to a
// full listing, a 507 truncation continues from the returned token, hrefs need not end in .ics)
// and a calendar-query listing where the server has no sync-collection.
import {
  calendarMultiGet, calendarQuery, createAccount, createObject, deleteObject, DAVNamespaceShort, fetchCalendars,
  makeCalendar, syncCollection, updateObject, type DAVAccount, type DAVResponse,
} from 'tsdav';
import { singleEventCalendar } from '../../core/ical/vevent.js';
import type { CalDavSettings } from './settings.js';
import {
  RemoteConflictError, InvalidError, RemoteNotFoundError, ProviderError, type BusyInterval, type CalendarInfo, type CalendarProvider, type EventContent, type Listing,
  type OutgoingEvent, type RemoteEvent,
} from '../types.js';
import { CountingFetch, errorForStatus } from './http.js';
import { mergeIntervals, parseBusy, parseOwnEvent } from './parse.js';

const MULTIGET_BATCH = 100;
const MAX_TRUNCATED_ROUNDS = 1000;
const ETAG = `${DAVNamespaceShort.DAV}:getetag`;
const CALENDAR_DATA = `${DAVNamespaceShort.CALDAV}:calendar-data`;

/** A safe file name for a key: the same key always maps to the same href. */
export function hrefName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9_-]/g, '-')}.ics`;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'trips';
}

/** `2025-06-15T08:00:00Z` -> `20250615T080000Z`, as CalDAV time ranges are written. */
function toCalDavTime(iso: string): string {
  return new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

interface Entry {
  href: string;
  status: number;
  etag: string | null;
  data: string | null;
  error: Record<string, unknown> | undefined;
}

function entries(responses: DAVResponse[]): Entry[] {
  return responses.map((r) => ({
    href: r.href ?? '',
    status: r.status ?? 0,
    etag: r.props?.getetag !== undefined ? String(r.props.getetag) : null,
    data: r.props?.calendarData !== undefined ? String((r.props.calendarData as { _cdata?: string })?._cdata ?? r.props.calendarData) : null,
    error: r.error as Record<string, unknown> | undefined,
  }));
}

export class CalDavProvider implements CalendarProvider {
  private readonly http = new CountingFetch();
  private readonly headers: Record<string, string>;
  private account: DAVAccount | undefined;
  private calendarUrl = '';

  constructor(private readonly settings: CalDavSettings) {
    this.headers = { authorization: `Basic ${Buffer.from(`${settings.username}:${settings.password}`).toString('base64')}` };
  }

  requestCount(): number {
    return this.http.count;
  }

  private get fetch() {
    return this.http.fetch as unknown as typeof globalThis.fetch;
  }

  async connect(): Promise<void> {
    if (this.account) return;
    try {
      this.account = await createAccount({
        account: { serverUrl: this.settings.url, accountType: 'caldav' },
        headers: this.headers,
        fetch: this.fetch,
      });
    } catch (error) {
      const message = (error as Error).message;
      if (/401|Invalid credentials/i.test(message)) throw errorForStatus(401, `CalDAV login at ${this.settings.url}`);
      throw error instanceof ProviderError ? error : new InvalidError(`CalDAV discovery at ${this.settings.url} failed: ${message}`);
    }
    this.calendarUrl = await this.findOrCreateCalendar();
  }

  private async calendars() {
    return fetchCalendars({ account: this.account, headers: this.headers, fetch: this.fetch });
  }

  private async findOrCreateCalendar(): Promise<string> {
    const wanted = this.settings.calendar;
    const all = await this.calendars();
    if (all.length === 0) {
      // tsdav answers [] when the listing itself failed; only a listing that worked may lead to MKCALENDAR.
      const res = await this.fetch(this.account!.homeUrl!, { method: 'PROPFIND', headers: { ...this.headers, depth: '0' } });
      if (res.status !== 207) throw errorForStatus(res.status, `listing calendars at ${this.account!.homeUrl}`, res.headers.get('retry-after'));
    }
    // tsdav turns numeric-looking names into numbers: compare as text.
    const found = all.find((c) => String(c.displayName) === wanted || withSlash(c.url) === withSlash(new URL(wanted, this.settings.url).href));
    if (found) return withSlash(found.url);
    const url = withSlash(new URL(`${slug(wanted)}/`, withSlash(this.account!.homeUrl!)).href);
    const made = await makeCalendar({
      url,
      props: { [`${DAVNamespaceShort.DAV}:displayname`]: wanted },
      headers: this.headers,
      fetch: this.fetch,
    });
    const status = made[0]?.status ?? 0;
    // 405 / 409: it exists already (made by a run that died before remembering it).
    if (made[0] && !made[0].ok && ![405, 409].includes(status)) throw errorForStatus(status, `creating calendar ${url}`);
    return url;
  }

  async listCalendars(): Promise<CalendarInfo[]> {
    await this.connect();
    return (await this.calendars()).map((c) => ({
      id: withSlash(c.url),
      name: String(c.displayName ?? c.url),
      writable: true,
      selected: withSlash(c.url) === this.calendarUrl,
    }));
  }

  // An event's id is its path on the server (`/user/trips/x.ics`), not the whole URL: the same
  // server reached under another address (https instead of http, a new host name or port) keeps
  // every event's id, so nothing is taken for a copy and deleted.
  private hrefFor(key: string): string {
    return this.idOf(hrefName(key));
  }

  private idOf(href: string): string {
    return new URL(href, this.calendarUrl).pathname;
  }

  /** The URL to send a request for an event to (ids stored as whole URLs by older versions work too). */
  private urlOf(id: string): string {
    return new URL(id, this.calendarUrl).href;
  }

  private toRemote(id: string, etag: string, data: string): RemoteEvent | null {
    const own = parseOwnEvent(data);
    return own && { id, etag, key: own.key, content: own.content, link: this.urlOf(id) };
  }

  async get(id: string): Promise<RemoteEvent | null> {
    await this.connect();
    const res = await this.fetch(this.urlOf(id), { method: 'GET', headers: this.headers });
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok) throw errorForStatus(res.status, `GET ${id}`, res.headers.get('retry-after'));
    return this.toRemote(id, res.headers.get('etag') ?? '', await res.text());
  }

  /** Reads a write's answer: 2xx is success, except a 207 whose inner status failed (Xandikos). */
  private async checkWrite(res: Response, what: string): Promise<void> {
    if (res.status === 207) {
      const body = await res.text();
      const inner = /<(?:\w+:)?status>\s*HTTP\/1\.1\s+(\d{3})/i.exec(body);
      if (inner && Number(inner[1]) >= 300) throw errorForStatus(Number(inner[1]), what, null, true);
      return;
    }
    if (!res.ok) throw errorForStatus(res.status, what, res.headers.get('retry-after'), true);
  }

  private async written(id: string, res: Response, data: string): Promise<RemoteEvent> {
    const etag = res.headers.get('etag');
    // RFC 4791 §5.3.4: no ETag means the server changed what we sent; read it back.
    if (!etag) {
      const stored = await this.get(id);
      if (!stored) throw new RemoteNotFoundError(`${id} vanished right after it was written`);
      return stored;
    }
    return this.toRemote(id, etag, data)!;
  }

  async create(event: OutgoingEvent): Promise<RemoteEvent> {
    await this.connect();
    const id = this.hrefFor(event.key);
    const data = singleEventCalendar(event, new Date().toISOString());
    const res = await createObject({
      url: this.urlOf(id),
      data,
      headers: { ...this.headers, 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' },
      fetch: this.fetch,
    });
    if (res.status === 412) {
      // Our deterministic href is taken: by our own event when an earlier create's answer was lost.
      const existing = await this.get(id);
      if (existing && existing.key !== event.key) throw new InvalidError(`${id} holds another event (${existing.key}); not touching it`);
      throw new RemoteConflictError(`${id} exists already`, 412, existing ?? undefined);
    }
    await this.checkWrite(res, `PUT ${id}`);
    return this.written(id, res, data);
  }

  expectedContent(event: OutgoingEvent): EventContent {
    return parseOwnEvent(singleEventCalendar(event, new Date().toISOString()))!.content;
  }

  async update(id: string, etag: string, event: OutgoingEvent): Promise<RemoteEvent> {
    await this.connect();
    const data = singleEventCalendar(event, new Date().toISOString());
    // tsdav adds If-Match only for a truthy etag; without one an update would overwrite blindly.
    if (!etag) throw new RemoteConflictError(`no etag known for ${id}; read it first`);
    const res = await updateObject({
      url: this.urlOf(id),
      data,
      etag,
      headers: { ...this.headers, 'content-type': 'text/calendar; charset=utf-8', 'if-match': etag },
      fetch: this.fetch,
    });
    await this.checkWrite(res, `PUT ${id}`);
    return this.written(id, res, data);
  }

  async delete(id: string, etag: string): Promise<void> {
    await this.connect();
    if (!etag) throw new RemoteConflictError(`no etag known for ${id}; read it first`);
    const res = await deleteObject({ url: this.urlOf(id), etag, headers: { ...this.headers, 'if-match': etag }, fetch: this.fetch });
    if (res.status === 404 || res.status === 410) return;
    await this.checkWrite(res, `DELETE ${id}`);
  }

  async list(cursor: string | null, knownEtag: (id: string) => string | undefined = () => undefined): Promise<Listing> {
    await this.connect();
    const before = this.http.count;
    const present: Array<{ id: string; etag: string | null }> = [];
    const removed: string[] = [];
    let token = cursor;
    let full = cursor === null;
    for (let round = 0; ; round++) {
      if (round > MAX_TRUNCATED_ROUNDS) throw new InvalidError('sync-collection kept truncating; giving up');
      const result = await this.syncOnce(token).catch((error: unknown) => {
        // Some servers fail on a token they no longer know instead of saying so (Xandikos 0.2.8
        // answers 500): try once more without it before calling the server broken.
        if (token !== null && error instanceof ProviderError && (error.status === 500 || error.status === 400)) return 'invalid-token' as const;
        throw error;
      });
      if (result === 'invalid-token') {
        if (token === null) throw new InvalidError('the server refused an initial sync-collection');
        // RFC 6578 §3.2: the token expired or is unknown; start over with a full listing.
        token = null;
        full = true;
        present.length = 0;
        removed.length = 0;
        continue;
      }
      if (result === 'unsupported') {
        present.push(...(await this.listByQuery()));
        token = null;
        full = true;
        break;
      }
      for (const e of result.entries) {
        if (e.status === 404) removed.push(this.idOf(e.href));
        else if (e.status >= 200 && e.status < 300) present.push({ id: this.idOf(e.href), etag: e.etag });
      }
      token = result.token ?? token;
      if (!result.truncated) break;
    }
    // Only what changed since we last saw it is read in full; the rest is known by its etag.
    const stale = present.filter((p) => p.etag === null || knownEtag(p.id) !== p.etag).map((p) => p.id);
    const unchanged = present.filter((p) => p.etag !== null && knownEtag(p.id) === p.etag).map((p) => p.id);
    const changed = await this.fetchObjects(stale);
    return { changed, unchanged, removed: full ? [] : removed, full, cursor: token, requests: this.http.count - before };
  }

  private async syncOnce(token: string | null): Promise<{ entries: Entry[]; token: string | null; truncated: boolean } | 'invalid-token' | 'unsupported'> {
    const responses = await syncCollection({
      url: this.calendarUrl,
      props: { [ETAG]: {} },
      syncLevel: 1,
      syncToken: token ?? undefined,
      headers: this.headers,
      fetch: this.fetch,
    });
    const list = entries(responses);
    const collection = (e: Entry) => e.href === '' || withSlash(this.urlOf(e.href)) === this.calendarUrl;
    // A plain HTTP error comes back as one entry that is not ok.
    if (list.length === 1 && !responses[0]!.ok && collection(list[0]!)) {
      const only = list[0]!;
      if (only.error?.validSyncToken !== undefined || (token !== null && [403, 409].includes(only.status))) return 'invalid-token';
      if (only.error?.supportedReport !== undefined || (token === null && [403, 501].includes(only.status))) return 'unsupported';
      throw errorForStatus(only.status, `sync-collection on ${this.calendarUrl}`);
    }
    // Xandikos answers an invalid token with a 207 holding an inner 412 for the collection.
    if (list.some((e) => e.error?.validSyncToken !== undefined || (collection(e) && [403, 409, 412].includes(e.status)))) return 'invalid-token';
    const truncated = list.some((e) => collection(e) && e.status === 507);
    const raw = responses[0]?.raw as { multistatus?: { syncToken?: unknown } } | undefined;
    const next = raw?.multistatus?.syncToken;
    return {
      entries: list.filter((e) => !collection(e)),
      token: next !== undefined && next !== null && next !== '' ? String(next) : null,
      truncated,
    };
  }

  /** Every object's href and etag by calendar-query, for servers without sync-collection. */
  private async listByQuery(): Promise<Array<{ id: string; etag: string | null }>> {
    const responses = await calendarQuery({
      url: this.calendarUrl,
      props: { [ETAG]: {} },
      filters: { 'c:comp-filter': { _attributes: { name: 'VCALENDAR' }, 'c:comp-filter': { _attributes: { name: 'VEVENT' } } } },
      depth: '1',
      headers: this.headers,
      fetch: this.fetch,
    }).catch((error: unknown) => {
      if (error instanceof ProviderError) throw error;
      // tsdav throws a plain Error with the status in its text.
      const status = Number(/failed: (\d{3})/.exec(String((error as Error).message))?.[1] ?? 500);
      throw errorForStatus(status, `calendar-query on ${this.calendarUrl}`);
    });
    return entries(responses)
      .filter((e) => e.status >= 200 && e.status < 300 && e.href && withSlash(this.urlOf(e.href)) !== this.calendarUrl)
      .map((e) => ({ id: this.idOf(e.href), etag: e.etag }));
  }

  /** Our events among `hrefs`, read with calendar-multiget in batches; objects gone meanwhile are skipped. */
  private async fetchObjects(hrefs: string[]): Promise<RemoteEvent[]> {
    const out: RemoteEvent[] = [];
    for (let i = 0; i < hrefs.length; i += MULTIGET_BATCH) {
      const batch = hrefs.slice(i, i + MULTIGET_BATCH);
      let responses: DAVResponse[];
      try {
        responses = await calendarMultiGet({
          url: this.calendarUrl,
          props: { [ETAG]: {}, [CALENDAR_DATA]: {} },
          objectUrls: batch.map((h) => this.idOf(h)),
          depth: '1',
          headers: this.headers,
          fetch: this.fetch,
        });
      } catch {
        // tsdav throws when one href of the batch is gone (deleted since the listing): read them one by one.
        for (const href of batch) {
          const one = await this.get(href);
          if (one) out.push(one);
        }
        continue;
      }
      for (const e of entries(responses)) {
        if (e.status < 200 || e.status >= 300 || e.data === null) continue;
        const remote = this.toRemote(this.idOf(e.href), e.etag ?? '', e.data);
        if (remote) out.push(remote);
      }
    }
    return out;
  }

  /**
   * Busy time in [from, to) from every opaque event of the calendar (ours and others'), with
   * recurrences expanded by the server (RFC 4791 §9.6.5). All-day events count as whole UTC days.
   */
  async freeBusy(from: string, to: string): Promise<BusyInterval[]> {
    await this.connect();
    const range = { start: toCalDavTime(from), end: toCalDavTime(to) };
    const responses = await calendarQuery({
      url: this.calendarUrl,
      props: { [ETAG]: {}, [CALENDAR_DATA]: { [`${DAVNamespaceShort.CALDAV}:expand`]: { _attributes: range } } },
      filters: {
        'c:comp-filter': {
          _attributes: { name: 'VCALENDAR' },
          'c:comp-filter': { _attributes: { name: 'VEVENT' }, 'c:time-range': { _attributes: range } },
        },
      },
      depth: '1',
      headers: this.headers,
      fetch: this.fetch,
    });
    const busy: BusyInterval[] = [];
    for (const e of entries(responses)) {
      if (e.data === null) continue;
      busy.push(...parseBusy(e.data, from, to));
    }
    return mergeIntervals(busy.map((b) => ({ start: b.start < from ? from : b.start, end: b.end > to ? to : b.end })).filter((b) => b.start < b.end));
  }

  async close(): Promise<void> {}
}
