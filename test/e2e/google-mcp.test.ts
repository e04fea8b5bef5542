// Google Calendar end to end: the real MCP client drives the built server over stdio, which
// talks to the loopback Google fake through the real googleapis / google-auth-library clients.
// Connecting with authorize_calendar + handle_auth_callback (state and PKCE rules), the original
// specification's flight landing with both zones, its reminders and its real htmlLink, a revoked
// refresh token, and `tripcal auth google` from a terminal.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createServer } from 'node:net';
import { ElicitationCompleteNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { CLI, connect, SPEC_FLIGHT, storedInClear, structured, tempDir, type Connected } from '../support/mcp.js';

let fake: GoogleFake;
let server: Connected;
let dir: string;
let config: string;
// A redirect tripcal cannot listen on: the two-call flow (authorize_calendar, handle_auth_callback).
const REDIRECT = 'https://tripcal.example/oauth/callback';

function googleConfig(dataDir: string, fakeUrl: string, extra = ''): string {
  const path = join(dataDir, 'config.yaml');
  writeFileSync(path, [
    'google:',
    '  client_id: ${TEST_GOOGLE_CLIENT_ID}',
    '  client_secret: ${TEST_GOOGLE_CLIENT_SECRET}',
    `  auth_url: ${fakeUrl}/o/oauth2/v2/auth`,
    `  token_url: ${fakeUrl}/token`,
    `  api_root: ${fakeUrl}/`,
    'sync:',
    '  retry_max_wait_seconds: 1',
    extra,
  ].join('\n'));
  return path;
}

const env = () => ({ TEST_GOOGLE_CLIENT_ID: fake.clientId, TEST_GOOGLE_CLIENT_SECRET: fake.clientSecret, TRIPCAL_LOG_LEVEL: 'warn' });

/** What the user's browser does: open the consent URL, get redirected with code and state. */
async function consent(authUrl: string): Promise<{ code: string; state: string }> {
  const res = await fetch(authUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get('location')!);
  return { code: back.searchParams.get('code')!, state: back.searchParams.get('state')! };
}

async function authorize(user = 'test_user'): Promise<{ url: URL; code: string; state: string }> {
  const out = structured(await server.call('authorize_calendar', { user_id: user, redirect_uri: REDIRECT, provider: 'google' }));
  const url = new URL(out.auth_url);
  return { url, ...(await consent(out.auth_url)) };
}

const errorText = (r: { content: unknown }) => (r.content as Array<{ text: string }>)[0]!.text;

beforeAll(async () => {
  fake = await startGoogleFake();
  dir = tempDir();
  config = googleConfig(dir, fake.url);
  server = await connect({ dataDir: dir, args: ['--config', config], env: env() });
});
afterAll(async () => {
  await server?.close();
  await fake?.stop();
});

test('authorize_calendar asks for offline access, consent, narrow scopes, PKCE S256 and a random state', async () => {
  const { url } = await authorize();
  const q = url.searchParams;
  expect(url.origin + url.pathname).toBe(`${fake.url}/o/oauth2/v2/auth`);
  expect(q.get('access_type')).toBe('offline');
  expect(q.get('prompt')).toBe('consent');
  expect(q.get('client_id')).toBe(fake.clientId);
  expect(q.get('redirect_uri')).toBe(REDIRECT);
  expect(q.get('scope')!.split(' ').sort()).toEqual([
    'https://www.googleapis.com/auth/calendar.calendarlist.readonly', 'https://www.googleapis.com/auth/calendar.events',
    'https://www.googleapis.com/auth/calendar.freebusy',
  ]);
  expect(q.get('code_challenge_method')).toBe('S256');
  expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const again = await authorize();
  expect(again.url.searchParams.get('state')).not.toBe(q.get('state'));
  expect(again.url.searchParams.get('code_challenge')).not.toBe(q.get('code_challenge'));
});

test('handle_auth_callback refuses unknown, foreign, replayed and expired states, and a PKCE mismatch, changing nothing', async () => {
  const unknown = await server.call('handle_auth_callback', { user_id: 'test_user', code: 'x', state: 'not-a-state-we-issued' });
  expect(unknown.isError).toBe(true);
  expect(errorText(unknown)).toMatch(/^state: unknown/);

  const a = await authorize();
  const foreign = await server.call('handle_auth_callback', { user_id: 'mallory', code: a.code, state: a.state });
  expect(foreign.isError).toBe(true);
  expect(errorText(foreign)).toMatch(/^state: was issued for another user/);

  // Expired: ten minutes pass (the state's expiry moved into the past, directly in the database).
  const b = await authorize();
  const db = new Database(join(dir, 'tripcal.db'));
  db.prepare('UPDATE oauth_states SET expires_at = ? WHERE used_at IS NULL').run('2020-01-01T00:00:00.000Z');
  db.close();
  const expired = await server.call('handle_auth_callback', { user_id: 'test_user', code: b.code, state: b.state });
  expect(errorText(expired)).toMatch(/^state: expired/);

  const c = await authorize();
  fake.tamperChallenge(c.code);
  const pkce = await server.call('handle_auth_callback', { user_id: 'test_user', code: c.code, state: c.state });
  expect(pkce.isError).toBe(true);
  expect(errorText(pkce)).toMatch(/invalid_grant: Invalid code verifier/);
  const replay = await server.call('handle_auth_callback', { user_id: 'test_user', code: c.code, state: c.state });
  expect(errorText(replay)).toMatch(/^state: already used/);

  // Granular consent: the person unticked free/busy. Nothing half-working is stored.
  fake.untickedScopes = ['https://www.googleapis.com/auth/calendar.freebusy'];
  const d = await authorize();
  fake.untickedScopes = [];
  const partial = await server.call('handle_auth_callback', { user_id: 'test_user', code: d.code, state: d.state });
  expect(errorText(partial)).toMatch(/^code: Google did not grant calendar\.freebusy \(unticked on the consent screen\); nothing was stored/);

  const status = structured(await server.call('sync_status', {}));
  expect(status.accounts).toEqual([]);
});

test('connecting lists the calendars with their access role; the spec\'s flight lands with both zones, its reminders and its real link', async () => {
  fake.addCalendar({ id: 'family@group.calendar.google.com', summary: 'Family', timeZone: 'Europe/Berlin', accessRole: 'reader' });
  const a = await authorize();
  const done = structured(await server.call('handle_auth_callback', { user_id: 'test_user', code: a.code, state: a.state }));
  expect(done).toMatchObject({ success: true, account: 'google', provider: 'google' });
  expect(done.calendars).toEqual([
    { id: fake.email, name: fake.email, access_role: 'owner', writable: true, selected: true, primary: true },
    { id: 'family@group.calendar.google.com', name: 'Family', access_role: 'reader', writable: false, selected: false, primary: false },
  ]);
  expect(JSON.stringify(done)).not.toMatch(/ya29\.|1\/\/fake-refresh/);
  const replay = await server.call('handle_auth_callback', { user_id: 'test_user', code: a.code, state: a.state });
  expect(errorText(replay)).toMatch(/^state: already used/);

  const out = structured(await server.call('add_flight', SPEC_FLIGHT));
  expect(out.sync).toMatchObject({ status: 'synced', accounts: [{ account: 'google', status: 'ok' }] });
  const events = fake.liveEvents();
  expect(events).toHaveLength(1);
  const e = events[0]!;
  expect(e.start).toEqual({ dateTime: '2025-06-15T01:00:00-07:00', timeZone: 'America/Los_Angeles' });
  // Shown in the calendar's zone (Los Angeles), as Google does; the arrival zone stays as the field.
  expect(e.end).toEqual({ dateTime: '2025-06-15T09:30:00-07:00', timeZone: 'America/New_York' });
  expect(e.reminders.overrides).toEqual(expect.arrayContaining([{ method: 'email', minutes: 48 * 60 }, { method: 'popup', minutes: 120 }]));
  expect(e.reminders.useDefault).toBe(false);
  expect(e.summary).toContain('UA123');
  for (const field of ['United Airlines', 'LAX', 'JFK', 'ABC123', '12A']) expect(e.description).toContain(field);
  expect(out.event_details.calendar_link).toBe(e.htmlLink);
  expect(out.event_id).toBe(e.id);

  // The returned event_id works for later edits.
  const moved = structured(await server.call('update_item', { user_id: 'test_user', item_id: out.event_id, changes: { seat: '14C' } }));
  expect(moved.sync.status).toBe('synced');
  expect(fake.liveEvents()[0]!.description).toContain('14C');

  // No token in the clear anywhere in the data directory's database files.
  expect(storedInClear(dir, fake.issued)).toEqual([]);
});

test('list_calendars and check_availability ask Google; trip items that collide are named', async () => {
  fake.addUserEvent({ summary: 'Dentist', start: { dateTime: '2025-06-15T09:00:00Z' }, end: { dateTime: '2025-06-15T10:00:00Z' } });
  fake.addUserEvent({ summary: 'Recital', start: { dateTime: '2025-06-15T11:00:00Z' }, end: { dateTime: '2025-06-15T12:00:00Z' } }, 'family@group.calendar.google.com');
  const listed = structured(await server.call('list_calendars', {}));
  expect(listed.accounts[0].calendars.map((c: { access_role: string }) => c.access_role)).toEqual(['owner', 'reader']);
  const before = fake.requests.length;
  const free = structured(await server.call('check_availability', { user_id: 'test_user', start: '2025-06-14T00:00:00Z', end: '2025-06-16T00:00:00Z' }));
  expect(free.busy.map((b: { start: { utc: string }; calendar: string }) => [b.start.utc, b.calendar])).toEqual([
    ['2025-06-15T09:00:00Z', 'primary'], ['2025-06-15T11:00:00Z', 'family@group.calendar.google.com'],
  ]);
  expect(free.collisions).toHaveLength(2);
  expect(free.collisions[0]).toMatchObject({ summary: expect.stringContaining('UA123'), account: 'google' });
  // One freeBusy query for the other calendars, one read of the target calendar.
  expect(fake.requests.slice(before).map((r) => r.path).sort()).toEqual(['/calendar/v3/calendars/primary/events', '/calendar/v3/freeBusy']);
});

test('check_availability says which calendars answered; a 503 or a 429 is retried; no answer at all is an error, never "free"', async () => {
  fake.failNext({ status: 503, match: /freeBusy/ });
  fake.failNext({ status: 429, retryAfter: '1', match: /GET \/calendar\/v3\/calendars\/primary\/events/ });
  const served = fake.faultsServed;
  const retried = structured(await server.call('check_availability', { user_id: 'test_user', start: '2025-06-14T00:00:00Z', end: '2025-06-16T00:00:00Z' }));
  expect(fake.faultsServed - served).toBe(2);
  expect(retried).toMatchObject({ success: true, complete: true, accounts: ['google'], answered: ['google'], errors: [] });
  expect(retried.busy.length).toBeGreaterThan(0);

  fake.failNext({ status: 503, match: /freeBusy/ }, 50);
  const none = await server.call('check_availability', { user_id: 'test_user', start: '2025-06-14T00:00:00Z', end: '2025-06-16T00:00:00Z' });
  expect(none.isError).toBe(true);
  const text = (none.content as Array<{ text: string }>)[0]!.text;
  expect(text).toContain('no calendar answered, so busy time is unknown (not free)');
  expect(text).not.toContain('internal error');
  fake.clearFaults();
});

test('a revoked refresh token marks the account needs_reauth with words to act on; nothing else breaks; authorizing again heals it', async () => {
  fake.revokeRefreshTokens();
  const added = structured(await server.call('add_activity', {
    user_id: 'test_user', activity_details: { name: 'Harbor tour', start_time: '2025-06-16T10:00', timezone: 'America/New_York' },
  }));
  expect(added.success).toBe(true);
  expect(added.sync.status).toBe('pending');
  const status = structured(await server.call('sync_status', {}));
  expect(status.accounts[0]).toMatchObject({ account: 'google', provider: 'google', state: 'needs_reauth', pending: 1 });
  expect(status.accounts[0].detail).toMatch(/invalid_grant/);
  expect(status.accounts[0].detail).toMatch(/tripcal auth google google/);
  expect(status.accounts[0].detail).toMatch(/authorize_calendar/);
  const tripId = structured(await server.call('list_trips', { user_id: 'test_user' })).trips[0].id;
  const exported = structured(await server.call('export_trip', { user_id: 'test_user', trip_id: tripId }));
  expect(exported.ics).toContain('Harbor tour');

  const a = await authorize();
  const healed = structured(await server.call('handle_auth_callback', { user_id: 'test_user', code: a.code, state: a.state }));
  expect(healed.sync.status).toBe('synced');
  const ours = fake.liveEvents().filter((e) => e.extendedProperties?.private?.tripcal === '1');
  expect(ours.map((e) => e.summary).sort()).toEqual([expect.stringContaining('UA123'), 'Harbor tour']);
  const after = structured(await server.call('sync_status', {}));
  expect(after.accounts[0]).toMatchObject({ state: 'ok', pending: 0 });
});

test('another user connects with a dedicated "Trips" calendar: the narrow extra scope is asked, the calendar made once, trips go there', async () => {
  const out = structured(await server.call('authorize_calendar', { user_id: 'anna', redirect_uri: REDIRECT, calendar: 'Trips' }));
  expect(out).toMatchObject({ account: 'google-anna', calendar: 'Trips' });
  expect(new URL(out.auth_url).searchParams.get('scope')).toContain('https://www.googleapis.com/auth/calendar.app.created');
  const { code, state } = await consent(out.auth_url);
  const done = structured(await server.call('handle_auth_callback', { user_id: 'anna', code, state }));
  const trips = [...fake.calendars.values()].filter((c) => c.summary === 'Trips');
  expect(trips).toHaveLength(1);
  expect(done.calendars.find((c: { selected: boolean }) => c.selected)).toMatchObject({ id: trips[0]!.id, name: 'Trips', access_role: 'owner' });
  structured(await server.call('add_activity', { user_id: 'anna', activity_details: { name: 'Opera', start_time: '2025-09-01T19:00', timezone: 'Europe/Vienna' } }));
  expect(fake.liveEvents(trips[0]!.id).map((e) => e.summary)).toEqual(['Opera']);
  expect(fake.liveEvents().map((e) => e.summary)).not.toContain('Opera');
  const refused = await server.call('authorize_calendar', { user_id: 'anna', redirect_uri: 'http://evil.example.com/cb' });
  expect(errorText(refused)).toMatch(/^redirect_uri: must be an https:\/\/ URL, or http:\/\/ on 127\.0\.0\.1/);
  const foreign = await server.call('authorize_calendar', { user_id: 'anna', redirect_uri: REDIRECT, account: 'google' });
  expect(errorText(foreign)).toMatch(/^account: "google" belongs to another user/);
  // Its events live in "Trips" now: moving the account to another calendar is refused, not half done.
  const moved = await server.call('authorize_calendar', { user_id: 'anna', redirect_uri: REDIRECT, calendar: 'Holidays' });
  expect(errorText(moved)).toMatch(/^calendar: account "google-anna" already keeps trips in "Trips"; to use "Holidays", connect it under another account name/);
  // Reconnecting it as it is works (say, after a revoked authorization).
  expect(structured(await server.call('authorize_calendar', { user_id: 'anna', redirect_uri: REDIRECT })).calendar).toBe('Trips');
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('with a loopback redirect, the flow finishes by itself when the browser comes back (2025-11-25: the client is asked to show the URL)', async () => {
  const own = tempDir();
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/oauth/callback`;
  const client = await connect({ dataDir: own, args: ['--config', googleConfig(own, fake.url)], env: { ...env(), GOOGLE_REDIRECT_URI: redirect }, capabilities: { elicitation: { url: {} } } });
  try {
    const shown: string[] = [];
    const browsed: Promise<string>[] = [];
    // The user opens the URL: consent, then Google's redirect to the loopback address.
    const browse = (url: string) => browsed.push(fetch(url).then((r) => r.text()));
    client.client.onElicit((params) => {
      shown.push(params.mode ?? 'form');
      browse(params.url!);
      return { action: 'accept' };
    });
    // 2025-11-25 only: the server says when the sign-in it asked for is done.
    const completed = client.client.era === 'legacy'
      ? new Promise<void>((resolve) => client.client.raw.setNotificationHandler(ElicitationCompleteNotificationSchema, () => resolve()))
      : undefined;
    const out = structured(await client.call('authorize_calendar', { user_id: 'zoe' }));
    expect(out).toMatchObject({ success: true, listening: true, account: 'google' });
    expect(new URL(out.auth_url).searchParams.get('redirect_uri')).toBe(redirect);
    if (client.client.era === 'legacy') {
      await completed;
      expect(shown).toEqual(['url']);
      expect(out.message).toMatch(/The client was asked to show this URL/);
    } else {
      // 2026-07-28 has no push from the server: the URL is in the result, and the client opens it.
      expect(shown).toEqual([]);
      browse(out.auth_url);
    }
    expect(await browsed[0]).toContain('tripcal is connected');
    const status = structured(await client.call('sync_status', {}));
    expect(status.accounts).toMatchObject([{ account: 'google', user: 'zoe', provider: 'google' }]);
    // A stray request to the listener is ignored.
    expect((await fetch(`${redirect}?code=x&state=forged`)).status).toBe(404);
  } finally {
    await client.close();
  }
});

test('`tripcal auth google` prints the URL and finishes by itself when the browser comes back to 127.0.0.1', async () => {
  const own = tempDir();
  const cfg = googleConfig(own, fake.url);
  const child = spawn(process.execPath, [CLI, 'auth', 'google', '--config', cfg, '--data-dir', own], { env: { ...process.env, ...env() } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`exited early: ${stdout} ${stderr}`)));
  });
  const redirect = new URL(url).searchParams.get('redirect_uri')!;
  expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  // The browser: consent, then follow Google's redirect to the loopback server.
  const page = await fetch(url);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('tripcal is connected');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toMatch(/Connected account "google"/);
  expect(stdout).toMatch(/\* traveller@example\.com \(owner\) \[primary\]/);

  // On a server without a browser: the browser elsewhere cannot reach 127.0.0.1 there, so the
  // person pastes the address it was sent to into the terminal.
  const headless = spawn(process.execPath, [CLI, 'auth', 'google', 'server', '--config', cfg, '--data-dir', own], { env: { ...process.env, ...env() } });
  let out3 = '';
  let err3 = '';
  headless.stderr.on('data', (c: Buffer) => (err3 += c.toString()));
  const url3 = await new Promise<string>((resolve) => headless.stdout.on('data', (c: Buffer) => {
    out3 += c.toString();
    const m = /(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\S+)/.exec(out3);
    if (m) resolve(m[1]!);
  }));
  expect(out3).toContain('paste it here');
  const consent = await fetch(url3, { redirect: 'manual' });
  const sentTo = consent.headers.get('location')!;
  expect(sentTo).toMatch(/\/callback\?.*code=/);
  headless.stdin.write('not an address\n');
  headless.stdin.write(`${sentTo}\n`);
  expect(await new Promise((resolve) => headless.on('exit', resolve))).toBe(0);
  expect(err3).toContain('paste it again');
  expect(out3).toMatch(/Connected account "server"/);

  // The person declines on Google's page: the command says so, stores nothing, exits 2.
  const declined = spawn(process.execPath, [CLI, 'auth', 'google', 'other', '--config', cfg, '--data-dir', own], { env: { ...process.env, ...env() } });
  let out2 = '';
  let err2 = '';
  declined.stderr.on('data', (c: Buffer) => (err2 += c.toString()));
  const url2 = await new Promise<URL>((resolve) => declined.stdout.on('data', (c: Buffer) => {
    out2 += c.toString();
    const m = /(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\S+)/.exec(out2);
    if (m) resolve(new URL(m[1]!));
  }));
  const back = new URL(url2.searchParams.get('redirect_uri')!);
  expect((await fetch(`${back.href}?error=access_denied&state=forged`)).status).toBe(404);
  back.searchParams.set('error', 'access_denied');
  back.searchParams.set('state', url2.searchParams.get('state')!);
  expect(await (await fetch(back)).text()).toContain('tripcal was not connected');
  expect(await new Promise((resolve) => declined.on('exit', resolve))).toBe(2);
  expect(err2).toMatch(/Google did not authorize tripcal \(access_denied\); nothing was stored/);
});
