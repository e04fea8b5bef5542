// The Google provider's contract through the real googleapis client against the loopback fake:
// client-chosen ids and 409 adoption, the private marker, syncToken listings with paging and
// 410, If-Match and 412, soft deletes, batches, token refresh, and free/busy.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { eventIdForKey } from '../../providers/google/ids.js';
import { GoogleProvider } from '../../providers/google/provider.js';
import type { GoogleSettings, GoogleTokens } from '../../providers/registry.js';
import { AuthExpiredError, RemoteConflictError, RateLimitedError, type OutgoingEvent } from '../../providers/types.js';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';

let fake: GoogleFake;
let saved: GoogleTokens[];

beforeEach(async () => {
  fake = await startGoogleFake();
  saved = [];
});
afterEach(async () => {
  await fake?.stop();
});

function provider(over: Partial<GoogleSettings> = {}): GoogleProvider {
  return new GoogleProvider({
    kind: 'google', calendar: 'primary', clientId: fake.clientId, clientSecret: fake.clientSecret, tokens: fake.issueTokens(),
    saveTokens: async (t) => { saved.push(t); }, apiRoot: fake.url, tokenUrl: fake.tokenUrl, ...over,
  });
}

const event = (key: string, start: string, end: string, over: Partial<OutgoingEvent> = {}): OutgoingEvent => ({
  key, uid: `${key.replace(':', '-')}@tripcal`, tripId: 'trip_1', itemId: key.split(':')[0]!, sequence: 1,
  summary: 'Flight UA123', description: 'United Airlines UA123\nConfirmation: ABC123', location: 'LAX → JFK', allDay: false,
  start: { utc: start, zone: 'America/Los_Angeles' }, end: { utc: end, zone: 'America/New_York' },
  reminders: [{ method: 'popup', minutesBefore: 120 }, { method: 'email', minutesBefore: 2880 }], transparent: false, ...over,
});

test('event ids are base32hex, 5–1024 characters, one per key', async () => {
  const id = eventIdForKey('item_01jz:flight');
  expect(id).toMatch(/^[a-v0-9]{5,1024}$/);
  expect(eventIdForKey('item_01jz:flight')).toBe(id);
  expect(eventIdForKey('item_01jz:check-in')).not.toBe(id);
  expect(eventIdForKey('x'.repeat(2000))).toHaveLength(1024);
});

test('create writes both zones, the reminders and our marker; a repeated create adopts the existing event', async () => {
  const p = provider();
  const made = await p.create(event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  const [stored] = fake.liveEvents();
  expect(stored).toMatchObject({
    id: eventIdForKey('item_a:flight'),
    start: { dateTime: '2025-06-15T08:00:00-07:00', timeZone: 'America/Los_Angeles' },
    // Google shows every dateTime in the calendar's zone (here Los Angeles); the event's zones stay as fields.
    end: { dateTime: '2025-06-15T13:30:00-07:00', timeZone: 'America/New_York' },
    reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 120 }, { method: 'email', minutes: 2880 }] },
    extendedProperties: { private: { tripcal: '1', tripcal_key: 'item_a:flight', tripcal_trip: 'trip_1', tripcal_item: 'item_a' } },
  });
  expect(made.link).toBe(stored!.htmlLink);
  expect(made.content).toEqual(p.expectedContent(event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')));
  const again = await p.create(event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')).catch((e) => e);
  expect(again).toBeInstanceOf(RemoteConflictError);
  expect((again as RemoteConflictError).existing).toMatchObject({ id: made.id, etag: made.etag });
});

test('an event the user deleted is brought back by a create (its id stays taken, 409)', async () => {
  const p = provider();
  const made = await p.create(event('item_b:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  fake.deleteAsUser(made.id);
  expect(await p.get(made.id)).toBeNull();
  const back = await p.create(event('item_b:flight', '2025-06-16T15:00:00Z', '2025-06-16T20:30:00Z'));
  expect(back.id).toBe(made.id);
  expect(fake.liveEvents()).toHaveLength(1);
  expect(fake.liveEvents()[0]!.status).toBe('confirmed');
});

test('update and delete are conditional on the etag; deleting a deleted event is no error', async () => {
  const p = provider();
  const made = await p.create(event('item_c:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  await expect(p.update(made.id, '"999"', event('item_c:flight', '2025-06-15T16:00:00Z', '2025-06-15T21:30:00Z'))).rejects.toBeInstanceOf(RemoteConflictError);
  const moved = await p.update(made.id, made.etag, event('item_c:flight', '2025-06-15T16:00:00Z', '2025-06-15T21:30:00Z'));
  expect(moved.etag).not.toBe(made.etag);
  expect(moved.content.start.utc).toBe('2025-06-15T16:00:00Z');
  await expect(p.delete(made.id, made.etag)).rejects.toBeInstanceOf(RemoteConflictError);
  await p.delete(made.id, moved.etag);
  await p.delete(made.id, moved.etag);
  expect(fake.liveEvents()).toHaveLength(0);
});

test('listings: full by marker, then incremental by syncToken over every page; deletions come as removed; 410 falls back to full', async () => {
  fake.pageSize = 3;
  fake.raggedPages = true;
  const p = provider();
  fake.addUserEvent({ summary: 'Dentist', start: { dateTime: '2025-06-20T10:00:00Z' }, end: { dateTime: '2025-06-20T11:00:00Z' } });
  const made = [];
  for (let i = 0; i < 8; i++) made.push(await p.create(event(`item_l${i}:flight`, '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')));
  const full = await p.list(null);
  expect(full.full).toBe(true);
  expect(full.changed.map((e) => e.key).sort()).toEqual(made.map((_, i) => `item_l${i}:flight`).sort());
  expect(full.requests).toBeGreaterThan(3);
  const listCalls = fake.requests.filter((r) => r.path.endsWith('/events') && r.method === 'GET');
  expect(listCalls.every((r) => r.query.getAll('privateExtendedProperty').includes('tripcal=1'))).toBe(true);

  // Nothing changed: the known etags are not read again.
  const known = new Map(made.map((m) => [m.id, m.etag]));
  const quiet = await p.list(full.cursor, (id) => known.get(id));
  expect(quiet).toMatchObject({ full: false, changed: [], removed: [] });

  fake.editAsUser(made[0]!.id, { summary: 'Renamed by the user' });
  fake.deleteAsUser(made[1]!.id);
  fake.addUserEvent({ summary: 'Lunch', start: { dateTime: '2025-06-21T10:00:00Z' }, end: { dateTime: '2025-06-21T11:00:00Z' } });
  const delta = await p.list(quiet.cursor, (id) => known.get(id));
  expect(delta.changed.map((e) => e.content.summary)).toEqual(['Renamed by the user']);
  expect(delta.removed).toContain(made[1]!.id);
  const incremental = fake.requests.filter((r) => r.query.has('syncToken'));
  expect(incremental.every((r) => !r.query.has('privateExtendedProperty') && !r.query.has('timeMin'))).toBe(true);

  fake.expireSyncTokens();
  const again = await p.list(delta.cursor);
  expect(again.full).toBe(true);
  expect(again.changed).toHaveLength(7);
});

test('many writes at once go out as batches; each call keeps its own answer', async () => {
  const p = provider({ batchSize: 10 });
  await p.create(event('item_dup:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  fake.requests.length = 0;
  const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => p.create(event(i === 7 ? 'item_dup:flight' : `item_bt${i}:flight`, '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'))));
  const outer = fake.requests.filter((r) => !r.part);
  expect(outer.filter((r) => r.path === '/batch/calendar/v3')).toHaveLength(3);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(24);
  // The duplicate's 409 inside the batch led to reading it back: a RemoteConflictError naming it.
  const dup = results[7] as PromiseRejectedResult;
  expect(dup.reason).toBeInstanceOf(RemoteConflictError);
  expect(fake.liveEvents()).toHaveLength(25);
});

test('rate limits map to RateLimitedError with Retry-After, both 429 and 403 rateLimitExceeded, alone or in a batch', async () => {
  const p = provider();
  fake.failNext({ status: 403, reason: 'rateLimitExceeded' });
  const e1 = await p.create(event('item_r1:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')).catch((e) => e);
  expect(e1).toBeInstanceOf(RateLimitedError);
  fake.failNext({ status: 429, retryAfter: '7' });
  const e2 = await p.create(event('item_r1:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')).catch((e) => e);
  expect(e2).toBeInstanceOf(RateLimitedError);
  expect((e2 as RateLimitedError).retryAfterMs).toBe(7000);
  fake.failNext({ status: 429, retryAfter: '3', match: /^POST \/calendar/ });
  const batch = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => p.create(event(`item_rb${i}:flight`, '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'))));
  expect(batch.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.retryAfterMs)).toEqual([3000]);
});

test('an expired access token is refreshed once and written back; a revoked refresh token needs a person', async () => {
  const p = provider();
  await p.create(event('item_t1:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  fake.expireAccessTokens();
  await p.create(event('item_t2:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  expect(saved).toHaveLength(1);
  expect(saved[0]!.refresh_token).toMatch(/^1\/\/fake-refresh/);
  expect(saved[0]!.access_token).toMatch(/^ya29\./);
  fake.revokeRefreshTokens();
  const error = await p.list(null).catch((e) => e);
  expect(error).toBeInstanceOf(AuthExpiredError);
  expect(error.message).toMatch(/invalid_grant/);
});

test('a 401 refreshes the access token once; a second 401 right after needs a person', async () => {
  const p = provider();
  fake.failNext({ status: 401, reason: 'authError' });
  await p.list(null);
  expect(saved).toHaveLength(1);
  fake.failNext({ status: 401, reason: 'authError' }, 2);
  const error = await p.list(null).catch((e) => e);
  expect(error).toBeInstanceOf(AuthExpiredError);
  expect(error.message).toMatch(/freshly refreshed/);
  expect(saved).toHaveLength(2);
});

test('free/busy: one query for the other calendars, the target calendar read so our own events do not count', async () => {
  fake.addCalendar({ id: 'family@group.calendar.google.com', summary: 'Family', timeZone: 'Europe/Berlin', accessRole: 'reader' });
  fake.addCalendar({ id: 'boss@example.com', summary: 'Boss', timeZone: 'Europe/Berlin', accessRole: 'freeBusyReader' });
  fake.addCalendar({ id: 'team@group.calendar.google.com', summary: 'Team (hidden)', timeZone: 'Europe/Berlin', accessRole: 'reader', selected: false });
  fake.addUserEvent({ summary: 'Team offsite', start: { dateTime: '2025-06-17T09:00:00Z' }, end: { dateTime: '2025-06-17T17:00:00Z' } }, 'team@group.calendar.google.com');
  fake.addUserEvent({ summary: 'Holiday', start: { date: '2025-06-20' }, end: { date: '2025-06-21' } });
  fake.addUserEvent({ summary: 'Declined', attendees: [{ email: fake.email, self: true, responseStatus: 'declined' }], start: { dateTime: '2025-06-18T09:00:00Z' }, end: { dateTime: '2025-06-18T10:00:00Z' } });
  fake.addUserEvent({ summary: 'School play', start: { dateTime: '2025-06-15T16:00:00Z' }, end: { dateTime: '2025-06-15T18:00:00Z' } }, 'family@group.calendar.google.com');
  fake.addUserEvent({ summary: 'Review', start: { dateTime: '2025-06-16T09:00:00Z' }, end: { dateTime: '2025-06-16T10:00:00Z' } }, 'boss@example.com');
  fake.addUserEvent({ summary: 'Dentist', start: { dateTime: '2025-06-15T14:00:00Z' }, end: { dateTime: '2025-06-15T15:30:00Z' } });
  fake.addUserEvent({ summary: 'Maybe', transparency: 'transparent', start: { dateTime: '2025-06-15T12:00:00Z' }, end: { dateTime: '2025-06-15T13:00:00Z' } });
  const p = provider();
  await p.create(event('item_f1:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  const busy = await p.freeBusy('2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z');
  expect(busy).toEqual([
    { start: '2025-06-15T14:00:00Z', end: '2025-06-15T15:30:00Z', calendar: 'primary' },
    { start: '2025-06-15T16:00:00Z', end: '2025-06-15T18:00:00Z', calendar: 'family@group.calendar.google.com' },
    { start: '2025-06-16T09:00:00Z', end: '2025-06-16T10:00:00Z', calendar: 'boss@example.com' },
    // An all-day event blocks the day where the calendar is (Los Angeles), not in UTC.
    { start: '2025-06-20T07:00:00Z', end: '2025-06-21T07:00:00Z', calendar: 'primary' },
  ]);
  expect(fake.requests.filter((r) => r.path === '/calendar/v3/freeBusy')).toHaveLength(1);
  const calendars = await p.listCalendars();
  expect(calendars.map((c) => [c.name, c.accessRole, c.writable, c.selected])).toEqual([
    ['traveller@example.com', 'owner', true, true], ['Family', 'reader', false, false], ['Boss', 'freeBusyReader', false, false],
    ['Team (hidden)', 'reader', false, false],
  ]);
  // A calendar the user subscribes to later counts once the list is read again (its lifetime over).
  fake.addCalendar({ id: 'later@group.calendar.google.com', summary: 'Later', timeZone: 'Europe/Berlin', accessRole: 'reader', selected: true });
  expect((await p.listCalendars()).map((c) => c.name)).not.toContain('Later');
  const fresh = provider({ calendarListTtlMs: 0 });
  await fresh.listCalendars();
  fake.addCalendar({ id: 'later2@group.calendar.google.com', summary: 'Later still', timeZone: 'Europe/Berlin', accessRole: 'reader', selected: true });
  expect((await fresh.listCalendars()).map((c) => c.name)).toContain('Later still');
  // Over 90 days, one query per 90-day window (Google refuses longer spans); the fake enforces it.
  fake.requests.length = 0;
  const long = await p.freeBusy('2025-01-01T00:00:00Z', '2025-08-01T00:00:00Z');
  expect(fake.requests.filter((r) => r.path === '/calendar/v3/freeBusy')).toHaveLength(3);
  expect(long.map((b) => b.start)).toContain('2025-06-15T16:00:00Z');

  // Listed by name, with the primary calendar by its real id: our own events still do not count.
  const named = provider({ availabilityCalendars: [fake.email, 'boss@example.com'] });
  const busy2 = await named.freeBusy('2025-06-15T00:00:00Z', '2025-06-16T00:00:00Z');
  expect(busy2).toEqual([{ start: '2025-06-15T14:00:00Z', end: '2025-06-15T15:30:00Z', calendar: 'primary' }]);
});

test('an update keeps what a person added in Google Calendar (guests, colour), also when the event was not read since', async () => {
  const p = provider();
  const made = await p.create(event('item_k:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  fake.editAsUser(made.id, { colorId: '5', attendees: [{ email: 'partner@example.com' }] });
  const fresh = provider();
  const etag = fake.liveEvents()[0]!.etag;
  fake.requests.length = 0;
  const moved = await fresh.update(made.id, etag, event('item_k:flight', '2025-06-15T16:00:00Z', '2025-06-15T21:30:00Z'));
  // A PATCH of our fields with the etag we hold: nothing is read first.
  expect(fake.requests.map((r) => r.method)).toEqual(['PATCH']);
  const stored = fake.liveEvents()[0]!;
  expect(stored).toMatchObject({ colorId: '5', attendees: [{ email: 'partner@example.com' }] });
  expect(stored.start.timeZone).toBe('America/Los_Angeles');
  expect(moved.content.start.utc).toBe('2025-06-15T16:00:00Z');
  // Known since that write: no read before the next update.
  fake.requests.length = 0;
  const later = await fresh.update(made.id, moved.etag, event('item_k:flight', '2025-06-15T17:00:00Z', '2025-06-15T22:30:00Z'));
  expect(fake.requests.map((r) => r.method)).toEqual(['PATCH']);
  expect(fake.liveEvents()[0]!.colorId).toBe('5');
  // Turning all-day clears the timed form (null in the PATCH), and a cleared location goes.
  const allDay = event('item_k:flight', '2025-06-15T07:00:00Z', '2025-06-16T07:00:00Z', { allDay: true, location: null });
  await fresh.update(made.id, later.etag, allDay);
  const stored2 = fake.liveEvents()[0]!;
  expect(stored2.start).toEqual({ date: '2025-06-15' });
  expect(stored2.location).toBeUndefined();
  expect(stored2.attendees).toEqual([{ email: 'partner@example.com' }]);
});

test('a token without a needed scope is a reconnect, not an error that stays pending', async () => {
  const p = provider({ calendar: 'Trips', tokens: fake.issueTokens('https://www.googleapis.com/auth/calendar.events') });
  const error = await p.connect().catch((e) => e);
  expect(error).toBeInstanceOf(AuthExpiredError);
  expect(error.message).toMatch(/insufficientPermissions.*did not grant/);
});

test('a named calendar is found or made once, and then holds only trips (free/busy then asks about the others only)', async () => {
  const scope = 'https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly https://www.googleapis.com/auth/calendar.app.created';
  const p = provider({ calendar: 'Trips', tokens: fake.issueTokens(scope) });
  await p.connect();
  const made = [...fake.calendars.values()].filter((c) => c.summary === 'Trips');
  expect(made).toHaveLength(1);
  const q = provider({ calendar: 'Trips', tokens: fake.issueTokens(scope) });
  await q.connect();
  expect([...fake.calendars.values()].filter((c) => c.summary === 'Trips')).toHaveLength(1);
  fake.requests.length = 0;
  await q.freeBusy('2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z');
  expect(fake.requests.map((r) => r.path)).toEqual(['/calendar/v3/freeBusy']);
});

test('a sync token that expires while its pages are read (410 on a later page) falls back to a full listing', async () => {
  const p = provider();
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await p.create(event(`item_x${i}:flight`, '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')));
  const full = await p.list(null);
  for (const m of made.slice(0, 3)) fake.editAsUser(m.id, { summary: 'edited' });
  fake.pageSize = 1;
  let expired = false;
  fake.onApiRequest = (r) => {
    if (!expired && r.query.has('syncToken') && r.query.has('pageToken')) {
      expired = true;
      fake.expireSyncTokens();
    }
  };
  const listing = await p.list(full.cursor);
  expect(expired).toBe(true);
  expect(listing.full).toBe(true);
  expect(listing.changed.map((e) => e.key).sort()).toEqual(made.map((_, i) => `item_x${i}:flight`).sort());
  // Every later page repeated the query it continued.
  const pages = fake.requests.filter((r) => r.query.has('pageToken'));
  expect(pages.length).toBeGreaterThan(0);
});

test('the calendar list is read over every page', async () => {
  fake.calendarListPageSize = 2;
  for (let i = 0; i < 5; i++) fake.addCalendar({ id: `c${i}@group.calendar.google.com`, summary: `C${i}`, timeZone: 'UTC', accessRole: 'reader' });
  const calendars = await provider().listCalendars();
  expect(calendars).toHaveLength(6);
  expect(fake.requests.filter((r) => r.path.endsWith('/calendarList')).length).toBe(3);
});

test('an all-day event is written with an exclusive end date and read back as written', async () => {
  const p = provider();
  const day = event('item_d:stay', '2025-07-01T07:00:00Z', '2025-07-02T07:00:00Z', {
    allDay: true, start: { utc: '2025-07-01T07:00:00Z', zone: 'America/Los_Angeles' }, end: { utc: '2025-07-02T07:00:00Z', zone: 'America/Los_Angeles' },
  });
  const made = await p.create(day);
  expect(fake.liveEvents()[0]).toMatchObject({ start: { date: '2025-07-01' }, end: { date: '2025-07-02' } });
  expect(made.content).toEqual(p.expectedContent(day));
  const listed = await p.list(null);
  expect(listed.changed[0]!.content).toEqual(p.expectedContent(day));
});
