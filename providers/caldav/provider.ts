// CalDAV in its own small HTTP (rules: docs/reference/caldav.md). Deterministic href per key with
// If-None-Match: * on create, If-Match on update and delete, RFC 6578 sync-collection for
// incremental listing (an invalid token falls back to a full listing, a 507 truncation continues
// from the returned token, hrefs need not end in .ics) and a calendar-query listing where the
// server has no sync-collection.
//
// The calendar's URL and the sync token are kept in the cursor, so a sync from a new process
// with nothing to do is one REPORT. A remembered URL the server no longer answers for (404, 410,
// a redirect, a 403 that is not about the token) is discovered again.
import { singleEventCalendar } from '../../core/ical/vevent.js';
import type { CalDavSettings } from './settings.js';
import {
  RemoteConflictError, InvalidError, RemoteNotFoundError, ProviderError, type BusyInterval, type CalendarInfo, type CalendarProvider, type EventContent, type Listing,
  type OutgoingEvent, type RemoteEvent,
} from '../types.js';
import { cursorKey, readCursor, writeCursor } from './cursor.js';
import { discover, listCalendars, withSlash } from './discovery.js';
import { DavHttp, errorForStatus, header, type DavAnswer } from './http.js';
import { mergeIntervals, parseBusy, parseOwnEvent } from './parse.js';
import { dataOf, etagOf, multiget, queryEtags, queryRange, syncCollection } from './reports.js';
import type { DavEntry } from './xml.js';

const MULTIGET_BATCH = 100;
const MAX_TRUNCATED_ROUNDS = 1000;
const ICS_TYPE = { 'content-type': 'text/calendar; charset=utf-8' };

/** A safe file name for a key: the same key always maps to the same href. */
export function hrefName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9_-]/g, '-')}.ics`;
}

export class CalDavProvider implements CalendarProvider {
  private readonly http: DavHttp;
  private readonly key: string;
  /** The calendar's URL (ending in `/`): remembered from the cursor, or discovered. */
  private collection: string | null = null;
  /** Whether `collection` was found by discovery (else it is taken on trust from the cursor). */
  private discovered = false;
  /** The calendar was made by discovery and nothing was listed or created since: it is empty. */
  private fresh = false;

  constructor(private readonly settings: CalDavSettings) {
    this.http = new DavHttp(`Basic ${Buffer.from(`${settings.username}:${settings.password}`).toString('base64')}`);
    this.key = cursorKey(settings.url, settings.calendar);
  }

  requestCount(): number {
    return this.http.count;
  }

  /** Discovers the calendar now (making it if missing): checks the server and the credentials. */
  async connect(): Promise<void> {
    if (this.discovered) return;
    const found = await discover(this.http, this.settings);
    this.collection = found.collection;
    this.fresh = found.created;
    this.discovered = true;
  }

  /** The calendar's URL, discovered first when none is known. */
  private async calendar(): Promise<string> {
    if (!this.collection) await this.connect();
    return this.collection!;
  }

  async listCalendars(): Promise<CalendarInfo[]> {
    await this.calendar();
    const { calendars } = await listCalendars(this.http, this.settings);
    return calendars.map((c) => ({ id: c.url, name: c.name || c.url, writable: true, selected: c.url === this.collection }));
  }

  // An event's id is its path on the server (`/user/trips/x.ics`), not the whole URL: the same
  // server reached under another address (https instead of http, a new host name or port) keeps
  // every event's id, so nothing is taken for a copy and deleted.
  private idOf(href: string): string {
    return new URL(href, this.collection!).pathname;
  }

  /** The URL to send a request for an event to (ids stored as whole URLs by older versions work too). */
  private urlOf(id: string): string {
    return new URL(id, this.collection!).href;
  }

  private isCollection(href: string): boolean {
    return href === '' || withSlash(this.urlOf(href)) === this.collection;
  }

  private toRemote(id: string, etag: string, data: string): RemoteEvent | null {
    const own = parseOwnEvent(data);
    return own && { id, etag, key: own.key, content: own.content, link: this.urlOf(id) };
  }

  async get(id: string): Promise<RemoteEvent | null> {
    await this.calendar();
    const res = await this.http.request('GET', this.urlOf(id));
    if (res.status === 404 || res.status === 410) return null;
    if (res.status < 200 || res.status >= 300) throw errorForStatus(res.status, `GET ${id}`, header(res, 'retry-after'));
    return this.toRemote(id, header(res, 'etag') ?? '', res.body);
  }

  /** Reads a write's answer: 2xx is success, except a 207 whose inner status failed (Xandikos). */
  private checkWrite(res: DavAnswer, what: string): void {
    if (res.status === 207) {
      const inner = /<(?:\w+:)?status>\s*HTTP\/1\.1\s+(\d{3})/i.exec(res.body);
      if (inner && Number(inner[1]) >= 300) throw errorForStatus(Number(inner[1]), what, null, true);
      return;
    }
    if (res.status < 200 || res.status >= 300) throw errorForStatus(res.status, what, header(res, 'retry-after'), true);
  }

  private async written(id: string, res: DavAnswer, data: string): Promise<RemoteEvent> {
    const etag = header(res, 'etag');
    // RFC 4791 §5.3.4: no ETag means the server changed what we sent; read it back.
    if (!etag) {
      const stored = await this.get(id);
      if (!stored) throw new RemoteNotFoundError(`${id} vanished right after it was written`);
      return stored;
    }
    return this.toRemote(id, etag, data)!;
  }

  async create(event: OutgoingEvent): Promise<RemoteEvent> {
    await this.calendar();
    const id = this.idOf(hrefName(event.key));
    const data = singleEventCalendar(event, new Date().toISOString());
    this.fresh = false;
    const res = await this.http.request('PUT', this.urlOf(id), { headers: { ...ICS_TYPE, 'if-none-match': '*' }, body: data });
    if (res.status === 412) {
      // Our deterministic href is taken: by our own event when an earlier create's answer was lost.
      const existing = await this.get(id);
      if (existing && existing.key !== event.key) throw new InvalidError(`${id} holds another event (${existing.key}); not touching it`);
      throw new RemoteConflictError(`${id} exists already`, 412, existing ?? undefined);
    }
    this.checkWrite(res, `PUT ${id}`);
    return this.written(id, res, data);
  }

  expectedContent(event: OutgoingEvent): EventContent {
    return parseOwnEvent(singleEventCalendar(event, new Date().toISOString()))!.content;
  }

  async update(id: string, etag: string, event: OutgoingEvent): Promise<RemoteEvent> {
    // Without an etag an update would overwrite blindly.
    if (!etag) throw new RemoteConflictError(`no etag known for ${id}; read it first`);
    await this.calendar();
    const data = singleEventCalendar(event, new Date().toISOString());
    const res = await this.http.request('PUT', this.urlOf(id), { headers: { ...ICS_TYPE, 'if-match': etag }, body: data });
    this.checkWrite(res, `PUT ${id}`);
    return this.written(id, res, data);
  }

  async delete(id: string, etag: string): Promise<void> {
    if (!etag) throw new RemoteConflictError(`no etag known for ${id}; read it first`);
    await this.calendar();
    const res = await this.http.request('DELETE', this.urlOf(id), { headers: { 'if-match': etag } });
    if (res.status === 404 || res.status === 410) return;
    this.checkWrite(res, `DELETE ${id}`);
  }

  async list(cursor: string | null, knownEtag: (id: string) => string | undefined = () => undefined): Promise<Listing> {
    const before = this.http.count;
    const saved = readCursor(cursor, this.key);
    if (!this.collection && saved.collection) this.collection = saved.collection;
    // A URL known before this listing may have moved since; one discovered for it has not.
    let mayMove = this.collection !== null;
    await this.calendar();
    // A token belongs to its calendar: one saved for another URL than ours means a full listing.
    let token = saved.collection === null || saved.collection === this.collection ? saved.token : null;
    const present: Array<{ id: string; etag: string | null }> = [];
    const removed: string[] = [];
    const restart = () => {
      token = null;
      present.length = 0;
      removed.length = 0;
    };
    let full = token === null;
    if (this.fresh) {
      // Made a moment ago by discovery: there is nothing in it to list.
      this.fresh = false;
      return { changed: [], unchanged: [], removed: [], full: true, cursor: writeCursor(this.key, this.collection!, null), requests: this.http.count - before };
    }
    for (let round = 0; ; round++) {
      if (round > MAX_TRUNCATED_ROUNDS) throw new InvalidError('sync-collection kept truncating; giving up');
      const result = await syncCollection(this.http, this.collection!, token, mayMove, (href) => this.isCollection(href));
      if (result === 'moved') {
        // The calendar is not where it was: find it again, and list it whole if it moved.
        const was = this.collection;
        mayMove = false;
        this.discovered = false;
        await this.connect();
        if (this.collection !== was) restart();
        full = token === null;
        this.fresh = false;
        continue;
      }
      if (result === 'invalid-token') {
        if (token === null) throw new InvalidError('the server refused an initial sync-collection');
        // RFC 6578 §3.2: the token expired or is unknown; start over with a full listing.
        restart();
        full = true;
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
        else if (e.status >= 200 && e.status < 300) present.push({ id: this.idOf(e.href), etag: etagOf(e) });
      }
      token = result.token ?? token;
      if (!result.truncated) break;
    }
    // Only what changed since we last saw it is read in full; the rest is known by its etag.
    const stale = present.filter((p) => p.etag === null || knownEtag(p.id) !== p.etag).map((p) => p.id);
    const unchanged = present.filter((p) => p.etag !== null && knownEtag(p.id) === p.etag).map((p) => p.id);
    const changed = await this.fetchObjects(stale);
    return { changed, unchanged, removed: full ? [] : removed, full, cursor: writeCursor(this.key, this.collection!, token), requests: this.http.count - before };
  }

  /** Every object's href and etag by calendar-query, for servers without sync-collection. */
  private async listByQuery(): Promise<Array<{ id: string; etag: string | null }>> {
    return (await queryEtags(this.http, this.collection!))
      .filter((e) => e.status >= 200 && e.status < 300 && e.href && !this.isCollection(e.href))
      .map((e) => ({ id: this.idOf(e.href), etag: etagOf(e) }));
  }

  /** Our events among `ids`, read with calendar-multiget in batches; objects gone meanwhile are skipped. */
  private async fetchObjects(ids: string[]): Promise<RemoteEvent[]> {
    const out: RemoteEvent[] = [];
    for (let i = 0; i < ids.length; i += MULTIGET_BATCH) {
      const batch = ids.slice(i, i + MULTIGET_BATCH);
      let entries: DavEntry[];
      try {
        entries = await multiget(this.http, this.collection!, batch);
      } catch (error) {
        if (!(error instanceof ProviderError) || error.status === undefined || error.status === 401 || error.status === 429 || error.status >= 500) throw error;
        // A server that fails the whole batch for one href gone since the listing: read them one by one.
        for (const id of batch) {
          const one = await this.get(id);
          if (one) out.push(one);
        }
        continue;
      }
      for (const e of entries) {
        const data = dataOf(e);
        if (e.status < 200 || e.status >= 300 || data === null) continue;
        const remote = this.toRemote(this.idOf(e.href), etagOf(e) ?? '', data);
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
    await this.calendar();
    const entries = await queryRange(this.http, this.collection!, from, to);
    const busy: BusyInterval[] = [];
    for (const e of entries) {
      const data = dataOf(e);
      if (data !== null) busy.push(...parseBusy(data, from, to));
    }
    return mergeIntervals(busy.map((b) => ({ start: b.start < from ? from : b.start, end: b.end > to ? to : b.end })).filter((b) => b.start < b.end));
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
