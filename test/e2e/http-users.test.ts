// Issue 20 (per-user identity over HTTP, static tokens): each token of http.tokens acts for one
// user. With partner's token, every tool and resource aimed at me's trips, items and accounts is
// refused (or finds nothing), and me's database rows are exactly as they were; partner's own
// work goes on. A read-only token may only read; /healthz shows details to an admin token only.
// Driven by the SDK client of TRIPCAL_MCP_CLIENT over the real daemon.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { dumpDatabase } from '../support/app.js';
import { connectHttp, startDaemonProcess, type HttpClient, type RunningDaemon } from '../support/daemon.js';
import { SPEC_FLIGHT, structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const ADMIN = 'admin-token-0123456789abcdef';
const ME = 'me-token-0123456789abcdef';
const PARTNER = 'partner-token-0123456789abcdef';
const PARTNER_READ = 'partner-read-token-0123456789abcdef';

let daemon: RunningDaemon;
let dir: string;
let me: HttpClient;
let partner: HttpClient;
const mine: { trip: string; item: string } = { trip: '', item: '' };

beforeAll(async () => {
  dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), [
    'log_level: warn',
    'users:', '  me:', '    timezone: Europe/Berlin', '  partner:', '    timezone: Europe/Lisbon',
    'accounts:',
    // Never reached: who may use it is decided before any request.
    '  - name: home', '    provider: caldav', '    url: http://127.0.0.1:9/', '    username: me', '    password: secret-secret', '    user: me',
    'sync:', '  on_edit: false',
    'http:', `  listen: 127.0.0.1:${port}`, `  token: ${ADMIN}`,
    '  tokens:', `    - token: ${ME}`, '      user: me', `    - token: ${PARTNER}`, '      user: partner',
    `    - token: ${PARTNER_READ}`, '      user: partner', '      read_only: true',
    '',
  ].join('\n'));
  daemon = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir]);
  me = await connectHttp(daemon.mcpUrl, { authorization: `Bearer ${ME}` });
  partner = await connectHttp(daemon.mcpUrl, { authorization: `Bearer ${PARTNER}` });
  const flight = structured(await me.call('add_flight', { flight_details: SPEC_FLIGHT.flight_details }));
  mine.trip = flight.trip_id;
  mine.item = flight.item_id;
  structured(await me.call('add_activity', { trip_id: mine.trip, activity_details: { name: 'Museum', start_time: '2025-06-16T10:00', timezone: 'America/New_York' } }));
});
afterAll(async () => {
  await me?.close();
  await partner?.close();
  await daemon?.stop();
});

const ICS = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u@x\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250615T100000Z\r\nSUMMARY:Sneak\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const RESERVATION = JSON.stringify({ '@context': 'https://schema.org', '@type': 'EventReservation', reservationNumber: 'X1', reservationFor: { '@type': 'Event', name: 'Sneak', startDate: '2025-06-16T10:00:00Z' } });

/** Every tool, aimed at me's things from partner's connection. */
const attacks = (): Array<[string, Record<string, unknown>]> => [
  ['add_flight', { user_id: 'me', flight_details: SPEC_FLIGHT.flight_details }],
  ['add_flight', { trip_id: mine.trip, flight_details: SPEC_FLIGHT.flight_details }],
  ['add_accommodation', { trip_id: mine.trip, accommodation_details: { name: 'Inn', check_in: '2025-06-15', check_out: '2025-06-16', timezone: 'America/New_York' } }],
  ['add_activity', { user_id: 'me', activity_details: { name: 'Sneak', start_time: '2025-06-16T10:00', timezone: 'America/New_York' } }],
  ['create_itinerary', { user_id: 'me', trip_name: 'Sneak' }],
  ['update_item', { item_id: mine.item, changes: { seat: '1A' } }],
  ['delete_event', { event_id: mine.item }],
  ['create_trip', { user_id: 'me', title: 'Sneak' }],
  ['list_trips', { user_id: 'me' }],
  ['get_trip', { trip_id: mine.trip }],
  ['check_trip', { trip_id: mine.trip }],
  ['delete_trip', { trip_id: mine.trip }],
  ['shift_trip', { trip_id: mine.trip, by: 'P1D' }],
  ['export_trip', { trip_id: mine.trip }],
  ['import_ics', { trip_id: mine.trip, ics: ICS }],
  ['import_reservations', { trip_id: mine.trip, content: RESERVATION }],
  ['sync_now', { account: 'home' }],
  ['sync_now', { user_id: 'me' }],
  ['check_availability', { user_id: 'me', start: '2025-06-15T00:00', end: '2025-06-16T00:00' }],
  ['check_availability', { start: '2025-06-15T00:00', end: '2025-06-16T00:00', calendars: ['home'] }],
  ['list_calendars', { account: 'home' }],
  ['authorize_calendar', { user_id: 'me', redirect_uri: 'https://x.example/cb' }],
  ['handle_auth_callback', { user_id: 'me', code: 'c', state: 's' }],
];

const text = (r: { content: unknown }) => (r.content as Array<{ text: string }>)[0]!.text;

test('with partner\'s token, every tool aimed at me\'s trips, items and accounts is refused and me\'s rows are unchanged', async () => {
  const { tools } = await partner.client.listTools();
  const attacked = new Set(attacks().map(([name]) => name));
  // A new tool must be added here: what it may touch of another user is part of the tool.
  expect(tools.map((t: { name: string }) => t.name).filter((n: string) => !attacked.has(n) && n !== 'sync_status').sort()).toEqual([]);

  const db = new Database(join(dir, 'tripcal.db'), { readonly: true });
  try {
    const before = dumpDatabase(db);
    for (const [tool, args] of attacks()) {
      const result = await partner.call(tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}: ${JSON.stringify(result.structuredContent)}`).toBe(true);
      const said = text(result);
      if ('user_id' in args) expect(said, tool).toMatch(/^user_id: this connection acts for user "partner"/);
      else if ('account' in args || 'calendars' in args) expect(said, tool).toMatch(/no account "home" for user "partner"/);
      else expect(said, tool).toMatch(/no (trip|item) "(trip|item)_\w+" for user "partner"|event_id/);
      expect(dumpDatabase(db), `${tool} changed the database`).toBe(before);
    }
    // What partner may see of the accounts: their own (none).
    expect(structured(await partner.call('sync_status', {})).accounts).toEqual([]);
    expect(dumpDatabase(db)).toBe(before);
  } finally {
    db.close();
  }
});

test('resources: partner lists only their own trips and cannot read me\'s', async () => {
  const { resources } = await partner.client.listResources();
  expect(resources.filter((r: { uri: string }) => r.uri.includes(mine.trip))).toEqual([]);
  for (const uri of [`tripcal://trips/${mine.trip}`, `tripcal://trips/${mine.trip}.ics`, `tripcal://trips/${mine.trip}/itinerary`]) {
    await expect(partner.client.readResource({ uri }), uri).rejects.toThrow(/no trip/);
  }
  const own = await me.client.readResource({ uri: `tripcal://trips/${mine.trip}/itinerary` });
  expect(own.contents[0].text).toContain('Museum');
});

test('partner\'s own work goes on; me sees none of it', async () => {
  const theirs = structured(await partner.call('add_activity', { activity_details: { name: 'Fado night', start_time: '2025-07-01T21:00' } }));
  expect(structured(await partner.call('get_trip', { trip_id: theirs.trip_id })).items[0].start.timezone).toBe('Europe/Lisbon');
  expect(structured(await partner.call('list_trips', { user_id: 'partner' })).trips).toHaveLength(1);
  expect(structured(await me.call('list_trips', {})).trips.map((t: { id: string }) => t.id)).toEqual([mine.trip]);
  expect((await me.call('get_trip', { trip_id: theirs.trip_id })).isError).toBe(true);
});

test('a read-only token reads and changes nothing; the admin token acts for anyone', async () => {
  const reader = await connectHttp(daemon.mcpUrl, { authorization: `Bearer ${PARTNER_READ}` });
  const admin = await connectHttp(daemon.mcpUrl, { authorization: `Bearer ${ADMIN}` });
  try {
    expect(structured(await reader.call('list_trips', {})).trips).toHaveLength(1);
    const refused = await reader.call('create_trip', { title: 'Nope' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^token: this token may only read/);
    expect(structured(await admin.call('list_trips', { user_id: 'me' })).trips).toHaveLength(1);
    expect(structured(await admin.call('list_trips', { user_id: 'partner' })).trips).toHaveLength(1);
  } finally {
    await reader.close();
    await admin.close();
  }
});

test('/healthz: details for an admin token only; a wrong token is 401', async () => {
  const as = async (token: string) => fetch(daemon.healthUrl, { headers: { authorization: `Bearer ${token}` } });
  const full = await (await as(ADMIN)).json();
  expect(full).toMatchObject({ status: 'ok', accounts: [{ account: 'home' }] });
  expect(await (await as(PARTNER)).json()).toEqual({ status: 'ok', version: full.version });
  expect((await as('wrong-token-0123456789abcdef')).status).toBe(401);
  expect((await fetch(daemon.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
});
