// The sync engine against a real Radicale: a trip lands once with the right zones, edits and
// deletes follow, remote edits and deletes are handled by each policy, foreign events stay.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { openTestApp } from '../support/app.js';
import { caldavConfig, deleteObject, listStored, putObject } from '../support/caldav.js';
import { flight } from '../support/items.js';
import { tempDir } from '../support/mcp.js';
import { parseWithPython } from '../support/parsers.js';
import { startRadicale, type Radicale } from '../support/radicale.js';
import { sql } from '../support/sqlite.js';

let radicale: Radicale;
let app: App;
let calendarCount = 0;
let collection: string;

beforeAll(async () => {
  radicale = await startRadicale();
});
afterAll(async () => {
  await radicale?.stop();
});
afterEach(async () => {
  await app?.close();
});

async function newApp(policy = 'model_wins', sync?: string, open = openTestApp): Promise<App> {
  calendarCount += 1;
  const dir = tempDir();
  const calendar = `Trips ${calendarCount}`;
  collection = `/${radicale.username}/trips-${calendarCount}/`;
  app = await open({ dataDir: dir, configPath: caldavConfig(dir, radicale, { policy, calendar, sync }) });
  return app;
}

const ua = flight('United Airlines', 'UA123', 'LAX', 'JFK', '2025-06-15T08:00:00Z', '2025-06-15T16:30:00Z', { confirmation_code: 'ABC123', seat: '12A' });

async function addTrip(a: App) {
  const f = await a.trips.addItem(undefined, ua, { path: 'f', remindBeforeHours: 48 });
  const stay = await a.trips.addItem(undefined, { kind: 'stay', details: { name: 'The Plaza', check_in: '2025-06-15', check_out: '2025-06-18' } }, { path: 's' });
  const tour = await a.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: '2025-06-16T10:00', location: 'Pier 83' } }, { path: 'a' });
  return { trip: f.trip, flight: f.item, stay: stay.item, tour: tour.item };
}

describe('a trip synced to Radicale', () => {
  test('lands exactly once with the right TZIDs, readable by an independent client', async () => {
    const a = await newApp();
    await addTrip(a);
    const [report] = await a.sync.sync();
    expect(report).toMatchObject({ account: 'home', status: 'ok', counts: { created: 4, failed: 0 } });
    const stored = await listStored(radicale, collection);
    expect(stored.map((e) => e.summary).sort()).toEqual(['Check-in: The Plaza', 'Check-out: The Plaza', 'Flight: United Airlines UA123', 'Harbor tour']);
    const f = stored.find((e) => e.summary.startsWith('Flight'))!;
    expect(f).toMatchObject({ startTzid: 'America/Los_Angeles', endTzid: 'America/New_York', startUtc: '2025-06-15T08:00:00.000Z', endUtc: '2025-06-15T16:30:00.000Z' });
    expect(f.alarms).toContain('-P2D');
    const py = parseWithPython(f.data).events[0]!;
    expect(py.dtstart).toEqual({ value: '2025-06-15T01:00:00-07:00', tzid: 'America/Los_Angeles' });
    expect(py.dtend).toEqual({ value: '2025-06-15T12:30:00-04:00', tzid: 'America/New_York' });

    const again = await a.sync.sync();
    expect(again[0]).toMatchObject({ status: 'ok', counts: { created: 0, updated: 0, deleted: 0, unchanged: 4 } });
    expect(await listStored(radicale, collection)).toHaveLength(4);
  });

  test('an edit changes exactly that event; a delete removes it; deleting the trip removes all', async () => {
    const a = await newApp();
    const { trip, tour, flight: f } = (await addTrip(a));
    await a.sync.sync();
    const before = await listStored(radicale, collection);
    await a.trips.updateItem(undefined, tour.id, { changes: { start_time: '2025-06-16T11:00', end_time: '2025-06-16T13:00' } });
    const [report] = await a.sync.sync();
    expect(report!.counts).toMatchObject({ updated: 1, created: 0, deleted: 0, unchanged: 3 });
    const after = await listStored(radicale, collection);
    const changed = after.filter((e) => before.find((b) => b.href === e.href)!.etag !== e.etag);
    expect(changed.map((e) => e.summary)).toEqual(['Harbor tour']);
    expect(changed[0]!.startUtc).toBe('2025-06-16T15:00:00.000Z'); // 11:00 in New York, the trip's zone

    await a.trips.deleteItem(undefined, f.id);
    expect((await a.sync.sync())[0]!.counts.deleted).toBe(1);
    expect((await listStored(radicale, collection)).map((e) => e.summary)).not.toContain('Flight: United Airlines UA123');

    await a.trips.deleteTrip(undefined, trip.id);
    expect((await a.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { deleted: 3 } });
    expect(await listStored(radicale, collection)).toEqual([]);
  });

  test('events tripcal did not create are never touched', async () => {
    const a = await newApp();
    await addTrip(a);
    await a.sync.sync();
    const foreign = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Someone//EN', 'BEGIN:VEVENT', 'UID:dentist@example.com', 'DTSTAMP:20250101T000000Z',
      'DTSTART:20250616T080000Z', 'DTEND:20250616T090000Z', 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    expect((await putObject(radicale, `${collection}dentist.ics`, foreign)).status).toBe(201);
    const trip = (await a.trips.listTrips())[0]!.trip;
    await a.trips.deleteTrip(undefined, trip.id);
    await a.sync.sync({ recreate: true });
    const left = await listStored(radicale, collection);
    expect(left.map((e) => e.summary)).toEqual(['Dentist']);
  });
});

describe('changes made in the calendar app', () => {
  async function editRemotely(summaryPrefix: string, edit: (data: string) => string) {
    const stored = (await listStored(radicale, collection)).find((e) => e.summary.startsWith(summaryPrefix))!;
    const res = await putObject(radicale, new URL(stored.href, radicale.url).pathname, edit(stored.data), { 'if-match': stored.etag });
    expect([200, 201, 204]).toContain(res.status);
    return stored;
  }
  const moveTour = (data: string) => data.replace(/DTSTART;TZID=America\/New_York:20250616T100000/, 'DTSTART;TZID=America/New_York:20250616T150000')
    .replace(/DTEND;TZID=America\/New_York:20250616T110000/, 'DTEND;TZID=America/New_York:20250616T160000');

  test('model_wins: a moved event is moved back, and the drift is journaled', async () => {
    const a = await newApp('model_wins');
    await addTrip(a);
    await a.sync.sync();
    await editRemotely('Harbor tour', moveTour);
    const [report] = await a.sync.sync();
    expect(report!.counts).toMatchObject({ updated: 1, unchanged: 3 });
    const tour = (await listStored(radicale, collection)).find((e) => e.summary === 'Harbor tour')!;
    expect(tour.startUtc).toBe('2025-06-16T14:00:00.000Z');
    const journal = (await sql(a).all("SELECT action FROM journal WHERE action LIKE 'update.%'")) as { action: string }[];
    expect(journal.map((j) => j.action)).toContain('update.drift');
  });

  test('an etag change with the same content is not drift', async () => {
    const a = await newApp('flag');
    await addTrip(a);
    await a.sync.sync();
    await editRemotely('Harbor tour', (data) => data.replace('DTSTAMP:', 'X-TOUCHED:yes\r\nDTSTAMP:'));
    const [report] = await a.sync.sync();
    expect(report!.counts).toMatchObject({ updated: 0, conflicts: 0, unchanged: 4 });
  });

  test('remote_wins: the moved time is taken into the model', async () => {
    const a = await newApp('remote_wins');
    const { tour } = (await addTrip(a));
    await a.sync.sync();
    await editRemotely('Harbor tour', moveTour);
    const [report] = await a.sync.sync();
    expect(report!.counts.pulled).toBe(1);
    const item = (await a.trips.getTrip(undefined, tour.tripId)).items.find((i) => i.id === tour.id)!;
    expect(item.startUtc).toBe('2025-06-16T19:00:00Z');
    expect((await a.sync.sync())[0]!.counts).toMatchObject({ updated: 0, pulled: 0 });
  });

  test('flag: the event is marked a conflict and sync_status shows both versions', async () => {
    const a = await newApp('flag');
    await addTrip(a);
    await a.sync.sync();
    await editRemotely('Harbor tour', moveTour);
    expect((await a.sync.sync())[0]!.counts.conflicts).toBe(1);
    const { syncStatus } = await import('../../src/sync/status.js');
    const [status] = await syncStatus(a.store, a.sync);
    expect(status!.conflicts).toHaveLength(1);
    expect(status!.conflicts[0]!.model!.start.local).toBe('2025-06-16T10:00:00-04:00');
    expect(status!.conflicts[0]!.calendar!.start.local).toBe('2025-06-16T15:00:00-04:00');
    const stored = (await listStored(radicale, collection)).find((e) => e.summary === 'Harbor tour')!;
    expect(stored.startUtc).toBe('2025-06-16T19:00:00.000Z');
    const resolved = await a.sync.sync({ resolve: 'model' });
    expect(resolved[0]!.counts.updated).toBe(1);
    expect((await listStored(radicale, collection)).find((e) => e.summary === 'Harbor tour')!.startUtc).toBe('2025-06-16T14:00:00.000Z');
  });

  test.each(['model_wins', 'remote_wins', 'flag'])('%s: a deleted event is reported, not recreated, unless the item changes or recreate is asked', async (policy) => {
    const a = await newApp(policy);
    const { tour } = (await addTrip(a));
    await a.sync.sync();
    const stored = (await listStored(radicale, collection)).find((e) => e.summary === 'Harbor tour')!;
    expect((await deleteObject(radicale, new URL(stored.href, radicale.url).pathname)).status).toBeLessThan(300);
    const [report] = await a.sync.sync();
    expect(report!.gone).toEqual([`${tour.id}:activity`]);
    expect(await listStored(radicale, collection)).toHaveLength(3);
    expect((await a.sync.sync())[0]!.counts.created).toBe(0);
    await a.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    expect((await a.sync.sync())[0]!.counts.created).toBe(1);
    expect(await listStored(radicale, collection)).toHaveLength(4);
  });
});

describe('the account\'s calendar changes', () => {
  test('its events move: deleted from the old calendar, made once in the new one, nothing left behind or split', async () => {
    const a = await newApp();
    const { trip } = (await addTrip(a));
    await a.sync.sync();
    const [oldName, oldCollection, dir] = [`Trips ${calendarCount}`, collection, a.dataDir];
    expect(await listStored(radicale, oldCollection)).toHaveLength(4);
    await a.close();

    calendarCount += 1;
    const newName = `Trips ${calendarCount}`;
    const newCollection = `/${radicale.username}/trips-${calendarCount}/`;
    app = await openTestApp({ dataDir: dir, configPath: caldavConfig(dir, radicale, { calendar: newName }) });
    const [moved] = await app.sync.sync();
    expect(moved).toMatchObject({ status: 'ok', counts: { created: 4, deleted: 4, failed: 0 } });
    expect(moved!.message).toBe(`calendar changed from "${oldName}" to "${newName}": 4 event(s) deleted from the old one and made again here`);
    // Read from the server itself: the old calendar holds none of ours, the new one each once.
    expect(await listStored(radicale, oldCollection)).toEqual([]);
    const now = await listStored(radicale, newCollection);
    expect(now.map((e) => e.summary).sort()).toEqual(['Check-in: The Plaza', 'Check-out: The Plaza', 'Flight: United Airlines UA123', 'Harbor tour']);

    // Steady state, and new items go to the new calendar only.
    const [again] = await app.sync.sync();
    expect(again).toMatchObject({ status: 'ok', counts: { created: 0, deleted: 0, unchanged: 4 }, message: null });
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Museum', start_time: '2025-06-17T10:00' } }, { path: 'a', tripId: trip.id });
    await app.sync.sync();
    expect(await listStored(radicale, newCollection)).toHaveLength(5);
    expect(await listStored(radicale, oldCollection)).toEqual([]);
  });
});

describe('the server under another address', () => {
  test('the same Radicale reached as localhost instead of 127.0.0.1 (or after a crash mid-sync): nothing taken for a copy, nothing deleted', async () => {
    // A SQLite file's history (an older version's rows, migrations run again): SQLite's test.
    const a = await newApp('model_wins', undefined, openApp);
    const { tour } = (await addTrip(a));
    await a.sync.sync();
    // Ids stored the way older versions did (whole URLs) are turned into paths by migration 6.
    await sql(a).run(`UPDATE links SET remote_id = ? || remote_id`, [radicale.url]);
    // Back to a version-5 database: what migrations 7 and 8 add goes too, so they run again as on an upgrade.
    const dir = a.dataDir;
    await a.close();
    // A SQLite file's own history, so this test is SQLite's: the file is rewound by hand.
    const raw = new Database(join(dir, 'tripcal.db'));
    raw.exec('DROP INDEX items_by_user_kind; DROP INDEX items_by_confirmation; ALTER TABLE accounts DROP COLUMN calendar;');
    raw.pragma('user_version = 5');
    raw.close();
    const config = caldavConfig(dir, radicale, { calendar: `Trips ${calendarCount}`, url: radicale.url.replace('127.0.0.1', 'localhost') + '/' });
    app = await openApp({ dataDir: dir, configPath: config });
    expect(((await sql(app).all('SELECT remote_id FROM links')) as { remote_id: string }[]).every((r) => r.remote_id.startsWith('/'))).toBe(true);
    // Someone moves the tour in their calendar app: the next (incremental) listing names it under the new address.
    const before = (await listStored(radicale, collection)).find((e) => e.summary === 'Harbor tour')!;
    const moved = before.data.replace(/LOCATION:[^\r\n]*/, 'LOCATION:Pier 99');
    expect((await putObject(radicale, new URL(before.href, radicale.url).pathname, moved, { 'if-match': before.etag })).status).toBeLessThan(300);
    const [report] = await app.sync.sync();
    expect(report).toMatchObject({ status: 'ok', counts: { deleted: 0, created: 0, updated: 1 } });
    const stored = await listStored(radicale, collection);
    expect(stored).toHaveLength(4);
    expect(stored.find((e) => e.summary === 'Harbor tour')!.location).toBe('Pier 83');
    expect(tour.id).toBeTruthy();
  });
});

describe('guards and failures', () => {
  test('an empty listing where we own events stops the account instead of forgetting them', async () => {
    const a = await newApp();
    await addTrip(a);
    await a.sync.sync();
    for (const e of await listStored(radicale, collection)) await deleteObject(radicale, new URL(e.href, radicale.url).pathname);
    await sql(a).run('UPDATE accounts SET cursor = NULL');
    const [report] = await a.sync.sync();
    expect(report).toMatchObject({ status: 'guarded' });
    expect(report!.message).toMatch(/without any of our 4 events/);
    expect(await listStored(radicale, collection)).toEqual([]);
    const recreated = await a.sync.sync({ recreate: true });
    expect(recreated[0]).toMatchObject({ status: 'ok', counts: { created: 4 } });
    expect(await listStored(radicale, collection)).toHaveLength(4);
  });

  test('a wrong password marks the account and says what to do; other accounts go on', async () => {
    const a = await newApp();
    await addTrip(a);
    process.env.TEST_CALDAV_PASSWORD = 'wrong';
    const dir = tempDir();
    const bad = await openTestApp({ dataDir: dir, configPath: caldavConfig(dir, { ...radicale, password: 'wrong' }) });
    try {
      await bad.trips.addItem(undefined, ua, { path: 'f' });
      const [report] = await bad.sync.sync();
      expect(report).toMatchObject({ status: 'needs_reauth' });
      expect(report!.message).toMatch(/HTTP 401.*To fix it, check the username, and set the password .* `tripcal auth caldav home`/);
    } finally {
      await bad.close();
    }
  });
});
