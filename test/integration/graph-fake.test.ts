// The Graph fake itself, through plain fetch: it must refuse what Microsoft Graph and the identity
// platform refuse (docs/reference/microsoft-graph-calendar.md §1–§9), or the Outlook provider
// tests would prove nothing (issue 17).
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GraphFake } from '../support/graph-fake.js';

let fake: GraphFake;
let token: string;
let refresh: string;
const PROP = 'String {5b1e2c1a-7d3f-4e8b-9a61-3c2f8e4d7a90} Name probe';

beforeAll(async () => {
  fake = await new GraphFake().start();
  const t = fake.issueTokens();
  token = t.access_token;
  refresh = t.refresh_token;
});
afterAll(async () => {
  await fake?.stop();
});

async function graph(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const url = path.startsWith('https://') ? path : `${fake.url}/v1.0${path}`;
  const res = await fetch(url, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const refusal = async (p: Promise<{ status: number; body: any }>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await p;
  return [r.status, r.body?.error?.code ?? r.body?.error];
};

const event = (over: Record<string, unknown> = {}) => ({
  subject: 'x', start: { dateTime: '2025-06-15T08:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2025-06-15T09:00:00', timeZone: 'Europe/Berlin' }, ...over,
});

test('§3 delta: links are followed as given; a changed token or a repeated window is 400; $top has no effect', async () => {
  for (let i = 0; i < 3; i++) await graph('POST', '/me/events', event({ subject: `d${i}` }));
  const first = await graph('GET', '/me/calendarView/delta?startDateTime=2025-01-01T00:00:00Z&endDateTime=2026-01-01T00:00:00Z&$top=1', undefined, { prefer: 'odata.maxpagesize=2' });
  expect(first.status).toBe(200);
  expect(first.body.value).toHaveLength(2);
  const next: string = first.body['@odata.nextLink'];
  expect(next).toMatch(/^https:\/\/.*\$skiptoken=/);
  const skip = new URL(next).searchParams.get('$skiptoken')!;
  const changed = new URL(next);
  changed.searchParams.set('$skiptoken', `${skip.slice(0, -1)}${skip.endsWith('A') ? 'B' : 'A'}`);
  expect(await refusal(graph('GET', changed.href))).toEqual([400, 'ErrorInvalidUrlQuery']);
  expect(await refusal(graph('GET', `${next}&startDateTime=2025-01-01T00:00:00Z&endDateTime=2026-01-01T00:00:00Z`))).toEqual([400, 'ErrorInvalidUrlQuery']);
  const last = await graph('GET', next, undefined, { prefer: 'odata.maxpagesize=2' });
  expect(last.status).toBe(200);
  const delta: string = last.body['@odata.deltaLink'];
  expect(delta).toMatch(/\$deltatoken=/);
  // A deltatoken passed off as a skiptoken is not a sync state either.
  expect(await refusal(graph('GET', delta.replace('$deltatoken=', '$skiptoken=')))).toEqual([400, 'ErrorInvalidUrlQuery']);
  expect(await refusal(graph('GET', `${delta}&startDateTime=2025-01-01T00:00:00Z`))).toEqual([400, 'ErrorInvalidUrlQuery']);
  expect((await graph('GET', delta)).status).toBe(200);
  expect(await refusal(graph('GET', '/me/calendarView/delta?startDateTime=2025-01-01T00:00:00Z'))).toEqual([400, 'ErrorInvalidParameter']);
});

test('§4 query options: none twice, none unknown, $top a positive integer; Prefer zone must be known', async () => {
  expect(await refusal(graph('GET', '/me/calendars?$top=5&$top=6'))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('GET', '/me/calendars?$top=0'))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('GET', '/me/calendars?$top=-3'))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('GET', '/me/calendars?$frobnicate=1'))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('GET', '/me/calendar/calendarView?startDateTime=2025-01-01T00:00:00Z&endDateTime=2026-01-01T00:00:00Z', undefined, { prefer: 'outlook.timezone="Mars/Olympus"' }))).toEqual([400, 'TimeZoneNotSupportedException']);
  const made = (await graph('POST', '/me/events', event())).body;
  const shown = await graph('GET', `/me/events/${encodeURIComponent(made.id)}`, undefined, { prefer: 'outlook.timezone="Tokyo Standard Time"' });
  expect(shown.body.start).toEqual({ dateTime: '2025-06-15T15:00:00.0000000', timeZone: 'Tokyo Standard Time' });
});

test('§2 event fields: known properties only, wall times without offsets (≤ 7 digits), int32 reminders, all-day at midnight, location replaces locations', async () => {
  expect(await refusal(graph('POST', '/me/events', event({ colour: 'red' })))).toEqual([400, 'RequestBodyRead']);
  expect(await refusal(graph('POST', '/me/events', event({ start: { dateTime: '2025-06-15T08:00:00+02:00', timeZone: 'Europe/Berlin' } })))).toEqual([400, 'ErrorInvalidRequest']);
  expect(await refusal(graph('POST', '/me/events', event({ start: { dateTime: '2025-06-15T08:00:00.12345678', timeZone: 'Europe/Berlin' } })))).toEqual([400, 'ErrorInvalidRequest']);
  expect(await refusal(graph('POST', '/me/events', event({ start: { dateTime: '15/06/2025 08:00', timeZone: 'Europe/Berlin' } })))).toEqual([400, 'ErrorInvalidRequest']);
  expect(await refusal(graph('POST', '/me/events', event({ reminderMinutesBeforeStart: -1 })))).toEqual([400, 'ErrorInvalidRequest']);
  expect(await refusal(graph('POST', '/me/events', event({ reminderMinutesBeforeStart: 2 ** 31 })))).toEqual([400, 'ErrorInvalidRequest']);
  expect(await refusal(graph('POST', '/me/events', event({ isReminderOn: 'yes' })))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('POST', '/me/events', event({ isAllDay: true })))).toEqual([400, 'ErrorInvalidRequest']);
  const made = await graph('POST', '/me/events', event({ start: { dateTime: '2025-06-15T08:00:00.1234567', timeZone: 'Europe/Berlin' }, location: { displayName: 'Gate 12' } }), { prefer: 'outlook.timezone="UTC"' });
  expect(made.status).toBe(201);
  expect(made.body.start.dateTime).toBe('2025-06-15T06:00:00.0000000');
  expect(made.body.lastModifiedDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  expect(made.body.locations).toEqual([{ displayName: 'Gate 12' }]);
  expect(made.body.transactionId).toBeNull();
  const moved = await graph('PATCH', `/me/events/${encodeURIComponent(made.body.id)}`, { location: { displayName: 'Gate 14' } });
  expect(moved.body.locations).toEqual([{ displayName: 'Gate 14' }]);
});

test('§2 transactionId: a repeat gives the first event back, another payload is refused, and it cannot change later', async () => {
  const body = event({ transactionId: 'probe-tx-1' });
  const a = await graph('POST', '/me/events', body);
  const b = await graph('POST', '/me/events', body);
  expect([a.status, b.status]).toEqual([201, 201]);
  expect(b.body.id).toBe(a.body.id);
  expect(b.body.transactionId).toBe('probe-tx-1');
  expect(await refusal(graph('POST', '/me/events', { ...body, subject: 'another' }))).toEqual([400, 'ErrorDuplicateTransactionId']);
  expect(await refusal(graph('PATCH', `/me/events/${encodeURIComponent(a.body.id)}`, { transactionId: 'probe-tx-2' }))).toEqual([400, 'ErrorInvalidPropertyUpdate']);
  expect(await refusal(graph('POST', '/me/events', event({ transactionId: 7 })))).toEqual([400, 'BadRequest']);
});

test('§5 If-Match: the current etag passes, a stale or bare one is 412 ErrorIrresolvableConflict, none is last-writer-wins', async () => {
  const made = (await graph('POST', '/me/events', event())).body;
  const path = `/me/events/${encodeURIComponent(made.id)}`;
  const ok = await graph('PATCH', path, { subject: 'a' }, { 'if-match': made['@odata.etag'] });
  expect(ok.status).toBe(200);
  expect(ok.body['@odata.etag']).not.toBe(made['@odata.etag']);
  expect(await refusal(graph('PATCH', path, { subject: 'b' }, { 'if-match': made['@odata.etag'] }))).toEqual([412, 'ErrorIrresolvableConflict']);
  expect(await refusal(graph('DELETE', path, undefined, { 'if-match': ok.body.changeKey }))).toEqual([412, 'ErrorIrresolvableConflict']);
  expect((await graph('PATCH', path, { subject: 'c' })).status).toBe(200);
  expect((await graph('DELETE', path)).status).toBe(204);
});

test('§2a extended properties: id formats checked; read back only by $expand with the exact id (Name case-sensitive)', async () => {
  expect(await refusal(graph('POST', '/me/events', event({ singleValueExtendedProperties: [{ id: 'String probe', value: '1' }] })))).toEqual([400, 'ErrorInvalidExtendedPropertyValue']);
  expect(await refusal(graph('POST', '/me/events', event({ singleValueExtendedProperties: [{ id: 'String {not-a-guid} Name x', value: '1' }] })))).toEqual([400, 'ErrorInvalidExtendedPropertyValue']);
  expect(await refusal(graph('POST', '/me/events', event({ singleValueExtendedProperties: [{ id: PROP, value: 1 }] })))).toEqual([400, 'ErrorInvalidExtendedPropertyValue']);
  const made = (await graph('POST', '/me/events', event({ singleValueExtendedProperties: [{ id: PROP, value: 'v' }] }))).body;
  expect(made.singleValueExtendedProperties).toBeUndefined();
  const path = `/me/events/${encodeURIComponent(made.id)}`;
  const expand = (id: string) => `?$expand=${encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${id}')`)}`;
  expect((await graph('GET', path + expand(PROP))).body.singleValueExtendedProperties).toEqual([{ id: PROP, value: 'v' }]);
  expect((await graph('GET', path + expand(PROP.toUpperCase().replace('NAME PROBE', 'Name probe')))).body.singleValueExtendedProperties).toHaveLength(1);
  expect((await graph('GET', path + expand(PROP.replace('probe', 'Probe')))).body.singleValueExtendedProperties).toBeUndefined();
  expect(await refusal(graph('GET', `${path}?$expand=attachments`))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('GET', path + expand('probe')))).toEqual([400, 'ErrorInvalidExtendedPropertyValue']);
});

test('§7 $batch: ≤ 20 unique string ids, relative urls, no nesting, dependsOn earlier with 424 after a failure, parallel parts past 4 throttled', async () => {
  const part = (id: string, over: Record<string, unknown> = {}) => ({ id, method: 'GET', url: '/me/calendar', ...over });
  expect(await refusal(graph('POST', '/$batch', { requests: Array.from({ length: 21 }, (_, i) => part(String(i))) }))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('POST', '/$batch', { requests: [part('1'), part('1')] }))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('POST', '/$batch', { requests: [part('1', { dependsOn: ['2'] }), part('2')] }))).toEqual([400, 'BadRequest']);
  expect(await refusal(graph('POST', '/$batch', { requests: [{ ...part('1'), id: 1 }] }))).toEqual([400, 'BadRequest']);
  const mixed = await graph('POST', '/$batch', { requests: [
    part('a', { url: `${fake.url}/v1.0/me/calendar` }), part('b', { url: '/v1.0/me/calendar' }), part('c', { url: '/$batch', method: 'POST', body: {}, headers: { 'Content-Type': 'application/json' } }),
    part('d', { method: 'POST', url: '/me/events', body: event() }),
  ] });
  const status = (r: { body: { responses: Array<{ id: string; status: number }> } }) => Object.fromEntries(r.body.responses.map((x) => [x.id, x.status]));
  expect(status(mixed)).toEqual({ a: 400, b: 400, c: 400, d: 400 });
  const chain = await graph('POST', '/$batch', { requests: [
    part('1', { url: '/me/events/nope' }), part('2', { dependsOn: ['1'] }), part('3', { dependsOn: ['2'] }),
  ] });
  expect(status(chain)).toEqual({ 1: 404, 2: 424, 3: 424 });
  const wide = await graph('POST', '/$batch', { requests: Array.from({ length: 6 }, (_, i) => part(String(i + 1))) });
  expect(status(wide)).toEqual({ 1: 200, 2: 200, 3: 200, 4: 200, 5: 429, 6: 429 });
  const throttled = wide.body.responses.find((r: { id: string }) => r.id === '5');
  expect(throttled.headers['retry-after']).toBe('1');
  expect(throttled.body.error.code).toBe('ApplicationThrottled');
  const serial = await graph('POST', '/$batch', { requests: Array.from({ length: 6 }, (_, i) => part(String(i + 1), i ? { dependsOn: [String(i)] } : {})) });
  expect(Object.values(status(serial))).toEqual([200, 200, 200, 200, 200, 200]);
});

test('§6 throttling: a 429 always has Retry-After; more than 4 requests in flight to the mailbox are 429 ApplicationThrottled', async () => {
  fake.failNext({ status: 429 });
  const r = await graph('GET', '/me/calendar');
  expect([r.status, r.body.error.code, r.headers.get('retry-after')]).toEqual([429, 'TooManyRequests', '1']);
  // Requests whose bodies have not all arrived are still in flight.
  const { request } = await import('node:https');
  const held = Array.from({ length: 4 }, () => {
    const req = request(`${fake.url}/v1.0/me/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '1000' } });
    req.on('error', () => undefined);
    req.write('{');
    return req;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fifth = await graph('GET', '/me/calendar');
  expect([fifth.status, fifth.body.error.code, fifth.headers.get('retry-after')]).toEqual([429, 'ApplicationThrottled', '1']);
  for (const req of held) req.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect((await graph('GET', '/me/calendar')).status).toBe(200);
});

const form = async (path: string, fields: Record<string, string>) => {
  const res = await fetch(`${fake.authority}/oauth2/v2.0/${path}`, { method: 'POST', body: new URLSearchParams(fields) });
  return { status: res.status, body: await res.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

test('§9 identity: PKCE S256 only, verifier form, exact redirect_uri, one redemption', async () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = (q: Record<string, string>) => fetch(`${fake.authority}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: fake.clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1:5000/cb', scope: 'Calendars.ReadWrite offline_access', ...q })}`, { redirect: 'manual' });
  expect((await (await authorize({ code_challenge: verifier, code_challenge_method: 'plain' })).json()).error).toBe('invalid_request');
  expect((await (await authorize({})).json()).error).toBe('invalid_request');
  const code = async () => new URL((await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })).headers.get('location')!).searchParams.get('code')!;
  const redeem = (c: string, over: Record<string, string> = {}) => form('token', { client_id: fake.clientId, grant_type: 'authorization_code', code: c, redirect_uri: 'http://127.0.0.1:5000/cb', code_verifier: verifier, ...over });
  expect((await redeem(await code(), { code_verifier: 'short' })).body.error).toBe('invalid_request');
  expect((await redeem(await code(), { redirect_uri: 'http://127.0.0.1:5001/cb' })).body.error).toBe('invalid_grant');
  expect((await redeem(await code(), { code_verifier: randomBytes(32).toString('base64url') })).body.error).toBe('invalid_grant');
  const c = await code();
  const ok = await redeem(c);
  expect(ok.status).toBe(200);
  expect(ok.body.refresh_token).toBeTruthy();
  expect((await redeem(c)).body.error_description).toMatch(/AADSTS54005/);
});

test('§9 identity: refresh rotates the refresh token and cannot widen consent', async () => {
  const next = await form('token', { client_id: fake.clientId, grant_type: 'refresh_token', refresh_token: refresh, scope: 'Calendars.ReadWrite openid profile offline_access' });
  expect(next.status).toBe(200);
  expect(next.body.refresh_token).toBeTruthy();
  expect(next.body.refresh_token).not.toBe(refresh);
  const wider = await form('token', { client_id: fake.clientId, grant_type: 'refresh_token', refresh_token: next.body.refresh_token, scope: 'Calendars.ReadWrite Mail.Send offline_access' });
  expect([wider.status, wider.body.error, wider.body.suberror]).toEqual([400, 'invalid_grant', 'consent_required']);
  expect(wider.body.error_description).toMatch(/AADSTS65001/);
});

test('§9 identity: device code polling faster than the interval is slow_down; pending until answered; the consent given is what the token carries', async () => {
  fake.grantedScopes = ['Calendars.Read'];
  try {
    const start = await form('devicecode', { client_id: fake.clientId, scope: 'Calendars.ReadWrite offline_access openid profile' });
    expect(start.body.interval).toBe(1);
    const poll = () => form('token', { client_id: fake.clientId, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: start.body.device_code });
    expect((await poll()).body.error).toBe('authorization_pending');
    expect((await poll()).body.error).toBe('slow_down');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await poll()).body.error).toBe('authorization_pending');
    fake.answerDeviceCode(start.body.user_code);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const done = await poll();
    expect(done.status).toBe(200);
    expect(done.body.scope).toBe('Calendars.Read');
  } finally {
    fake.grantedScopes = null;
  }
});
