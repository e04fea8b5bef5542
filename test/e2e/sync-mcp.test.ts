// Sync through the real MCP client and the CLI, against a real Radicale: tool edits reach the
// calendar right away, event_id and calendar_link are the calendar's own, progress is reported.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { caldavConfig, listStored } from '../support/caldav.js';
import { CLI, connect, SPEC_FLIGHT, structured, tempDir, type Connected } from '../support/mcp.js';
import { startRadicale, type Radicale } from '../support/radicale.js';

let radicale: Radicale;
let server: Connected;
let dir: string;
let config: string;
const collection = () => `/${radicale.username}/trips/`;

beforeAll(async () => {
  radicale = await startRadicale();
  dir = tempDir();
  config = caldavConfig(dir, radicale);
  server = await connect({ dataDir: dir, args: ['--config', config], env: { TEST_CALDAV_PASSWORD: radicale.password } });
});
afterAll(async () => {
  await server?.close();
  await radicale?.stop();
});

test('add_flight lands in the calendar at once; event_id and calendar_link are the real event', async () => {
  const out = structured(await server.call('add_flight', { ...SPEC_FLIGHT, user_id: undefined }));
  expect(out.sync).toMatchObject({ status: 'synced', accounts: [{ account: 'home', status: 'ok' }] });
  const stored = await listStored(radicale, collection());
  expect(stored).toHaveLength(1);
  const href = new URL(stored[0]!.href, radicale.url).href;
  expect(out.event_id).toBe(new URL(href).pathname);
  expect(out.event_details.calendar_link).toBe(href);
  expect(out.item_id).toMatch(/^item_/);
  expect(stored[0]).toMatchObject({ startTzid: 'America/Los_Angeles', endTzid: 'America/New_York' });
});

test('sync_status, list_calendars and sync_now with progress notifications', async () => {
  for (let i = 0; i < 3; i++) {
    structured(await server.call('add_activity', { activity_details: { name: `Museum ${i}`, start_time: `2025-06-1${6 + i}T10:00`, timezone: 'America/New_York' } }));
  }
  const status = structured(await server.call('sync_status', {}));
  expect(status.accounts).toMatchObject([{ account: 'home', provider: 'caldav', state: 'ok', pending: 0, failed: [], conflicts: [] }]);
  const calendars = structured(await server.call('list_calendars', {}));
  expect(calendars.accounts[0].calendars).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Trips', selected: true })]));

  const progress: number[] = [];
  const now = await server.client.callTool({ name: 'sync_now', arguments: { recreate: true } }, { onprogress: (p) => progress.push(p.progress) });
  expect(now.structuredContent).toMatchObject({ success: true, accounts: [{ account: 'home', status: 'ok', counts: { unchanged: 4 } }] });
  // Nothing to write, so no progress beyond the listing; make one change and see progress.
  const listed = structured(await server.call('list_trips', {}));
  const tripId = listed.trips[0].id;
  const got = structured(await server.call('get_trip', { trip_id: tripId }));
  const museum = got.items.find((i: { summary: string }) => i.summary === 'Museum 0');
  const db = (await import('better-sqlite3')).default;
  const conn = new db(`${dir}/tripcal.db`);
  conn.prepare("UPDATE links SET written_hash = 'stale' WHERE item_id = ?").run(museum.id);
  conn.close();
  const again = await server.client.callTool({ name: 'sync_now', arguments: { trip_id: tripId } }, { onprogress: (p) => progress.push(p.progress) });
  expect(again.structuredContent).toMatchObject({ accounts: [{ account: 'home', status: 'ok', counts: { updated: 1 } }] });
  expect(progress.length).toBeGreaterThan(0);
});

test('delete_event takes the calendar\'s event id and removes the event there', async () => {
  const stored = await listStored(radicale, collection());
  const flightEvent = stored.find((e) => e.summary.startsWith('Flight'))!;
  const out = structured(await server.call('delete_event', { event_id: new URL(flightEvent.href, radicale.url).href }));
  expect(out.sync.status).toBe('synced');
  expect((await listStored(radicale, collection())).map((e) => e.summary)).not.toContain(flightEvent.summary);
});

test('tripcal sync prints a summary per account', async () => {
  const run = spawnSync(process.execPath, [CLI, 'sync', '--config', config, '--data-dir', dir], {
    encoding: 'utf8', env: { ...process.env, TEST_CALDAV_PASSWORD: radicale.password },
  });
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/^home: ok — created 0, updated 0, deleted 0, unchanged 3, failed 0 \(\d+ requests?\)$/m);
  const unknown = spawnSync(process.execPath, [CLI, 'sync', '--account', 'nope', '--config', config, '--data-dir', dir], {
    encoding: 'utf8', env: { ...process.env, TEST_CALDAV_PASSWORD: radicale.password },
  });
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('account: no account "nope" in the configuration (there are: home)');
});

test('with the calendar down, a tool edit still succeeds, says the sync is pending, and sync_now delivers it later', async () => {
  const dataDir = tempDir();
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const writeConfig = (url: string) => {
    const path = join(dataDir, 'config.yaml');
    writeFileSync(path, `accounts:\n  - name: home\n    provider: caldav\n    url: ${url}\n    username: ${radicale.username}\n    password: \${TEST_CALDAV_PASSWORD}\n    calendar: Later\n`);
    return path;
  };
  const down = await connect({ dataDir, args: ['--config', writeConfig('http://127.0.0.1:9/')], env: { TEST_CALDAV_PASSWORD: radicale.password } });
  try {
    const out = structured(await down.call('add_activity', { activity_details: { name: 'Opera', start_time: '2025-12-01T19:00', timezone: 'Europe/Vienna' } }));
    expect(out.success).toBe(true);
    expect(out.sync.status).toBe('pending');
    expect(out.event_id).toBe(out.item_id);
    const status = structured(await down.call('sync_status', {}));
    expect(status.accounts[0]).toMatchObject({ state: 'error', pending: 1 });
    expect(status.accounts[0].detail).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9 .*pending/);
  } finally {
    await down.close();
  }
  const up = await connect({ dataDir, args: ['--config', writeConfig(`${radicale.url}/`)], env: { TEST_CALDAV_PASSWORD: radicale.password } });
  try {
    const now = structured(await up.call('sync_now', {}));
    expect(now.accounts[0]).toMatchObject({ status: 'ok', counts: { created: 1 } });
    expect((await listStored(radicale, `/${radicale.username}/later/`)).map((e) => e.summary)).toEqual(['Opera']);
  } finally {
    await up.close();
  }
});

test('check_availability: busy time from the calendar\'s other events, in UTC and local time, with the trip items that collide', async () => {
  const dentist = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', 'UID:dentist@example.com', 'DTSTAMP:20250101T000000Z',
    'DTSTART:20250716T150000Z', 'DTEND:20250716T160000Z', 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  const { putObject } = await import('../support/caldav.js');
  expect((await putObject(radicale, `${collection()}dentist.ics`, dentist)).status).toBe(201);
  const tour = structured(await server.call('add_activity', { activity_details: { name: 'Boat tour', start_time: '2025-07-16T10:30', end_time: '2025-07-16T12:30', timezone: 'America/New_York' } }));
  const out = structured(await server.call('check_availability', { start: '2025-07-16T00:00:00Z', end: '2025-07-17T00:00:00Z' }));
  expect(out).toMatchObject({ success: true, accounts: ['home'], errors: [] });
  expect(out.busy).toEqual([{ account: 'home', calendar: null, start: expect.objectContaining({ utc: '2025-07-16T15:00:00Z' }), end: expect.objectContaining({ utc: '2025-07-16T16:00:00Z' }) }]);
  expect(out.busy[0].start.local).toBe('2025-07-16T17:00:00+02:00'); // the user's zone (Europe/Berlin in the config)
  expect(out.collisions).toEqual([expect.objectContaining({ item_id: tour.item_id, summary: 'Boat tour', account: 'home' })]);
  const bad = await server.call('check_availability', { start: '2025-07-17T00:00:00Z', end: '2025-07-16T00:00:00Z' });
  expect(bad.isError).toBe(true);
  expect((bad.content as Array<{ text: string }>)[0]!.text).toMatch(/^end: must be after the start/);
});
