// An in-memory calendar that follows the provider contract (after vdirsyncer's
// storage/memory.py), for the property tests: deterministic ids per key, etags with
// preconditions, a change log behind the cursor, and hooks to fail, crash, or play the user.
import {
  RemoteConflictError, RemoteNotFoundError, TransientError, type CalendarInfo, type CalendarProvider, type EventContent, type Listing,
  type OutgoingEvent, type RemoteEvent,
} from '../../providers/types.js';
import { DateTime } from 'luxon';

export interface StoredObject {
  id: string;
  etag: string;
  /** Null for someone else's event. */
  key: string | null;
  content: EventContent;
}

/** Thrown by the crash hook: not a provider error, so it tears the sync down like a killed process. */
export class Crash extends Error {}

export class MemoryCalendar {
  readonly objects = new Map<string, StoredObject>();
  private log: Array<{ version: number; id: string }> = [];
  private version = 0;
  private etagCounter = 0;
  /** Probability that a write fails with a TransientError before it happens. */
  failRate = 0;
  /** Probability that a write takes effect but its answer is lost (a TransientError after the fact). */
  loseRate = 0;
  /** Crash (throw Crash) right after the Nth write from now takes effect; null never. */
  crashAfterWrites: number | null = null;
  random: () => number = Math.random;
  readonly deleted: Array<{ id: string; key: string | null }> = [];
  requests = 0;

  private touch(id: string): void {
    this.version += 1;
    this.log.push({ version: this.version, id });
  }

  newEtag(): string {
    this.etagCounter += 1;
    return `"e${this.etagCounter}"`;
  }

  put(object: StoredObject): void {
    this.objects.set(object.id, object);
    this.touch(object.id);
  }

  remove(id: string): void {
    if (this.objects.delete(id)) this.touch(id);
  }

  private beforeWrite(): void {
    if (this.failRate > 0 && this.random() < this.failRate) throw new TransientError('injected failure');
  }

  /** The next `n` writes take effect but their answers are lost. */
  loseNextAnswers(n: number): void {
    this.loseNext += n;
  }

  private loseNext = 0;

  private afterWrite(): void {
    if (this.loseNext > 0) {
      this.loseNext -= 1;
      throw new TransientError('answer lost');
    }
    if (this.loseRate > 0 && this.random() < this.loseRate) throw new TransientError('answer lost');
    if (this.crashAfterWrites === null) return;
    this.crashAfterWrites -= 1;
    if (this.crashAfterWrites <= 0) {
      this.crashAfterWrites = null;
      throw new Crash('crashed after a write');
    }
  }

  provider(): CalendarProvider {
    const cal = this;
    const remote = (o: StoredObject): RemoteEvent => ({ id: o.id, etag: o.etag, key: o.key!, content: structuredClone(o.content), link: `mem:${o.id}` });
    // As every real provider reads one back: an all-day event is its local dates, at UTC midnight
    // (dates read with luxon, not with tripcal's own zone code).
    const time = (e: OutgoingEvent, t: { utc: string; zone: string }) => (e.allDay
      ? { utc: `${DateTime.fromMillis(Date.parse(t.utc), { zone: t.zone }).toISODate()}T00:00:00Z`, zone: 'UTC' }
      : { ...t });
    const contentOf = (e: OutgoingEvent): EventContent => ({
      summary: e.summary, description: e.description, location: e.location, allDay: e.allDay,
      start: time(e, e.start), end: time(e, e.end), reminders: e.reminders.map((r) => ({ ...r })), transparent: e.transparent,
    });
    return {
      async connect() {},
      async list(cursor, knownEtag = () => undefined): Promise<Listing> {
        cal.requests += 1;
        const since = cursor === null ? null : Number(cursor);
        const full = since === null || Number.isNaN(since) || since > cal.version;
        const ids = full ? [...cal.objects.keys()] : [...new Set(cal.log.filter((l) => l.version > since!).map((l) => l.id))];
        const present = ids.map((id) => cal.objects.get(id)).filter((o): o is StoredObject => Boolean(o) && o!.key !== null);
        return {
          changed: present.filter((o) => knownEtag(o.id) !== o.etag).map(remote),
          unchanged: present.filter((o) => knownEtag(o.id) === o.etag).map((o) => o.id),
          removed: full ? [] : ids.filter((id) => !cal.objects.has(id)),
          full,
          cursor: String(cal.version),
          requests: 1,
        };
      },
      async get(id) {
        cal.requests += 1;
        const o = cal.objects.get(id);
        return o && o.key ? remote(o) : null;
      },
      async create(event) {
        cal.requests += 1;
        cal.beforeWrite();
        const id = `mem-${event.key}`;
        const existing = cal.objects.get(id);
        if (existing) throw new RemoteConflictError(`${id} exists`, 412, existing.key === event.key ? remote(existing) : undefined);
        const object = { id, etag: cal.newEtag(), key: event.key, content: contentOf(event) };
        cal.put(object);
        cal.afterWrite();
        return remote(object);
      },
      expectedContent: contentOf,
      async update(id, etag, event) {
        cal.requests += 1;
        cal.beforeWrite();
        const o = cal.objects.get(id);
        if (!o) throw new RemoteNotFoundError(`${id} is gone`, 404);
        if (o.etag !== etag) throw new RemoteConflictError(`${id}: stale etag`, 412);
        const object = { ...o, etag: cal.newEtag(), content: contentOf(event) };
        cal.put(object);
        cal.afterWrite();
        return remote(object);
      },
      async delete(id, etag) {
        cal.requests += 1;
        cal.beforeWrite();
        const o = cal.objects.get(id);
        if (!o) return;
        if (o.etag !== etag) throw new RemoteConflictError(`${id}: stale etag`, 412);
        cal.deleted.push({ id, key: o.key });
        cal.remove(id);
        cal.afterWrite();
      },
      async freeBusy(from, to) {
        cal.requests += 1;
        // Busy time of everyone else's events, not ours, not free ones: as a calendar service counts it.
        return [...cal.objects.values()]
          .filter((o) => o.key === null && !o.content.transparent && o.content.start.utc < to && o.content.end.utc > from)
          .map((o) => ({ start: o.content.start.utc, end: o.content.end.utc, calendar: 'mem' }))
          .sort((a, b) => a.start.localeCompare(b.start));
      },
      async listCalendars(): Promise<CalendarInfo[]> {
        return [{ id: 'mem', name: 'Memory', writable: true, selected: true }];
      },
      requestCount: () => cal.requests,
      async close() {},
    };
  }
}
