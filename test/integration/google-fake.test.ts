// The fake itself, through the real googleapis client: it must refuse what Google refuses
// (reference sheet §13), or the provider tests would prove nothing.
import { OAuth2Client } from 'google-auth-library';
import { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';

let fake: GoogleFake;
let api: calendar_v3.Calendar;
const NO_RETRY = { retry: false };

beforeAll(async () => {
  fake = await startGoogleFake();
  const auth = new OAuth2Client({ clientId: fake.clientId, clientSecret: fake.clientSecret, endpoints: { oauth2TokenUrl: fake.tokenUrl } });
  auth.setCredentials(fake.issueTokens());
  api = new calendar_v3.Calendar({ auth, rootUrl: `${fake.url}/` });
});
afterAll(async () => {
  await fake?.stop();
});

/** The status and reason of a refused call. */
async function refusal(call: Promise<unknown>): Promise<[number, string | undefined]> {
  const error = await call.then(() => null, (e) => e);
  expect(error).not.toBeNull();
  return [error.status, error.response?.data?.error?.errors?.[0]?.reason];
}

const body = (id?: string, over: Record<string, unknown> = {}) => ({
  ...(id ? { id } : {}), summary: 'x', start: { dateTime: '2025-06-15T08:00:00Z' }, end: { dateTime: '2025-06-15T09:00:00Z' }, ...over,
});

test('ids: base32hex only, 5–1024 characters, unique per calendar even after a delete', async () => {
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body('ABCDEF') }, NO_RETRY))).toEqual([400, 'invalid']);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body('abcw1') }, NO_RETRY))).toEqual([400, 'invalid']);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body('abcd') }, NO_RETRY))).toEqual([400, 'invalid']);
  const made = await api.events.insert({ calendarId: 'primary', requestBody: body('abcde0') }, NO_RETRY);
  expect(made.data.id).toBe('abcde0');
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body('abcde0') }, NO_RETRY))).toEqual([409, 'duplicate']);
  await api.events.delete({ calendarId: 'primary', eventId: 'abcde0' }, NO_RETRY);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body('abcde0') }, NO_RETRY))).toEqual([409, 'duplicate']);
  expect((await api.events.get({ calendarId: 'primary', eventId: 'abcde0' }, NO_RETRY)).data.status).toBe('cancelled');
  expect(await refusal(api.events.delete({ calendarId: 'primary', eventId: 'abcde0' }, NO_RETRY))).toEqual([410, 'deleted']);
});

test('etags: If-Match must match exactly (412), If-None-Match gives 304', async () => {
  const made = (await api.events.insert({ calendarId: 'primary', requestBody: body('etag00') }, NO_RETRY)).data;
  expect(made.etag).toMatch(/^"\d+"$/);
  expect(await refusal(api.events.update({ calendarId: 'primary', eventId: 'etag00', requestBody: body() }, { ...NO_RETRY, headers: { 'If-Match': '"0"' } }))).toEqual([412, 'conditionNotMet']);
  expect(await refusal(api.events.delete({ calendarId: 'primary', eventId: 'etag00' }, { ...NO_RETRY, headers: { 'If-Match': made.etag!.slice(1, -1) } }))).toEqual([412, 'conditionNotMet']);
  const updated = await api.events.update({ calendarId: 'primary', eventId: 'etag00', requestBody: body() }, { ...NO_RETRY, headers: { 'If-Match': made.etag! } });
  expect(updated.data.etag).not.toBe(made.etag);
  const same = await api.events.get({ calendarId: 'primary', eventId: 'etag00' }, { ...NO_RETRY, headers: { 'If-None-Match': updated.data.etag! } });
  expect(same.status).toBe(304);
});

test('fields: start and end required, time zones valid, end after start, at most 5 reminders in range, not with useDefault', async () => {
  const bad: Array<[Record<string, unknown>, number, string]> = [
    [{ end: undefined }, 400, 'required'],
    [{ start: { dateTime: '2025-06-15T08:00:00' } }, 400, 'required'],
    [{ start: { dateTime: '2025-06-15T08:00:00', timeZone: 'Mars/Olympus' } }, 400, 'timeZoneInvalid'],
    [{ start: { dateTime: '2025-06-15T10:00:00Z' } }, 400, 'timeRangeEmpty'],
    [{ reminders: { useDefault: false, overrides: Array.from({ length: 6 }, () => ({ method: 'popup', minutes: 10 })) } }, 400, 'invalid'],
    [{ reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 40_321 }] } }, 400, 'invalid'],
    [{ reminders: { useDefault: false, overrides: [{ method: 'sms', minutes: 10 }] } }, 400, 'invalid'],
    [{ reminders: { useDefault: true, overrides: [{ method: 'popup', minutes: 10 }] } }, 400, 'cannotUseDefaultRemindersAndSpecifyOverride'],
    [{ recurrence: ['RRULE:FREQ=DAILY'], start: { dateTime: '2025-06-15T08:00:00Z' } }, 400, 'required'],
  ];
  for (const [over, status, reason] of bad) {
    expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body(undefined, over) }, NO_RETRY))).toEqual([status, reason]);
  }
});

test('listings: syncToken refuses filters and showDeleted=false (400), garbled or expired tokens give 410, deletions always come back', async () => {
  const full = await api.events.list({ calendarId: 'primary' }, NO_RETRY);
  const token = full.data.nextSyncToken!;
  expect(full.data.nextPageToken).toBeUndefined();
  for (const extra of [{ privateExtendedProperty: ['tripcal=1'] }, { timeMin: '2025-01-01T00:00:00Z' }, { showDeleted: false }, { q: 'x' }]) {
    expect((await refusal(api.events.list({ calendarId: 'primary', syncToken: token, ...extra }, NO_RETRY)))[0]).toBe(400);
  }
  expect(await refusal(api.events.list({ calendarId: 'primary', syncToken: `${token}x` }, NO_RETRY))).toEqual([410, 'fullSyncRequired']);
  await api.events.insert({ calendarId: 'primary', requestBody: body('delta0') }, NO_RETRY);
  await api.events.delete({ calendarId: 'primary', eventId: 'delta0' }, NO_RETRY);
  const delta = await api.events.list({ calendarId: 'primary', syncToken: token }, NO_RETRY);
  expect(delta.data.items).toEqual([expect.objectContaining({ id: 'delta0', status: 'cancelled' })]);
  expect(delta.data.items![0]!.summary).toBeUndefined();
  fake.expireSyncTokens();
  expect(await refusal(api.events.list({ calendarId: 'primary', syncToken: delta.data.nextSyncToken! }, NO_RETRY))).toEqual([410, 'fullSyncRequired']);
  expect(await refusal(api.events.list({ calendarId: 'primary', timeMin: '2025-06-02T00:00:00Z', timeMax: '2025-06-01T00:00:00Z' }, NO_RETRY))).toEqual([400, 'timeRangeEmpty']);
});

test('paging: short and empty pages carry nextPageToken; the sync token only on the last page', async () => {
  for (let i = 0; i < 7; i++) await api.events.insert({ calendarId: 'primary', requestBody: body(`page0${i}`) }, NO_RETRY);
  fake.pageSize = 2;
  fake.raggedPages = true;
  const sizes: number[] = [];
  let pageToken: string | undefined;
  let last: calendar_v3.Schema$Events;
  do {
    last = (await api.events.list({ calendarId: 'primary', pageToken }, NO_RETRY)).data;
    sizes.push(last.items!.length);
    expect(Boolean(last.nextPageToken) !== Boolean(last.nextSyncToken)).toBe(true);
    pageToken = last.nextPageToken ?? undefined;
  } while (pageToken);
  fake.pageSize = 2500;
  fake.raggedPages = false;
  expect(sizes).toContain(0);
  expect(last.nextSyncToken).toBeTruthy();
});

test('OAuth: an expired access token is a 401 authError; a revoked refresh token is invalid_grant; codes are single-use', async () => {
  const auth = new OAuth2Client({ clientId: fake.clientId, clientSecret: fake.clientSecret, endpoints: { oauth2TokenUrl: fake.tokenUrl } });
  const tokens = fake.issueTokens();
  auth.setCredentials(tokens);
  const own = new calendar_v3.Calendar({ auth, rootUrl: `${fake.url}/` });
  fake.expireAccessTokens();
  expect(await refusal(own.events.list({ calendarId: 'primary' }, NO_RETRY))).toEqual([401, 'authError']);
  fake.revokeRefreshTokens();
  const dead = await auth.refreshAccessToken().then(() => null, (e) => e);
  expect(dead.status).toBe(400);
  expect(dead.response.data.error).toBe('invalid_grant');
  const wrong = new OAuth2Client({ clientId: fake.clientId, clientSecret: 'nope', endpoints: { oauth2TokenUrl: fake.tokenUrl } });
  const refused = await wrong.getToken({ code: 'x', redirect_uri: 'http://127.0.0.1/cb' }).then(() => null, (e) => e);
  expect(refused.response.data.error).toBe('invalid_client');
  // Restore working tokens for the shared client.
  api = new calendar_v3.Calendar({ auth: (() => { const a = new OAuth2Client({ clientId: fake.clientId }); a.setCredentials(fake.issueTokens()); return a; })(), rootUrl: `${fake.url}/` });
});

test('quota faults: 403 rateLimitExceeded in the usageLimits domain, 429 with Retry-After', async () => {
  fake.failNext({ status: 403, reason: 'rateLimitExceeded' });
  expect(await refusal(api.events.list({ calendarId: 'primary' }, NO_RETRY))).toEqual([403, 'rateLimitExceeded']);
  fake.failNext({ status: 429, retryAfter: '5' });
  const e = await api.events.list({ calendarId: 'primary' }, NO_RETRY).then(() => null, (x) => x);
  expect(e.status).toBe(429);
  expect(e.response.headers.get('retry-after')).toBe('5');
});

test('free/busy: opaque events only, merged and clipped; an unknown calendar is an error inside a 200', async () => {
  const answer = await api.freebusy.query({ requestBody: { timeMin: '2025-06-15T08:30:00Z', timeMax: '2025-06-15T12:00:00Z', items: [{ id: 'primary' }, { id: 'nobody@example.com' }] } }, NO_RETRY);
  expect(answer.status).toBe(200);
  expect(answer.data.calendars!.primary!.busy).toEqual([{ start: '2025-06-15T08:30:00.000Z', end: '2025-06-15T09:00:00.000Z' }]);
  expect(answer.data.calendars!['nobody@example.com']!.errors).toEqual([{ domain: 'global', reason: 'notFound' }]);
});

// ---- issue 17: rules where the fake used to be more lenient than Google ----------------------

test('times: dateTime comes back in the timeZone parameter, else in the calendar zone, never the event zone', async () => {
  await api.events.insert({ calendarId: 'primary', requestBody: body('tm0000', {
    start: { dateTime: '2025-06-15T08:00:00Z', timeZone: 'Asia/Tokyo' }, end: { dateTime: '2025-06-15T09:00:00Z', timeZone: 'Europe/Paris' },
  }) }, NO_RETRY);
  const plain = (await api.events.get({ calendarId: 'primary', eventId: 'tm0000' }, NO_RETRY)).data;
  expect(plain.start).toEqual({ dateTime: '2025-06-15T01:00:00-07:00', timeZone: 'Asia/Tokyo' });
  expect(plain.end).toEqual({ dateTime: '2025-06-15T02:00:00-07:00', timeZone: 'Europe/Paris' });
  const tokyo = (await api.events.get({ calendarId: 'primary', eventId: 'tm0000', timeZone: 'Asia/Kolkata' }, NO_RETRY)).data;
  expect(tokyo.start!.dateTime).toBe('2025-06-15T13:30:00+05:30');
  const listed = (await api.events.list({ calendarId: 'primary', timeZone: 'UTC' }, NO_RETRY)).data.items!.find((e) => e.id === 'tm0000')!;
  expect(listed.end!.dateTime).toBe('2025-06-15T09:00:00Z');
  expect(await refusal(api.events.list({ calendarId: 'primary', timeZone: 'Mars/Olympus' }, NO_RETRY))).toEqual([400, 'invalid']);
  await api.events.delete({ calendarId: 'primary', eventId: 'tm0000' }, NO_RETRY);
});

test('all-day: end.date is exclusive, so end.date == start.date is an empty range (400 timeRangeEmpty)', async () => {
  const day = { start: { date: '2025-07-01' }, end: { date: '2025-07-01' } };
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body(undefined, day) }, NO_RETRY))).toEqual([400, 'timeRangeEmpty']);
  const made = await api.events.insert({ calendarId: 'primary', requestBody: body(undefined, { ...day, end: { date: '2025-07-02' } }) }, NO_RETRY);
  expect(made.data.end).toEqual({ date: '2025-07-02' });
  await api.events.delete({ calendarId: 'primary', eventId: made.data.id! }, NO_RETRY);
});

test('events.list: orderBy=startTime needs singleEvents=true; updatedMin and other filters are refused with a syncToken', async () => {
  expect(await refusal(api.events.list({ calendarId: 'primary', orderBy: 'startTime' }, NO_RETRY))).toEqual([400, 'badRequest']);
  expect((await api.events.list({ calendarId: 'primary', orderBy: 'startTime', singleEvents: true }, NO_RETRY)).status).toBe(200);
  const token = (await api.events.list({ calendarId: 'primary' }, NO_RETRY)).data.nextSyncToken!;
  for (const extra of [{ updatedMin: '2025-01-01T00:00:00Z' }, { timeMax: '2026-01-01T00:00:00Z' }, { iCalUID: 'x@google.com' }, { orderBy: 'updated' }, { sharedExtendedProperty: ['a=b'] }]) {
    expect(await refusal(api.events.list({ calendarId: 'primary', syncToken: token, ...extra }, NO_RETRY))).toEqual([400, 'syncTokenWithRequestRestrictions']);
  }
});

test('free/busy: timeMin and timeMax without an offset are refused (400)', async () => {
  expect((await refusal(api.freebusy.query({ requestBody: { timeMin: '2025-06-15T08:00:00', timeMax: '2025-06-15T12:00:00Z', items: [{ id: 'primary' }] } }, NO_RETRY)))[0]).toBe(400);
  expect((await refusal(api.freebusy.query({ requestBody: { timeMin: '2025-06-15T08:00:00Z', timeMax: '2025-06-16', items: [{ id: 'primary' }] } }, NO_RETRY)))[0]).toBe(400);
});

test('paging: 250 a page by default, never more than 2500; a page token belongs to its query (400 otherwise)', async () => {
  const { GoogleFake } = await import('../support/google-fake.js');
  const own = await new GoogleFake('pager@example.com').start();
  try {
    const a = new OAuth2Client({ clientId: own.clientId });
    a.setCredentials(own.issueTokens());
    const cal = new calendar_v3.Calendar({ auth: a, rootUrl: `${own.url}/` });
    for (let i = 0; i < 260; i++) own.addUserEvent({ summary: `e${i}`, start: { dateTime: '2025-06-15T08:00:00Z' }, end: { dateTime: '2025-06-15T09:00:00Z' } });
    const first = (await cal.events.list({ calendarId: 'primary' }, NO_RETRY)).data;
    expect(first.items).toHaveLength(250);
    expect(first.nextPageToken).toBeTruthy();
    expect((await cal.events.list({ calendarId: 'primary', maxResults: 5000 }, NO_RETRY)).data.items).toHaveLength(260);
    expect(await refusal(cal.events.list({ calendarId: 'primary', pageToken: first.nextPageToken!, q: 'e1' }, NO_RETRY))).toEqual([400, 'invalid']);
    expect(await refusal(cal.events.list({ calendarId: 'primary', pageToken: first.nextPageToken!, maxResults: 10 }, NO_RETRY))).toEqual([400, 'invalid']);
    expect(await refusal(cal.events.list({ calendarId: 'primary', pageToken: `${first.nextPageToken!}x` }, NO_RETRY))).toEqual([400, 'invalid']);
    expect(await refusal(cal.events.list({ calendarId: 'primary', maxResults: 0 }, NO_RETRY))).toEqual([400, 'invalid']);
    const rest = (await cal.events.list({ calendarId: 'primary', pageToken: first.nextPageToken! }, NO_RETRY)).data;
    expect(rest.items).toHaveLength(10);
    expect(new Set([...first.items!, ...rest.items!].map((e) => e.id)).size).toBe(260);
    expect(rest.nextSyncToken).toBeTruthy();
  } finally {
    await own.stop();
  }
});

test('paging: an event changed between pages shifts no other one out; a sync token expiring mid-paging makes the next page 410', async () => {
  const { GoogleFake } = await import('../support/google-fake.js');
  const own = await new GoogleFake('pager2@example.com').start();
  try {
    const a = new OAuth2Client({ clientId: own.clientId });
    a.setCredentials(own.issueTokens());
    const cal = new calendar_v3.Calendar({ auth: a, rootUrl: `${own.url}/` });
    const ids = Array.from({ length: 6 }, (_, i) => own.addUserEvent({ summary: `e${i}`, start: { dateTime: '2025-06-15T08:00:00Z' }, end: { dateTime: '2025-06-15T09:00:00Z' } }).id as string);
    const token = (await cal.events.list({ calendarId: 'primary' }, NO_RETRY)).data.nextSyncToken!;
    const p1 = (await cal.events.list({ calendarId: 'primary', maxResults: 2 }, NO_RETRY)).data;
    own.editAsUser(ids[0]!, { summary: 'moved on' });
    const seen = [...p1.items!.map((e) => e.id)];
    let pageToken = p1.nextPageToken ?? undefined;
    while (pageToken) {
      const p = (await cal.events.list({ calendarId: 'primary', maxResults: 2, pageToken }, NO_RETRY)).data;
      seen.push(...p.items!.map((e) => e.id));
      pageToken = p.nextPageToken ?? undefined;
    }
    expect(new Set(seen)).toEqual(new Set(ids));
    for (const id of ids.slice(1, 4)) own.editAsUser(id, { summary: 'changed' });
    const d1 = (await cal.events.list({ calendarId: 'primary', syncToken: token, maxResults: 1 }, NO_RETRY)).data;
    expect(d1.nextPageToken).toBeTruthy();
    own.expireSyncTokens();
    expect(await refusal(cal.events.list({ calendarId: 'primary', syncToken: token, maxResults: 1, pageToken: d1.nextPageToken! }, NO_RETRY))).toEqual([410, 'fullSyncRequired']);
  } finally {
    await own.stop();
  }
});

test('calendarList pages: 100 entries by default, at most 250, nextPageToken until the last page', async () => {
  const { GoogleFake } = await import('../support/google-fake.js');
  const own = await new GoogleFake('lists@example.com').start();
  try {
    const a = new OAuth2Client({ clientId: own.clientId });
    a.setCredentials(own.issueTokens());
    const cal = new calendar_v3.Calendar({ auth: a, rootUrl: `${own.url}/` });
    for (let i = 0; i < 120; i++) own.addCalendar({ id: `c${i}@group.calendar.google.com`, summary: `C${i}`, timeZone: 'UTC', accessRole: 'reader' });
    const first = (await cal.calendarList.list({}, NO_RETRY)).data;
    expect(first.items).toHaveLength(100);
    expect(await refusal(cal.calendarList.list({ pageToken: first.nextPageToken!, maxResults: 5 }, NO_RETRY))).toEqual([400, 'invalid']);
    const second = (await cal.calendarList.list({ pageToken: first.nextPageToken! }, NO_RETRY)).data;
    expect(second.items).toHaveLength(21);
    expect(second.nextPageToken).toBeUndefined();
    expect((await cal.calendarList.list({ maxResults: 1000 }, NO_RETRY)).data.items).toHaveLength(121);
  } finally {
    await own.stop();
  }
});

test('patch: start/end merge field by field (timeZone kept), null deletes, arrays replace; PUT replaces', async () => {
  await api.events.insert({ calendarId: 'primary', requestBody: body('ptch00', {
    start: { dateTime: '2025-06-15T08:00:00Z', timeZone: 'Europe/Paris' }, end: { dateTime: '2025-06-15T09:00:00Z', timeZone: 'Europe/Paris' },
    attendees: [{ email: 'a@example.com' }, { email: 'b@example.com' }], extendedProperties: { private: { a: '1', b: '2' } },
  }) }, NO_RETRY);
  const patched = (await api.events.patch({ calendarId: 'primary', eventId: 'ptch00', requestBody: {
    start: { dateTime: '2025-06-15T07:00:00Z' }, attendees: [{ email: 'c@example.com' }], extendedProperties: { private: { a: null as unknown as string, c: '3' } },
  } }, NO_RETRY)).data;
  expect(patched.start!.timeZone).toBe('Europe/Paris');
  expect(patched.end!.timeZone).toBe('Europe/Paris');
  expect(Date.parse(patched.start!.dateTime!)).toBe(Date.parse('2025-06-15T07:00:00Z'));
  expect(patched.attendees).toEqual([{ email: 'c@example.com' }]);
  expect(patched.extendedProperties!.private).toEqual({ b: '2', c: '3' });
  // A wall time without an offset is read in the kept zone.
  const wall = (await api.events.patch({ calendarId: 'primary', eventId: 'ptch00', requestBody: { end: { dateTime: '2025-06-15T12:00:00' } } }, NO_RETRY)).data;
  expect(Date.parse(wall.end!.dateTime!)).toBe(Date.parse('2025-06-15T10:00:00Z'));
  // Switching to all-day needs dateTime cleared (null), else start holds both and is invalid.
  expect(await refusal(api.events.patch({ calendarId: 'primary', eventId: 'ptch00', requestBody: { start: { date: '2025-06-15' }, end: { date: '2025-06-16' } } }, NO_RETRY))).toEqual([400, 'invalid']);
  const put = (await api.events.update({ calendarId: 'primary', eventId: 'ptch00', requestBody: body(undefined) }, NO_RETRY)).data;
  expect(put.start!.timeZone).toBeUndefined();
  expect(put.attendees).toBeUndefined();
});

test('etag and updated: every change moves the etag; a reminders-only change keeps `updated`; a lower sequence is 400', async () => {
  const made = (await api.events.insert({ calendarId: 'primary', requestBody: body('seq000') }, NO_RETRY)).data;
  expect(made.sequence).toBe(0);
  await new Promise((r) => setTimeout(r, 5));
  const reminded = (await api.events.patch({ calendarId: 'primary', eventId: 'seq000', requestBody: { reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 5 }] } } }, NO_RETRY)).data;
  expect(reminded.etag).not.toBe(made.etag);
  expect(reminded.updated).toBe(made.updated);
  // The same through a PUT, fields in another order: still only the reminders changed.
  const put = (await api.events.update({ calendarId: 'primary', eventId: 'seq000', requestBody: { reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 6 }] }, ...body(undefined, { summary: 'x' }) } }, NO_RETRY)).data;
  expect(put.etag).not.toBe(reminded.etag);
  expect(put.updated).toBe(made.updated);
  const renamed = (await api.events.patch({ calendarId: 'primary', eventId: 'seq000', requestBody: { summary: 'renamed' } }, NO_RETRY)).data;
  expect(renamed.etag).not.toBe(reminded.etag);
  expect(renamed.updated).not.toBe(made.updated);
  // The time moved: the server raises the sequence itself.
  const moved = (await api.events.patch({ calendarId: 'primary', eventId: 'seq000', requestBody: { end: { dateTime: '2025-06-15T10:00:00Z' } } }, NO_RETRY)).data;
  expect(moved.sequence).toBe(1);
  const refused = await api.events.patch({ calendarId: 'primary', eventId: 'seq000', requestBody: { summary: 'x', sequence: 0 } }, NO_RETRY).then(() => null, (e) => e);
  expect(refused.status).toBe(400);
  expect(refused.response.data.error.message).toMatch(/^Invalid sequence value/);
  expect(await refusal(api.events.update({ calendarId: 'primary', eventId: 'seq000', requestBody: body(undefined, { sequence: 0 }) }, NO_RETRY))).toEqual([400, 'invalid']);
  expect((await api.events.update({ calendarId: 'primary', eventId: 'seq000', requestBody: body(undefined, { end: { dateTime: '2025-06-15T10:00:00Z' } }) }, NO_RETRY)).data.sequence).toBe(1);
  expect((await api.events.patch({ calendarId: 'primary', eventId: 'seq000', requestBody: { sequence: 4 } }, NO_RETRY)).data.sequence).toBe(4);
});

test('iCalUID: insert keeps a given one or makes one, a duplicate is 409; import needs one and replaces the event holding it', async () => {
  const made = (await api.events.insert({ calendarId: 'primary', requestBody: body(undefined, { iCalUID: 'trip-1@tripcal' }) }, NO_RETRY)).data;
  expect(made.iCalUID).toBe('trip-1@tripcal');
  expect((await api.events.insert({ calendarId: 'primary', requestBody: body('uid000') }, NO_RETRY)).data.iCalUID).toBe('uid000@google.com');
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body(undefined, { iCalUID: 'trip-1@tripcal' }) }, NO_RETRY))).toEqual([409, 'duplicate']);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body(undefined, { iCalUID: 'uid000@google.com' }) }, NO_RETRY))).toEqual([409, 'duplicate']);
  expect(await refusal(api.events.import({ calendarId: 'primary', requestBody: body() }, NO_RETRY))).toEqual([400, 'required']);
  const imported = (await api.events.import({ calendarId: 'primary', requestBody: body(undefined, { iCalUID: 'trip-1@tripcal', summary: 'again' }) }, NO_RETRY)).data;
  expect(imported).toMatchObject({ id: made.id, iCalUID: 'trip-1@tripcal', summary: 'again' });
  const found = (await api.events.list({ calendarId: 'primary', iCalUID: 'trip-1@tripcal' }, NO_RETRY)).data.items!;
  expect(found.map((e) => e.id)).toEqual([made.id]);
  const fresh = (await api.events.import({ calendarId: 'primary', requestBody: body(undefined, { iCalUID: 'other@tripcal' }) }, NO_RETRY)).data;
  expect(fresh.iCalUID).toBe('other@tripcal');
});

test('quota: N requests a minute per user, each batch part counting; then 403 or 429 rateLimitExceeded (usageLimits)', async () => {
  const saved = fake.quota;
  try {
    fake.quota = { perMinute: 3, status: 403 };
    fake.resetQuota();
    for (let i = 0; i < 3; i++) await api.events.list({ calendarId: 'primary' }, NO_RETRY);
    const over = await api.events.list({ calendarId: 'primary' }, NO_RETRY).then(() => null, (e) => e);
    expect(over.status).toBe(403);
    expect(over.response.data.error).toEqual({ code: 403, message: 'Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }] });
    fake.quota = { perMinute: 2, status: 429 };
    fake.resetQuota();
    const token = fake.issueTokens().access_token;
    const part = (i: number) => `--b\r\nContent-Type: application/http\r\nContent-ID: <item${i}>\r\n\r\nGET /calendar/v3/calendars/primary/events/nothere${i} HTTP/1.1\r\n\r\n\r\n`;
    const res = await fetch(`${fake.url}/batch/calendar/v3`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/mixed; boundary=b' }, body: `${part(1)}${part(2)}${part(3)}--b--\r\n`,
    });
    const statuses = [...(await res.text()).matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([404, 404, 429]);
    expect((await refusal(api.events.list({ calendarId: 'primary' }, NO_RETRY)))).toEqual([429, 'rateLimitExceeded']);
  } finally {
    fake.quota = saved;
    fake.resetQuota();
  }
});

test('extended properties: key ≤ 44, value ≤ 1024 characters, ≤ 300 properties, ≤ 32 kB in all (400 beyond)', async () => {
  const xp = (props: Record<string, string>) => body(undefined, { extendedProperties: { private: props } });
  expect((await api.events.insert({ calendarId: 'primary', requestBody: xp({ ['k'.repeat(44)]: 'v'.repeat(1024) }) }, NO_RETRY)).status).toBe(200);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: xp({ ['k'.repeat(45)]: 'v' }) }, NO_RETRY))).toEqual([400, 'invalid']);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: xp({ k: 'v'.repeat(1025) }) }, NO_RETRY))).toEqual([400, 'invalid']);
  const many = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`k${i}`, 'v']));
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: xp(many) }, NO_RETRY))).toEqual([400, 'invalid']);
  const big = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v'.repeat(1024)]));
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: xp(big) }, NO_RETRY))).toEqual([400, 'invalid']);
  expect(await refusal(api.events.insert({ calendarId: 'primary', requestBody: body(undefined, { extendedProperties: { shared: { ['s'.repeat(45)]: 'v' } } }) }, NO_RETRY))).toEqual([400, 'invalid']);
});

test('batch: a part without Content-Type: application/http is refused (400), the others are carried out', async () => {
  const token = fake.issueTokens().access_token;
  const get = 'GET /calendar/v3/calendars/primary/events?maxResults=1 HTTP/1.1\r\n\r\n\r\n';
  const res = await fetch(`${fake.url}/batch/calendar/v3`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/mixed; boundary=b' },
    body: `--b\r\nContent-Type: application/json\r\nContent-ID: <item1>\r\n\r\n${get}--b\r\nContent-ID: <item2>\r\n\r\n${get}--b\r\nContent-Type: application/http\r\nContent-ID: <item3>\r\n\r\n${get}--b--\r\n`,
  });
  expect(res.status).toBe(200);
  expect([...(await res.text()).matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))).toEqual([400, 400, 200]);
});

test('token endpoint: form-encoded bodies only; a code from a request with code_challenge needs the matching code_verifier', async () => {
  const asJson = await fetch(fake.tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'refresh_token', refresh_token: fake.issueTokens().refresh_token }),
  });
  expect(asJson.status).toBe(400);
  expect((await asJson.json()).error).toBe('invalid_request');
  const verifier = 'v'.repeat(43);
  const { createHash } = await import('node:crypto');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const codeFor = async () => {
    const q = new URLSearchParams({ client_id: fake.clientId, redirect_uri: 'http://127.0.0.1/cb', response_type: 'code', scope: 'x', code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await fetch(`${fake.authUrl}?${q}`, { redirect: 'manual' });
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  };
  const exchange = (code: string, extra: Record<string, string>) => fetch(fake.tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1/cb', ...extra }),
  });
  const without = await exchange(await codeFor(), {});
  expect([without.status, (await without.json()).error]).toEqual([400, 'invalid_grant']);
  const wrong = await exchange(await codeFor(), { code_verifier: 'w'.repeat(43) });
  expect([wrong.status, (await wrong.json()).error]).toEqual([400, 'invalid_grant']);
  const right = await exchange(await codeFor(), { code_verifier: verifier });
  expect(right.status).toBe(200);
  expect((await right.json()).access_token).toMatch(/^ya29\./);
});
