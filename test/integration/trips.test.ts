// The trips service on a real SQLite file: trip assignment, one transaction per edit, versions,
// soft delete, .ics import without duplicates, and two processes on one data dir.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { flight } from '../support/items.js';
import { dump, openTestApp, storeEnv, testApp } from '../support/app.js';
import { CLI } from '../support/mcp.js';
import { parseWithIcalJs } from '../support/parsers.js';
import { sql } from '../support/sqlite.js';

let app: App;
afterEach(async () => app?.close());

const ua = flight('United Airlines', 'UA123', 'LAX', 'JFK', '2025-06-15T08:00:00Z', '2025-06-15T16:30:00Z');
const back = flight('United Airlines', 'UA456', 'JFK', 'LAX', '2025-06-20T18:00', '2025-06-20T21:15');

describe('which trip an item joins', () => {
  test('an item without trip_id joins the trip it overlaps (±1 day), else starts a new one', async () => {
    app = await testApp();
    const first = await app.trips.addItem(undefined, ua, { path: 'flight_details' });
    expect(first.tripCreated).toBe(true);
    expect(first.trip.title).toBe('Trip to JFK');
    const hotel = await app.trips.addItem(undefined, { kind: 'stay', details: { name: 'The Plaza', check_in: '2025-06-15', check_out: '2025-06-20' } }, { path: 'a' });
    expect(hotel.trip.id).toBe(first.trip.id);
    // The stay had no zone: it is read in the trip's destination zone (JFK's).
    expect(hotel.item.startTz).toBe('America/New_York');
    expect(hotel.item.startUtc).toBe('2025-06-15T19:00:00Z');
    // The return flight is within a day of the stay's end: same trip.
    expect((await app.trips.addItem(undefined, back, { path: 'b' })).trip.id).toBe(first.trip.id);
    const later = await app.trips.addItem(undefined, flight('Delta', 'DL1', 'JFK', 'LAX', '2025-09-01T10:00', '2025-09-01T13:00'), { path: 'c' });
    expect(later.tripCreated).toBe(true);
    const { trip, items } = await app.trips.getTrip(undefined, first.trip.id);
    expect(items.map((i) => i.kind)).toEqual(['flight', 'stay', 'flight']);
    expect(trip.startUtc).toBe('2025-06-15T08:00:00Z');
    expect(trip.endUtc).toBe('2025-06-21T04:15:00Z');
  });

  test('an explicit trip_id wins; another user\'s trip is not found', async () => {
    app = await testApp();
    const trip = await app.trips.createTrip('alice', { title: 'Conference', timezone: 'Europe/Berlin', start_date: '2025-09-01', end_date: '2025-09-05' });
    const talk = await app.trips.addItem('alice', { kind: 'activity', details: { name: 'Talk', start_time: '2025-09-02T10:00' } }, { tripId: trip.id, path: 'a' });
    expect(talk.item.startUtc).toBe('2025-09-02T08:00:00Z');
    await expect((async () => await app.trips.addItem('bob', ua, { tripId: trip.id, path: 'a' }))()).rejects.toThrow(/trip_id: no trip/);
    expect(await app.trips.listTrips('bob')).toEqual([]);
  });

  test('an activity without trip_id is read in the zone of the trip it falls in', async () => {
    app = await testApp();
    const trip = await app.trips.createTrip(undefined, { title: 'Tokyo', timezone: 'Asia/Tokyo', start_date: '2025-04-01', end_date: '2025-04-07' });
    const added = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Sumo', start_time: '2025-04-03T16:00' } }, { path: 'a' });
    expect(added.trip.id).toBe(trip.id);
    expect(added.item.startUtc).toBe('2025-04-03T07:00:00Z');
  });
});

describe('edits are whole or nothing', () => {
  test('create_itinerary with one bad item saves nothing', async () => {
    app = await testApp();
    await app.trips.addItem(undefined, ua, { path: 'x' });
    const before = await dump(app);
    await expect((async () => await app.trips.createItinerary(undefined, {
      title: 'Broken', flights: [ua.details, { ...back.details, arrival_airport: 'QQQ' }], accommodations: [], activities: [],
    }))()).rejects.toThrow(/flights\[1\]\.arrival_airport: unknown airport code "QQQ"/);
    expect(await dump(app)).toBe(before);
  });

  test('a refused edit for a new user leaves no user behind', async () => {
    app = await testApp();
    const before = await dump(app);
    await expect((async () => await app.trips.addItem('newcomer', flight('X', 'X1', 'LAX', 'JFK', 'soon', 'later'), { path: 'flight_details' }))()).rejects.toThrow(/flight_details\.departure_time/);
    expect(await dump(app)).toBe(before);
  });

  test('update_item bumps the version, re-resolves times and refuses a stale expected_version', async () => {
    app = await testApp();
    const { item } = await app.trips.addItem(undefined, ua, { path: 'x' });
    const { item: moved } = await app.trips.updateItem(undefined, item.id, { changes: { departure_time: '2025-06-15T09:00', seat: '14C' }, expectedVersion: 1 });
    expect(moved.version).toBe(2);
    expect(moved.startUtc).toBe('2025-06-15T16:00:00Z');
    expect(moved.details).toMatchObject({ seat: '14C' });
    await expect((async () => await app.trips.updateItem(undefined, item.id, { changes: { seat: '1A' }, expectedVersion: 1 }))()).rejects.toThrow(/expected_version: item is at version 2/);
    await expect((async () => await app.trips.updateItem(undefined, item.id, { changes: { colour: 'red' } }))()).rejects.toThrow(/changes\.colour: not a field of a flight/);
    await expect((async () => await app.trips.updateItem(undefined, item.id, { changes: { airline: null } }))()).rejects.toThrow(/changes\.airline/);
    const { item: cleared } = await app.trips.updateItem(undefined, item.id, { changes: { seat: null } });
    expect(cleared.details).not.toHaveProperty('seat');
  });

  test('deletes are soft and journaled; the item and the trip disappear from reads', async () => {
    app = await testApp();
    const { item, trip } = await app.trips.addItem(undefined, ua, { path: 'x' });
    await app.trips.deleteItem(undefined, item.id);
    expect((await app.trips.getTrip(undefined, trip.id)).items).toEqual([]);
    await app.trips.deleteTrip(undefined, trip.id);
    expect(await app.trips.listTrips()).toEqual([]);
    const rows = (await sql(app).all('SELECT deleted_at FROM items')) as { deleted_at: string | null }[];
    expect(rows.every((r) => r.deleted_at)).toBe(true);
    const actions = ((await sql(app).all('SELECT action FROM journal ORDER BY seq')) as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(['trip.create', 'item.add', 'item.delete', 'trip.delete']);
    const journal = JSON.stringify((await sql(app).all('SELECT * FROM journal')));
    expect(journal).not.toContain('United');
  });
});

const BOOKING = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example Tours//EN',
  'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time', 'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100',
  'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD', 'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200',
  'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT', 'END:VTIMEZONE',
  'BEGIN:VEVENT', 'UID:tour-42@example.com', 'DTSTAMP:20250101T000000Z', 'DTSTART;TZID=W. Europe Standard Time:20250916T093000',
  'DTEND;TZID=W. Europe Standard Time:20250916T123000', 'SUMMARY:Reichstag dome tour', 'LOCATION:Platz der Republik 1\\, Berlin', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:breakfast@example.com', 'DTSTAMP:20250101T000000Z', 'DTSTART;TZID=Europe/Berlin:20250915T080000',
  'DTEND;TZID=Europe/Berlin:20250915T090000', 'RRULE:FREQ=DAILY;COUNT=30', 'EXDATE;TZID=Europe/Berlin:20250917T080000', 'SUMMARY:Breakfast', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:cancelled@example.com', 'DTSTAMP:20250101T000000Z', 'DTSTART:20250916T100000Z', 'STATUS:CANCELLED', 'SUMMARY:Gone', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:oktoberfest@example.com', 'DTSTAMP:20250101T000000Z', 'DTSTART;VALUE=DATE:20250920', 'DTEND;VALUE=DATE:20250922', 'SUMMARY:Oktoberfest', 'END:VEVENT',
  'END:VCALENDAR', '',
].join('\r\n');

describe('import_ics', () => {
  test('imports with zones (Windows names too), expands recurrences over the trip, skips cancelled, and never duplicates', async () => {
    app = await testApp();
    const trip = await app.trips.createTrip(undefined, { title: 'Berlin', timezone: 'Europe/Berlin', start_date: '2025-09-15', end_date: '2025-09-18' });
    const first = await app.trips.importIcs(undefined, BOOKING, trip.id);
    const names = first.created.map((i) => `${i.details.name as string}@${i.startUtc}`);
    expect(names).toContain('Reichstag dome tour@2025-09-16T07:30:00Z');
    // Breakfast every day of the trip (15-18 Sept) except the 17th (EXDATE).
    expect(names.filter((n) => n.startsWith('Breakfast'))).toEqual([
      'Breakfast@2025-09-15T06:00:00Z', 'Breakfast@2025-09-16T06:00:00Z', 'Breakfast@2025-09-18T06:00:00Z',
    ]);
    expect(first.skipped).toEqual([{ uid: 'cancelled@example.com', reason: 'cancelled' }]);
    const oktoberfest = first.created.find((i) => i.details.name === 'Oktoberfest')!;
    expect(oktoberfest.allDay).toBe(true);
    expect(oktoberfest.details).toMatchObject({ start_time: '2025-09-20', end_time: '2025-09-21' });
    const tour = first.created.find((i) => i.details.name === 'Reichstag dome tour')!;
    expect(tour.details).toMatchObject({ location: 'Platz der Republik 1, Berlin' });

    const again = await app.trips.importIcs(undefined, BOOKING, trip.id);
    expect(again.created).toEqual([]);
    expect(again.unchanged).toHaveLength(first.created.length);
    expect((await app.trips.getTrip(undefined, trip.id)).items).toHaveLength(first.created.length);

    const moved = await app.trips.importIcs(undefined, BOOKING.replace('20250916T093000', '20250916T103000'), trip.id);
    expect(moved.updated.map((i) => i.startUtc)).toEqual(['2025-09-16T08:30:00Z']);
    expect(moved.created).toEqual([]);
  });

  test('bad .ics text is refused naming the field', async () => {
    app = await testApp();
    await expect(app.trips.importIcs(undefined, 'hello')).rejects.toThrow(/ics: not iCalendar text/);
  });
});

describe('the zero-config .ics feed', () => {
  test('every change rewrites <data-dir>/feeds/<user>.ics atomically', async () => {
    app = await testApp();
    const { item } = await app.trips.addItem(undefined, ua, { path: 'x' });
    await app.feeds.flush();
    const feed = readFileSync(app.feeds.path('me'), 'utf8');
    expect(parseWithIcalJs(feed).map((e) => e.key)).toEqual([`${item.id}:flight`]);
    await app.trips.deleteItem(undefined, item.id);
    // Rewritten on its own shortly after the change (how soon depends on how long a render takes).
    for (let i = 0; i < 60 && parseWithIcalJs(readFileSync(app.feeds.path('me'), 'utf8')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(parseWithIcalJs(readFileSync(app.feeds.path('me'), 'utf8'))).toEqual([]);
  });

  test('an item deleted while its feed is being written is left out, not an error; the feed follows an edit made elsewhere', async () => {
    app = await testApp();
    const { item } = await app.trips.addItem(undefined, ua, { path: 'x' });
    const { item: other } = await app.trips.addItem(undefined, back, { path: 'x' });
    // Another request deletes it between the feed's two reads (the list of items, then the item).
    const getItem = app.store.getItem.bind(app.store);
    app.store.getItem = async (id: string) => (id === other.id ? undefined : getItem(id));
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => { if (String(chunk).includes('feed write failed')) errors.push(String(chunk)); return true; }) as typeof process.stderr.write;
    try {
      await app.feeds.current('me');
    } finally {
      process.stderr.write = write;
      app.store.getItem = getItem;
    }
    expect(errors).toEqual([]);
    expect(parseWithIcalJs(readFileSync(app.feeds.path('me'), 'utf8')).map((e) => e.key)).toEqual([`${item.id}:flight`]);
    // An edit by another process on the same store (no change event here): the next look rewrites it.
    const elsewhere = await openTestApp({ dataDir: app.dataDir });
    try {
      await elsewhere.trips.deleteItem(undefined, item.id);
    } finally {
      await elsewhere.close();
    }
    await app.feeds.current('me');
    expect(parseWithIcalJs(readFileSync(app.feeds.path('me'), 'utf8')).map((e) => e.key)).toEqual([`${other.id}:flight`]);
  });
});

describe('two processes on one data dir', () => {
  test('a CLI process reads what this one wrote, while both hold the database open', async () => {
    app = await testApp();
    const { trip } = await app.trips.addItem(undefined, ua, { path: 'x' });
    const env = { ...process.env, ...(await storeEnv(app.dataDir)) };
    const listed = execFileSync(process.execPath, [CLI, 'list', '--json', '--data-dir', app.dataDir], { encoding: 'utf8', env });
    expect(JSON.parse(listed).map((t: { id: string }) => t.id)).toEqual([trip.id]);
    const second = await openTestApp({ dataDir: app.dataDir });
    try {
      await second.trips.addItem(undefined, back, { tripId: trip.id, path: 'x' });
      expect((await app.trips.getTrip(undefined, trip.id)).items).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});
