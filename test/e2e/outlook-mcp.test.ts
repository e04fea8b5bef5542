// Outlook end to end: the real MCP client drives the built server over stdio, which talks to the
// HTTPS Graph fake through the real msal-node and graph-client. Connecting with
// authorize_calendar(provider "outlook") + handle_auth_callback (state and PKCE rules), the
// original specification's flight landing with both zones and its reminder, check_availability
// through getSchedule, a revoked sign-in, and `tripcal auth outlook` with a device code.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { KEY_PROPERTY } from '../../providers/outlook/events.js';
import { GraphFake } from '../support/graph-fake.js';
import { CLI, connect, SPEC_FLIGHT, storedInClear, structured, tempDir, type Connected } from '../support/mcp.js';

let fake: GraphFake;
let server: Connected;
let dir: string;
const REDIRECT = 'https://tripcal.example/oauth/callback';

function outlookConfig(dataDir: string): string {
  const path = join(dataDir, 'config.yaml');
  writeFileSync(path, [
    'outlook:',
    '  client_id: ${TEST_MS_CLIENT_ID}',
    `  tenant_id: ${fake.tenant}`,
    `  authority: ${fake.authority}`,
    `  graph_url: ${fake.graphUrl}`,
    'sync:',
    '  retry_max_wait_seconds: 1',
  ].join('\n'));
  return path;
}

const env = () => ({ TEST_MS_CLIENT_ID: fake.clientId, TRIPCAL_LOG_LEVEL: 'warn' });
const errorText = (r: { content: unknown }) => (r.content as Array<{ text: string }>)[0]!.text;

async function consent(authUrl: string): Promise<{ code: string; state: string }> {
  const res = await fetch(authUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get('location')!);
  return { code: back.searchParams.get('code')!, state: back.searchParams.get('state')! };
}

beforeAll(async () => {
  fake = await new GraphFake().start();
  dir = tempDir();
  server = await connect({ dataDir: dir, args: ['--config', outlookConfig(dir)], env: env() });
});
afterAll(async () => {
  await server?.close();
  await fake?.stop();
});

test('authorize_calendar for outlook asks Microsoft for Calendars.ReadWrite + offline_access with PKCE S256 and a random state', async () => {
  const out = structured(await server.call('authorize_calendar', { user_id: 'test_user', redirect_uri: REDIRECT, provider: 'outlook' }));
  expect(out).toMatchObject({ success: true, account: 'outlook', calendar: 'primary', listening: false });
  const url = new URL(out.auth_url);
  expect(url.origin + url.pathname).toBe(`${fake.authority}/oauth2/v2.0/authorize`);
  const q = url.searchParams;
  expect(q.get('client_id')).toBe(fake.clientId);
  expect(q.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['Calendars.ReadWrite', 'offline_access']));
  expect(q.get('scope')).not.toMatch(/Calendars\.ReadWrite\.Shared|Mail|User\.Read\b|\.default/);
  expect(q.get('code_challenge_method')).toBe('S256');
  expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(out.message).toMatch(/sign in to Microsoft/);
});

test('handle_auth_callback refuses unknown and replayed states; then the spec\'s flight lands in Outlook with both zones', async () => {
  const bad = await server.call('handle_auth_callback', { user_id: 'test_user', code: 'x', state: 'not-a-state' });
  expect(bad.isError).toBe(true);
  expect(errorText(bad)).toMatch(/^state: unknown/);
  const out = structured(await server.call('authorize_calendar', { user_id: 'test_user', redirect_uri: REDIRECT, provider: 'outlook' }));
  const a = await consent(out.auth_url);
  const foreign = await server.call('handle_auth_callback', { user_id: 'someone_else', code: a.code, state: a.state });
  expect(errorText(foreign)).toMatch(/^state: was issued for another user/);
  const done = structured(await server.call('handle_auth_callback', { user_id: 'test_user', code: a.code, state: a.state }));
  expect(done).toMatchObject({ success: true, account: 'outlook', provider: 'outlook' });
  expect(done.calendars).toEqual([{ id: fake.defaultCalendar.id, name: 'Calendar', access_role: 'owner', writable: true, selected: true, primary: true }]);
  expect(done.message).toMatch(/Connected Outlook as account "outlook"; trips go to the calendar marked selected; 1 calendar\(s\) reachable/);
  expect(done.untrusted.fields).toEqual(['calendars[].id', 'calendars[].name']); // a calendar's name is its owner's text
  const replay = await server.call('handle_auth_callback', { user_id: 'test_user', code: a.code, state: a.state });
  expect(errorText(replay)).toMatch(/^state: already used/);

  const flight = structured(await server.call('add_flight', SPEC_FLIGHT));
  expect(flight.sync).toMatchObject({ status: 'synced', accounts: [{ account: 'outlook', status: 'ok' }] });
  const events = fake.liveEvents();
  expect(events).toHaveLength(1);
  const stored = [...fake.events.values()][0]!.data;
  expect(stored.start).toEqual({ dateTime: '2025-06-15T01:00:00', timeZone: 'America/Los_Angeles' });
  expect(stored.end).toEqual({ dateTime: '2025-06-15T12:30:00', timeZone: 'America/New_York' });
  expect(stored).toMatchObject({ isReminderOn: true, reminderMinutesBeforeStart: 120, showAs: 'busy' });
  expect(fake.propertyOf(stored, KEY_PROPERTY)).toMatch(/:flight$/);
  expect(stored.subject).toContain('UA123');
  for (const field of ['United Airlines', 'LAX', 'JFK', 'ABC123', '12A']) expect(stored.body.content).toContain(field);
  expect(flight.event_id).toBe(stored.id);
  expect(flight.event_details.calendar_link).toBe(events[0]!.webLink);

  const moved = structured(await server.call('update_item', { user_id: 'test_user', item_id: flight.event_id, changes: { seat: '14C' } }));
  expect(moved.sync.status).toBe('synced');
  expect([...fake.events.values()][0]!.data.body.content).toContain('14C');

  // No token in the clear anywhere in the database files.
  expect(storedInClear(dir, fake.issued)).toEqual([]);
});

test('check_availability reads the calendar view and leaves the trip itself out, by identity', async () => {
  fake.addUserEvent({ subject: 'Dentist', start: { dateTime: '2025-06-15T09:00:00', timeZone: 'America/New_York' }, end: { dateTime: '2025-06-15T10:00:00', timeZone: 'America/New_York' } });
  const out = structured(await server.call('check_availability', { user_id: 'test_user', start: '2025-06-14T00:00:00Z', end: '2025-06-16T00:00:00Z' }));
  // The dentist is busy time; the flight (ours, also in the calendar) is not, but collides.
  expect(out.busy.map((b: { start: { utc: string }; calendar: string }) => [b.start.utc, b.calendar])).toEqual([['2025-06-15T13:00:00Z', fake.email]]);
  expect(out.collisions).toHaveLength(1);
  expect(out.collisions[0]).toMatchObject({ summary: expect.stringContaining('UA123'), account: 'outlook' });
  expect(fake.requests.some((r) => r.path === '/me/calendar/calendarView')).toBe(true);
});

test('a revoked sign-in marks the account needs_reauth with words to act on; signing in again heals it', async () => {
  fake.revokeRefreshTokens();
  await server.call('sync_now', { user_id: 'test_user' });
  const status = structured(await server.call('sync_status', { user_id: 'test_user' }));
  expect(status.accounts[0]).toMatchObject({ account: 'outlook', state: 'needs_reauth' });
  expect(status.accounts[0].detail).toMatch(/tripcal auth outlook outlook/);
  const out = structured(await server.call('authorize_calendar', { user_id: 'test_user', redirect_uri: REDIRECT, provider: 'outlook' }));
  const a = await consent(out.auth_url);
  const done = structured(await server.call('handle_auth_callback', { user_id: 'test_user', code: a.code, state: a.state }));
  expect(done.sync.accounts[0]).toMatchObject({ account: 'outlook', status: 'ok' });
});

test('`tripcal auth outlook` signs in with a device code: shows the code, waits, stores the sign-in; a declined code stores nothing', async () => {
  const own = tempDir();
  const cfg = outlookConfig(own);
  const run = (account: string, answer: boolean) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'auth', 'outlook', account, '--config', cfg, '--data-dir', own], { env: { ...process.env, ...env() } });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /enter the code (\w+)/.exec(stdout);
      if (m && !answered) {
        answered = true;
        setTimeout(() => fake.answerDeviceCode(m[1]!, answer), 300);
      }
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const ok = await run('work', true);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/microsoft\.com\/devicelogin/);
  expect(ok.stdout).toMatch(/Connected account "work" as traveller@contoso\.example/);
  expect(ok.stdout).toMatch(/\* Calendar \[default\]/);
  const no = await run('other', false);
  expect(no.code).toBe(2);
  expect(no.stderr).toMatch(/authorization_declined.*nothing was stored/);
});
