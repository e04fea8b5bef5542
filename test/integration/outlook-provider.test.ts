// The Outlook provider's contract through the real graph-client and msal-node against the HTTPS
// Graph fake: transactionId de-duplication, the extended property, delta with paging, removals and
// token expiry, If-Match and 412, 429 with Retry-After, $batch, token refresh and getSchedule.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { KEY_PROPERTY } from '../../providers/outlook/events.js';
import { OutlookProvider } from '../../providers/outlook/provider.js';
import { AuthExpiredError, RemoteConflictError, RateLimitedError, TransientError, type OutgoingEvent } from '../../providers/types.js';
import { GraphFake } from '../support/graph-fake.js';
import { outlookProvider, outlookSettings, signIn } from '../support/outlook.js';

let fake: GraphFake;

beforeEach(async () => {
  fake = await new GraphFake().start();
});
afterEach(async () => {
  await fake?.stop();
});

const event = (key: string, start: string, end: string, over: Partial<OutgoingEvent> = {}): OutgoingEvent => ({
  key, uid: `${key.replace(':', '-')}@tripcal`, tripId: 'trip_1', itemId: key.split(':')[0]!, sequence: 1,
  summary: 'Flight UA123', description: 'United Airlines UA123\nConfirmation: ABC123', location: 'LAX → JFK', allDay: false,
  start: { utc: start, zone: 'America/Los_Angeles' }, end: { utc: end, zone: 'America/New_York' },
  reminders: [{ method: 'popup', minutesBefore: 120 }, { method: 'email', minutesBefore: 2880 }], transparent: false, ...over,
});

test('create sends wall time with IANA zones, one reminder and our property; reading back gives the same content', async () => {
  const { provider } = await outlookProvider(fake);
  const e = event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z');
  const made = await provider.create(e);
  const [stored] = [...fake.events.values()].map((s) => s.data);
  expect(stored).toMatchObject({
    subject: 'Flight UA123',
    start: { dateTime: '2025-06-15T08:00:00', timeZone: 'America/Los_Angeles' },
    end: { dateTime: '2025-06-15T16:30:00', timeZone: 'America/New_York' },
    isReminderOn: true, reminderMinutesBeforeStart: 120, showAs: 'busy', location: { displayName: 'LAX → JFK' },
  });
  expect(fake.propertyOf(stored!, KEY_PROPERTY)).toBe('item_a:flight');
  expect(stored!.transactionId).toMatch(/^tripcal-[0-9a-f]{32}$/);
  expect(made.content).toEqual(provider.expectedContent(e));
  expect(made.content.start).toEqual({ utc: '2025-06-15T15:00:00Z', zone: 'America/Los_Angeles' });
  expect(made.link).toContain('outlook.office365.com');
  const listed = await provider.list(null);
  expect(listed.full).toBe(true);
  expect(listed.changed).toHaveLength(1);
  expect(listed.changed[0]).toMatchObject({ id: made.id, etag: made.etag, key: 'item_a:flight' });
  expect(listed.changed[0]!.content).toEqual(provider.expectedContent(e));
  // Every read asked for UTC times and text bodies (one Prefer header).
  expect(fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/events')).every((r) => /outlook\.timezone="UTC"/.test(r.headers.prefer ?? ''))).toBe(true);
});

test('all-day events are midnight to midnight in their own zone and read back as dates', async () => {
  const { provider } = await outlookProvider(fake);
  const e = event('item_h:stay', '2025-06-14T22:00:00Z', '2025-06-17T22:00:00Z', { allDay: true, start: { utc: '2025-06-14T22:00:00Z', zone: 'Europe/Rome' }, end: { utc: '2025-06-17T22:00:00Z', zone: 'Europe/Rome' }, reminders: [] });
  const made = await provider.create(e);
  expect([...fake.events.values()][0]!.data).toMatchObject({ isAllDay: true, start: { dateTime: '2025-06-15T00:00:00', timeZone: 'Europe/Rome' }, isReminderOn: false });
  expect(made.content).toEqual(provider.expectedContent(e));
  expect(made.content.start).toEqual({ utc: '2025-06-15T00:00:00Z', zone: 'UTC' });
});

test('a create whose answer was lost is not made twice: the retry carries the same transactionId', async () => {
  const { provider } = await outlookProvider(fake);
  const e = event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z');
  fake.loseNextAnswers(1);
  await expect(provider.create(e)).rejects.toBeInstanceOf(TransientError);
  const made = await provider.create(e);
  expect(fake.liveEvents()).toHaveLength(1);
  expect(made.id).toBe(fake.liveEvents()[0]!.id);
  // A later create of the same key (the user deleted it) is a new transaction, not a replay.
  fake.deleteAsUser(made.id);
  const again = await provider.create(e);
  expect(again.id).not.toBe(made.id);
  expect(fake.liveEvents()).toHaveLength(1);
});

test('delta: changes, removals and events that are not ours; paging; an expired link means a full listing', async () => {
  const { provider } = await outlookProvider(fake);
  // Delta follows a window around today (§3.1): next year's June is inside it whenever this runs.
  const y = new Date().getUTCFullYear() + 1;
  fake.defaultPageSize = 3;
  fake.raggedDelta = true;
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await provider.create(event(`item_${i}:flight`, `${y}-06-1${i}T15:00:00Z`, `${y}-06-1${i}T17:00:00Z`)));
  fake.addUserEvent({ subject: 'Dentist', start: { dateTime: `${y}-06-12T09:00:00`, timeZone: 'UTC' }, end: { dateTime: `${y}-06-12T10:00:00`, timeZone: 'UTC' } });
  const known = new Map(made.map((m) => [m.id, m.etag]));
  const first = await provider.list(null, (id) => known.get(id));
  expect(first).toMatchObject({ full: true, changed: [] });
  expect(first.unchanged.sort()).toEqual([...known.keys()].sort());
  // Nothing changed: an incremental listing that reports nothing.
  const quiet = await provider.list(first.cursor, (id) => known.get(id));
  expect(quiet).toMatchObject({ full: false, changed: [], removed: [] });
  fake.editAsUser(made[2]!.id, { subject: 'Moved by me' });
  fake.deleteAsUser(made[4]!.id);
  fake.addUserEvent({ subject: 'Lunch', start: { dateTime: `${y}-06-13T12:00:00`, timeZone: 'UTC' }, end: { dateTime: `${y}-06-13T13:00:00`, timeZone: 'UTC' } });
  const next = await provider.list(quiet.cursor, (id) => known.get(id));
  expect(next.full).toBe(false);
  expect(next.changed.map((c) => [c.id, c.content.summary])).toEqual([[made[2]!.id, 'Moved by me']]);
  expect(next.removed).toEqual([made[4]!.id]);
  // The delta rounds asked for their page size on every request, and never with $expand/$filter.
  const deltas = fake.requests.filter((r) => r.path.endsWith('/calendarView/delta'));
  expect(deltas.length).toBeGreaterThan(4);
  expect(deltas.every((r) => /odata\.maxpagesize=\d+/.test(r.headers.prefer ?? '') && !r.query.has('$expand'))).toBe(true);
  for (const status of [410, 400]) {
    fake.expireDeltaTokens(status);
    const after = await provider.list(next.cursor, (id) => known.get(id));
    expect(after.full).toBe(true);
    expect(after.changed.length + after.unchanged.length).toBe(6);
  }
});

test('updates and deletes carry If-Match; a stale etag is a RemoteConflictError; a gone event deletes quietly', async () => {
  const { provider } = await outlookProvider(fake);
  const e = event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z');
  const made = await provider.create(e);
  const moved = await provider.update(made.id, made.etag, { ...e, summary: 'Flight UA123 (delayed)' });
  expect(moved.etag).not.toBe(made.etag);
  expect(fake.liveEvents()[0]!.subject).toBe('Flight UA123 (delayed)');
  await expect(provider.update(made.id, made.etag, e)).rejects.toBeInstanceOf(RemoteConflictError);
  await expect(provider.delete(made.id, made.etag)).rejects.toBeInstanceOf(RemoteConflictError);
  await provider.delete(made.id, moved.etag);
  expect(fake.liveEvents()).toHaveLength(0);
  await provider.delete(made.id, moved.etag);
  expect(await provider.get(made.id)).toBeNull();
});

test('429 and 503 are RateLimitedError with the Retry-After the fake sent; the SDK does not retry by itself', async () => {
  const { provider } = await outlookProvider(fake);
  fake.failNext({ status: 429, retryAfter: '7', match: /POST/ });
  const error = await provider.create(event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z')).catch((x) => x);
  expect(error).toBeInstanceOf(RateLimitedError);
  expect((error as RateLimitedError).retryAfterMs).toBe(7000);
  expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  fake.failNext({ status: 503, retryAfter: '2' });
  await expect(provider.list(null)).rejects.toMatchObject({ retryAfterMs: 2000 });
});

test('many writes at once go out as $batch requests of at most 20, each with its own answer', async () => {
  const { provider } = await outlookProvider(fake);
  const before = provider.requestCount();
  const events = Array.from({ length: 45 }, (_, i) => event(`item_${i}:flight`, '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z', { summary: `F${i}` }));
  fake.failNext({ status: 429, retryAfter: '1', match: /POST \/me\/calendars?(\/[^/]+)?\/events/ });
  const results = await Promise.allSettled(events.map((e) => provider.create(e)));
  // Parts go in sequence (dependsOn): the parts after the throttled one are not run (424) and go
  // out once more in a fourth batch. A parallel batch would have had 16 of every 20 parts throttled.
  expect(provider.requestCount() - before).toBe(4);
  expect(fake.requests.filter((r) => r.path === '/$batch')).toHaveLength(4);
  expect(fake.requests.filter((r) => r.part && r.method === 'POST').length).toBeLessThan(45 + 20);
  expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(RateLimitedError);
  const ok = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<OutlookProvider['create']>>> => r.status === 'fulfilled');
  expect(new Set(ok.map((r) => r.value.id)).size).toBe(44);
  expect(ok.every((r) => r.value.key.startsWith('item_'))).toBe(true);
  expect(fake.liveEvents()).toHaveLength(44);
});

test('an expired access token is refreshed by MSAL and the new cache saved; a revoked refresh token is AuthExpiredError', async () => {
  const { provider, box } = await outlookProvider(fake);
  const saves = box.saves;
  fake.expireAccessTokens();
  await provider.list(null);
  expect(box.saves).toBeGreaterThan(saves);
  expect(fake.tokenRequests.some((f) => f.get('grant_type') === 'refresh_token')).toBe(true);
  // Tokens are in MSAL's cache (the vault holds it encrypted), never in what a listing returns.
  fake.revokeRefreshTokens();
  const error = await provider.list(null).catch((x) => x);
  expect(error).toBeInstanceOf(AuthExpiredError);
  expect(String(error.message)).toMatch(/invalid_grant|sign-in/);
});

test('a named calendar is found or made once; list_calendars shows which is default and which is used', async () => {
  const box = await signIn(fake);
  const p = new OutlookProvider(outlookSettings(fake, box, { calendar: 'Trips' }));
  await p.connect();
  const again = new OutlookProvider(outlookSettings(fake, box, { calendar: 'Trips' }));
  await again.connect();
  expect([...fake.calendars.values()].filter((c) => c.name === 'Trips')).toHaveLength(1);
  const list = await again.listCalendars();
  expect(list.find((c) => c.name === 'Trips')).toMatchObject({ selected: true, writable: true, primary: false });
  expect(list.find((c) => c.primary)).toMatchObject({ name: 'Calendar', selected: false });
});

test('free/busy from the calendar view in windows under 42 days, leaving out exactly our own events, by identity', async () => {
  const { provider, box } = await outlookProvider(fake);
  await provider.create(event('item_a:flight', '2025-06-15T15:00:00Z', '2025-06-15T20:30:00Z'));
  // An all-day trip activity in Dubai: Graph gives its real instants (20:00Z to 20:00Z), which no
  // midnight-UTC interval matches; it is ours all the same.
  await provider.create(event('item_d:activity', '2025-06-19T20:00:00Z', '2025-06-20T20:00:00Z', { allDay: true, start: { utc: '2025-06-19T20:00:00Z', zone: 'Asia/Dubai' }, end: { utc: '2025-06-20T20:00:00Z', zone: 'Asia/Dubai' }, reminders: [] }));
  fake.addUserEvent({ subject: 'Dentist', start: { dateTime: '2025-06-12T09:00:00', timeZone: 'Europe/Rome' }, end: { dateTime: '2025-06-12T10:00:00', timeZone: 'Europe/Rome' } });
  fake.addUserEvent({ subject: 'Gym', showAs: 'free', start: { dateTime: '2025-07-20T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2025-07-20T10:00:00', timeZone: 'UTC' } });
  fake.addUserEvent({ subject: 'Offsite', start: { dateTime: '2025-08-01T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2025-08-01T17:00:00', timeZone: 'UTC' } });
  // Someone else's all-day event in Dubai is busy from Dubai's midnight (UTC+4, no DST): 20:00Z the day before.
  fake.addUserEvent({ subject: 'Eid', isAllDay: true, start: { dateTime: '2025-06-06T00:00:00', timeZone: 'Asia/Dubai' }, end: { dateTime: '2025-06-07T00:00:00', timeZone: 'Asia/Dubai' } });
  // A trip event synced by another process (a CLI sync while the daemon runs) is ours too.
  const other = new OutlookProvider(outlookSettings(fake, box));
  await other.create(event('item_o:flight', '2025-06-25T10:00:00Z', '2025-06-25T12:00:00Z'));
  const busy = await provider.freeBusy('2025-06-01T00:00:00Z', '2025-08-31T00:00:00Z');
  expect(busy.map((b) => [b.start, b.end])).toEqual([
    ['2025-06-05T20:00:00Z', '2025-06-06T20:00:00Z'],
    ['2025-06-12T07:00:00Z', '2025-06-12T08:00:00Z'],
    ['2025-08-01T09:00:00Z', '2025-08-01T17:00:00Z'],
  ]);
  const views = fake.requests.filter((r) => r.path === '/me/calendar/calendarView');
  expect(views).toHaveLength(3);
  expect(views.every((r) => Date.parse(r.query.get('endDateTime')!) - Date.parse(r.query.get('startDateTime')!) < 42 * 86_400_000)).toBe(true);
  expect(fake.requests.filter((r) => r.path === '/me/calendar/getSchedule')).toHaveLength(0);
  fake.personalAccount = true;
  const personal = await provider.freeBusy('2025-06-01T00:00:00Z', '2025-06-30T00:00:00Z');
  expect(personal.map((b) => b.start)).toEqual(['2025-06-05T20:00:00Z', '2025-06-12T07:00:00Z']);
});

test('an event Outlook gives back under Windows zone names reads as the same content (no conflict, no rewrite)', async () => {
  const { provider } = await outlookProvider(fake);
  const e = event('item_t:flight', '2025-06-15T01:00:00Z', '2025-06-15T05:00:00Z', { start: { utc: '2025-06-15T01:00:00Z', zone: 'Asia/Tokyo' }, end: { utc: '2025-06-15T05:00:00Z', zone: 'Asia/Kolkata' } });
  const made = await provider.create(e);
  fake.windowsZoneNames = true;
  const again = await provider.get(made.id);
  expect(fake.events.get(made.id)!.data.start.timeZone).toBe('Asia/Tokyo');
  expect(again!.content).toEqual(provider.expectedContent(e));
  expect(again!.content.start.zone).toBe('Asia/Tokyo');
  expect(again!.content.end.zone).toBe('Asia/Kolkata');
});

test('the second 01:30 of a New York autumn night goes out in UTC, so Graph cannot read it as the first', async () => {
  const { provider } = await outlookProvider(fake);
  const e = event('item_r:flight', '2026-11-01T06:30:00Z', '2026-11-01T07:45:00Z', { start: { utc: '2026-11-01T06:30:00Z', zone: 'America/New_York' }, end: { utc: '2026-11-01T07:45:00Z', zone: 'America/New_York' } });
  const made = await provider.create(e);
  const stored = fake.events.get(made.id)!.data;
  expect(stored.start).toEqual({ dateTime: '2026-11-01T06:30:00', timeZone: 'UTC' });
  // The end (02:45 EST) happens once: it keeps its zone.
  expect(stored.end).toEqual({ dateTime: '2026-11-01T02:45:00', timeZone: 'America/New_York' });
  const listed = await provider.list(null);
  expect(listed.changed[0]!.content).toEqual(provider.expectedContent(e));
  expect(listed.changed[0]!.content.start.utc).toBe('2026-11-01T06:30:00Z');
});

test('a next or delta link to another host is not followed: the token stays with the configured Graph', async () => {
  const { provider } = await outlookProvider(fake);
  for (let i = 0; i < 3; i += 1) await provider.create(event(`item_${i}:flight`, `2025-06-1${i}T10:00:00Z`, `2025-06-1${i}T12:00:00Z`));
  fake.defaultPageSize = 1;
  fake.maxPageSize = 1;
  fake.linkOrigin = fake.url.replace('127.0.0.1', 'localhost');
  fake.requests.length = 0;
  await expect(provider.list(null)).rejects.toThrow(/sent a link to https:\/\/localhost:\d+, not https:\/\/127\.0\.0\.1:\d+: it is not followed/);
  expect(fake.requests.length).toBeGreaterThan(0);
  expect(fake.requests.filter((r) => !/^127\.0\.0\.1:/.test(r.headers.host ?? ''))).toEqual([]);
});
