// One suite of provider behaviours, run against every backend tripcal syncs with — the in-memory
// calendar, the Google and Graph loopback fakes, and real Radicale and Xandikos servers — as
// vdirsyncer runs one storage test class against every storage. What each backend holds is read
// from the backend itself (the fake's store, the server's own listing), never from the provider.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CalDavProvider } from '../../providers/caldav/provider.js';
import { GoogleProvider } from '../../providers/google/provider.js';
import {
  AuthExpiredError, RateLimitedError, RemoteConflictError, TransientError,
  type CalendarProvider, type OutgoingEvent, type RemoteEvent,
} from '../../providers/types.js';
import { listStored, putObject } from '../support/caldav.js';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { GraphFake } from '../support/graph-fake.js';
import { MemoryCalendar } from '../support/memory-provider.js';
import { outlookProvider } from '../support/outlook.js';
import { startRadicale, type Radicale } from '../support/radicale.js';
import { startXandikos, type Xandikos } from '../support/xandikos.js';

/** A backend under test: a connected provider, and ways to act on the backend behind its back. */
interface Backend {
  provider: CalendarProvider;
  /** Adds an event someone else made (no marker of ours), busy from `start` to `end` (UTC). */
  addForeign(start: string, end: string): Promise<void>;
  /** The summaries the backend itself holds now. */
  stored(): Promise<string[]>;
  /** The next write takes effect but its answer never arrives, where the backend can be made to. */
  loseNextAnswer?(): void;
  /** The next request is answered 429 with Retry-After, where the backend can be made to. */
  rateLimitNext?(): void;
  /** The stored sign-in stops working, where the backend can be made to. */
  revoke?(): void;
  /** `cursor` made stale (410, syncStateNotFound, a sync-token the server does not know). */
  staleCursor(cursor: string): string;
  close(): Promise<void>;
}

const ics = (uid: string, start: string, end: string) => [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//someone else//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20250101T000000Z',
  `DTSTART:${start.replace(/[-:]/g, '')}`, `DTEND:${end.replace(/[-:]/g, '')}`, 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', '',
].join('\r\n');

async function caldavBackend(server: Radicale | Xandikos, calendar: string): Promise<Backend> {
  const provider = new CalDavProvider({ kind: 'caldav', url: `${server.url}/`, username: server.username, password: server.password, calendar });
  await provider.connect();
  const collection = new URL((await provider.listCalendars()).find((c) => c.selected)!.id, server.url).pathname;
  let n = 0;
  return {
    provider,
    async addForeign(start, end) {
      n += 1;
      const res = await putObject(server, `${collection}foreign-${n}.ics`, ics(`foreign-${n}@elsewhere`, start, end));
      expect(res.status).toBeLessThan(300);
    },
    stored: async () => (await listStored(server, collection)).map((e) => e.summary),
    staleCursor: () => 'http://example.invalid/sync/1',
    close: () => provider.close(),
  };
}

const backends: Record<string, () => Promise<Backend>> = {
  memory: async () => {
    const cal = new MemoryCalendar();
    let n = 0;
    return {
      provider: cal.provider(),
      async addForeign(start, end) {
        n += 1;
        cal.put({ id: `foreign-${n}`, etag: cal.newEtag(), key: null, content: { summary: 'Dentist', description: '', location: null, allDay: false, start: { utc: start, zone: 'UTC' }, end: { utc: end, zone: 'UTC' }, reminders: [], transparent: false } });
      },
      stored: async () => [...cal.objects.values()].map((o) => o.content.summary),
      // A position past the calendar's history, as after a server was reset.
      staleCursor: () => String(Number.MAX_SAFE_INTEGER),
      loseNextAnswer: () => cal.loseNextAnswers(1),
      close: async () => undefined,
    };
  },
  'Google fake': async () => {
    const fake: GoogleFake = await startGoogleFake();
    const provider = new GoogleProvider({
      kind: 'google', calendar: 'primary', clientId: fake.clientId, clientSecret: fake.clientSecret, tokens: fake.issueTokens(),
      saveTokens: async () => undefined, apiRoot: fake.url, tokenUrl: fake.tokenUrl,
    });
    await provider.connect();
    return {
      provider,
      async addForeign(start, end) {
        fake.addUserEvent({ summary: 'Dentist', start: { dateTime: start }, end: { dateTime: end } });
      },
      stored: async () => fake.liveEvents().map((e) => String(e.summary)),
      loseNextAnswer: () => fake.loseNextAnswers(1),
      rateLimitNext: () => fake.failNext({ status: 429, reason: 'rateLimitExceeded', retryAfter: '1' }),
      revoke: () => {
        fake.revokeRefreshTokens();
        fake.expireAccessTokens();
      },
      staleCursor: (cursor) => {
        fake.expireSyncTokens();
        return cursor;
      },
      close: () => fake.stop(),
    };
  },
  'Graph fake': async () => {
    const fake = await new GraphFake().start();
    const { provider } = await outlookProvider(fake);
    return {
      provider,
      async addForeign(start, end) {
        fake.addUserEvent({ subject: 'Dentist', start: { dateTime: start.slice(0, 19), timeZone: 'UTC' }, end: { dateTime: end.slice(0, 19), timeZone: 'UTC' } });
      },
      stored: async () => [...fake.events.values()].filter((e) => !e.deleted).map((e) => String(e.data.subject)),
      loseNextAnswer: () => fake.loseNextAnswers(1),
      rateLimitNext: () => fake.failNext({ status: 429, code: 'ApplicationThrottled', retryAfter: '1' }),
      revoke: () => {
        fake.revokeRefreshTokens();
        fake.accessTokenSeconds = 0;
      },
      staleCursor: (cursor) => {
        fake.expireDeltaTokens();
        return cursor;
      },
      close: () => fake.stop(),
    };
  },
};

let radicale: Radicale;
let xandikos: Xandikos;
let calendars = 0;
beforeAll(async () => {
  radicale = await startRadicale();
  xandikos = await startXandikos();
});
afterAll(async () => {
  await radicale?.stop();
  await xandikos?.stop();
});
backends.Radicale = () => caldavBackend(radicale, `Contract ${++calendars}`);
backends.Xandikos = () => caldavBackend(xandikos, `Contract ${++calendars}`);

const event = (key: string, start: string, end: string, over: Partial<OutgoingEvent> = {}): OutgoingEvent => ({
  key, uid: `${key.replace(':', '-')}@tripcal`, tripId: 'trip_1', itemId: key.split(':')[0]!, sequence: 1,
  summary: `Flight ${key}`, description: 'United Airlines UA123\nConfirmation: ABC123', location: 'LAX → JFK', allDay: false,
  start: { utc: start, zone: 'America/Los_Angeles' }, end: { utc: end, zone: 'America/New_York' },
  reminders: [{ method: 'popup', minutesBefore: 120 }], transparent: false, ...over,
});

for (const [name, make] of Object.entries(backends)) {
  describe(`the provider contract: ${name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await make();
    });
    afterAll(async () => {
      await b?.close();
    });

    test('a created event reads back as expectedContent says, and is stored once', async () => {
      const e = event('item_c1:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z');
      const made = await b.provider.create(e);
      expect(made.key).toBe('item_c1:flight');
      expect(made.content).toEqual(b.provider.expectedContent(e));
      expect((await b.provider.get(made.id))!.content).toEqual(b.provider.expectedContent(e));
      expect((await b.stored()).filter((s) => s === 'Flight item_c1:flight')).toHaveLength(1);
    });

    test('a create repeated after a lost answer makes no second event', async () => {
      const e = event('item_c2:flight', '2025-06-16T15:00:00Z', '2025-06-16T20:30:00Z');
      if (b.loseNextAnswer) {
        b.loseNextAnswer();
        await expect(b.provider.create(e)).rejects.toBeInstanceOf(TransientError);
      } else {
        // A server that cannot be made to lose an answer: the create went through, and is repeated as after one.
        await b.provider.create(e);
      }
      const again = await b.provider.create(e).then((r: RemoteEvent) => r, (err: unknown) => err);
      const stored = await b.stored();
      expect(stored.filter((s) => s === 'Flight item_c2:flight')).toHaveLength(1);
      if (again instanceof RemoteConflictError) expect(again.existing?.key).toBe('item_c2:flight');
      else expect((again as RemoteEvent).key).toBe('item_c2:flight');
    });

    test('updates and deletes are conditional on the etag', async () => {
      const e = event('item_c3:flight', '2025-06-17T15:00:00Z', '2025-06-17T20:30:00Z');
      const made = await b.provider.create(e);
      const moved = { ...e, start: { ...e.start, utc: '2025-06-17T16:00:00Z' } };
      const updated = await b.provider.update(made.id, made.etag, moved);
      expect(updated.etag).not.toBe(made.etag);
      expect(updated.content).toEqual(b.provider.expectedContent(moved));
      await expect(b.provider.update(made.id, made.etag, e)).rejects.toBeInstanceOf(RemoteConflictError);
      await expect(b.provider.delete(made.id, made.etag)).rejects.toBeInstanceOf(RemoteConflictError);
      await b.provider.delete(updated.id, updated.etag);
      expect(await b.provider.get(made.id)).toBeNull();
      // Deleting what is gone already is done, not an error.
      await b.provider.delete(updated.id, updated.etag);
      expect(await b.stored()).not.toContain('Flight item_c3:flight');
    });

    test('listings hold ours only; the next listing from the cursor brings what changed', async () => {
      await b.addForeign('2025-06-18T09:00:00Z', '2025-06-18T10:00:00Z');
      const full = await b.provider.list(null);
      expect(full.full).toBe(true);
      const keys = full.changed.map((r) => r.key).sort();
      expect(keys).toEqual(['item_c1:flight', 'item_c2:flight']);
      const etags = new Map(full.changed.map((r) => [r.id, r.etag]));
      const changed = await b.provider.create(event('item_c4:flight', '2025-06-19T15:00:00Z', '2025-06-19T20:30:00Z'));
      const next = await b.provider.list(full.cursor, (id) => etags.get(id));
      expect(next.changed.map((r) => r.id)).toContain(changed.id);
      expect(next.changed.every((r) => r.key.startsWith('item_'))).toBe(true);
      expect(next.removed).toEqual([]);
    });

    test('free/busy counts the others\' events and never our own', async () => {
      const busy = await b.provider.freeBusy('2025-06-14T00:00:00Z', '2025-06-21T00:00:00Z');
      expect(busy.map((x) => [x.start, x.end])).toEqual([['2025-06-18T09:00:00Z', '2025-06-18T10:00:00Z']]);
    });

    test('a stale cursor means a full listing, not an error', async () => {
      const full = await b.provider.list(null);
      const after = await b.provider.list(b.staleCursor(full.cursor!));
      expect(after.full).toBe(true);
      expect(after.changed.length + after.unchanged.length).toBe(full.changed.length + full.unchanged.length);
    });

    test('a rate limit is a RateLimitedError with the wait the server asked for', async () => {
      if (!b.rateLimitNext) return void expect(name).toMatch(/memory|Radicale|Xandikos/);
      b.rateLimitNext();
      const error = await b.provider.get('nothing-here').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterMs).toBe(1000);
    });

    test('a revoked sign-in is an AuthExpiredError, a person must act', async () => {
      if (!b.revoke) return void expect(name).toMatch(/memory|Radicale|Xandikos/);
      b.revoke();
      await expect(b.provider.create(event('item_c9:flight', '2025-06-20T15:00:00Z', '2025-06-20T20:30:00Z'))).rejects.toBeInstanceOf(AuthExpiredError);
    });
  });
}
