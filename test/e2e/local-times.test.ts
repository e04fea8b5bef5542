// Right local times in every calendar tripcal writes, checked against an independent oracle:
// Python's zoneinfo for what an instant or wall time is, python3-icalendar for reading the .ics
// (test/support/tzoracle.py), a real Radicale for what a CalDAV server stores. Each case is a
// class of itinerary that once came out wrong: eastbound over the date line, the repeated hour,
// zones re-read on edit, shifts into a gap, all-day items east of UTC, week-apart transitions,
// fractional historical offsets, zone names typed in lower case, and zone abbreviations.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caldavConfig, listStored } from '../support/caldav.js';
import { connect, structured, tempDir, type Connected } from '../support/mcp.js';
import { oracleInstants, oracleLocal, readWithOracle, type OracleEvent } from '../support/parsers.js';
import { startRadicale, type Radicale } from '../support/radicale.js';

let server: Connected;
beforeAll(async () => {
  server = await connect({ env: { TRIPCAL_DATA_DIR: tempDir() } });
});
afterAll(async () => {
  await server?.close();
});

const flight = (from: string, to: string, departure: string, arrival: string, number = 'XX1') => ({
  flight_details: { airline: 'Test Air', flight_number: number, departure_airport: from, arrival_airport: to, departure_time: departure, arrival_time: arrival },
});

async function exported(tripId: string): Promise<{ events: OracleEvent[]; problems: string[]; text: string }> {
  const out = structured(await server.call('export_trip', { trip_id: tripId }));
  const text = out.ics as string;
  const read = readWithOracle(text);
  return { events: read.events, problems: read.problems, text };
}

describe('flights whose arrival clock reads earlier than their departure clock', () => {
  // Eastbound over the date line, and the Pacific's odd zones: each wall time in its airport's zone.
  const cases: Array<[string, string, string, string]> = [
    ['NRT', 'LAX', '2026-07-01T17:00', '2026-07-01T10:30'],
    ['SYD', 'HNL', '2026-02-10T21:00', '2026-02-10T10:00'],
    ['AKL', 'PPT', '2026-05-04T16:30', '2026-05-03T22:45'],
    ['CXI', 'HNL', '2026-09-01T09:00', '2026-08-31T12:15'],
    ['APW', 'HNL', '2026-03-03T23:40', '2026-03-03T05:05'],
    ['SYD', 'SCL', '2026-10-20T11:45', '2026-10-20T10:20'],
  ];

  test.each(cases)('%s → %s: tool output and exported DTSTART/DTEND are the instants zoneinfo gives', async (from, to, departure, arrival) => {
    const out = structured(await server.call('add_flight', flight(from, to, departure, arrival, `T${from}`)));
    const zones = [out.event_details.start_timezone as string, out.event_details.end_timezone as string];
    const [startUtc, endUtc] = oracleInstants([{ zone: zones[0]!, wall: `${departure}:00` }, { zone: zones[1]!, wall: `${arrival}:00` }]);
    expect(out.event_details.start_utc).toBe(startUtc);
    expect(out.event_details.end_utc).toBe(endUtc);
    expect(Date.parse(endUtc!)).toBeGreaterThan(Date.parse(startUtc!));
    const { events, problems } = await exported(out.trip_id);
    const event = events.find((e) => e.key === `${out.item_id}:flight`)!;
    expect(event.start).toMatchObject({ utc: startUtc, tzid: zones[0] });
    expect(event.end).toMatchObject({ utc: endUtc, tzid: zones[1] });
    expect(problems).toEqual([]);
  });
});

describe('the repeated hour', () => {
  test('the second 01:30 in New York is written so no reader can take it for the first', async () => {
    const out = structured(await server.call('add_flight', flight('JFK', 'BOS', '2026-11-01T01:30:00-05:00', '2026-11-01T02:45', 'B6100')));
    expect(out.event_details.start_utc).toBe('2026-11-01T06:30:00Z');
    const { events, text } = await exported(out.trip_id);
    const event = events.find((e) => e.key === `${out.item_id}:flight`)!;
    expect(event.start.utc).toBe('2026-11-01T06:30:00Z');
    expect(event.start_zone).toBe('America/New_York');
    // And the first 01:30 keeps its TZID form, read as the first occurrence.
    const first = structured(await server.call('add_flight', flight('JFK', 'BOS', '2026-11-01T01:30', '2026-11-01T01:55', 'B6102')));
    expect(first.event_details.start_utc).toBe(oracleInstants([{ zone: 'America/New_York', wall: '2026-11-01T01:30:00' }])[0]);
    const again = await exported(first.trip_id);
    expect(again.events.find((e) => e.key === `${first.item_id}:flight`)!.start).toMatchObject({ utc: '2026-11-01T05:30:00Z', tzid: 'America/New_York' });
    expect(text).toContain('X-TRIPCAL-DTSTART-TZID:America/New_York');
  });
});

describe('a stay or activity keeps the zone it was placed in', () => {
  test('adding a flight, editing a code and shifting the trip never re-read a Berlin stay in New York time', async () => {
    const stay = structured(await server.call('add_accommodation', {
      accommodation_details: { name: 'Hotel Adlon', check_in: '2026-05-09T18:00', check_out: '2026-05-12T10:00' },
    }));
    const tripId = stay.trip_id as string;
    const zone = stay.event_details.start_timezone as string;
    const [checkIn] = oracleInstants([{ zone, wall: '2026-05-09T18:00:00' }]);
    expect(stay.event_details.start_utc).toBe(checkIn);
    // A flight to New York makes that the trip's zone; the stay stays where it was made.
    structured(await server.call('add_flight', { ...flight('BER', 'JFK', '2026-05-08T10:00', '2026-05-08T13:00', 'UA962'), trip_id: tripId }));
    const edited = structured(await server.call('update_item', { item_id: stay.item_id, changes: { confirmation_code: 'NEWCODE' } }));
    expect(edited.item.start.utc).toBe(checkIn);
    expect(edited.item.start.timezone).toBe(zone);
    const shifted = structured(await server.call('shift_trip', { trip_id: tripId, by: 'P1D' }));
    const moved = shifted.items.find((i: { id: string }) => i.id === stay.item_id);
    expect(moved.start.utc).toBe(oracleInstants([{ zone, wall: '2026-05-10T18:00:00' }])[0]);
  });
});

describe('shift_trip and the daylight-saving gap', () => {
  test('a shift that lands a departure in the skipped hour is refused, naming the item and field, and moves nothing', async () => {
    const out = structured(await server.call('add_flight', flight('JFK', 'BOS', '2026-03-01T02:40', '2026-03-01T03:55', 'B6200')));
    const before = structured(await server.call('get_trip', { trip_id: out.trip_id }));
    const result = await server.call('shift_trip', { trip_id: out.trip_id, by: 'P7D' });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain(out.item_id);
    expect(text).toContain('departure_time');
    expect(text).toContain('2026-03-08T02:40');
    const after = structured(await server.call('get_trip', { trip_id: out.trip_id }));
    expect(after.items).toEqual(before.items);
    // A shift that avoids the gap works and keeps the 75-minute flight 75 minutes long in local time.
    const ok = structured(await server.call('shift_trip', { trip_id: out.trip_id, by: 'P14D' }));
    const moved = ok.items[0];
    const [start, end] = oracleInstants([{ zone: 'America/New_York', wall: '2026-03-15T02:40:00' }, { zone: 'America/New_York', wall: '2026-03-15T03:55:00' }]);
    expect([moved.start.utc, moved.end.utc]).toEqual([start, end]);
  });
});

describe('all-day items', () => {
  test('a Tokyo all-day activity is on its own local days in get_trip, the itinerary and the .ics', async () => {
    const out = structured(await server.call('add_activity', { activity_details: { name: 'Temple walk', start_time: '2026-04-02', end_time: '2026-04-03', timezone: 'Asia/Tokyo' } }));
    const trip = structured(await server.call('get_trip', { trip_id: out.trip_id }));
    const days = trip.itinerary.map((d: { date: string }) => d.date);
    expect(days).toEqual(['2026-04-02']);
    expect(trip.itinerary[0].entries[0]).toMatchObject({ time: 'all day', until: expect.stringContaining('3 Apr') });
    const { events } = await exported(out.trip_id);
    expect(events[0]!.start).toMatchObject({ date: '2026-04-02' });
    expect(events[0]!.end).toMatchObject({ date: '2026-04-04' });
  });

  test('a day whose midnight the clocks skip (Santiago, 7 September 2025) starts and ends where that day does', async () => {
    const out = structured(await server.call('add_activity', { activity_details: { name: 'Vineyard day', start_time: '2025-09-07', timezone: 'America/Santiago' } }));
    // zoneinfo: 7 September starts when the clocks jump from 00:00 -04 to 01:00 -03; 8 September at 00:00 -03.
    const [start] = oracleInstants([{ zone: 'America/Santiago', wall: '2025-09-07T01:00:00' }]);
    const [end] = oracleInstants([{ zone: 'America/Santiago', wall: '2025-09-08T00:00:00' }]);
    expect(out.item.start.utc).toBe(start);
    expect(out.item.end.utc).toBe(end);
  });
});

describe('zone transitions and offsets, exactly', () => {
  test('Recife\'s one-week daylight saving of October 2000 and Monrovia\'s -00:44:30 of 1971 are right in the instants and the VTIMEZONEs', async () => {
    const recife = structured(await server.call('add_flight', flight('REC', 'GRU', '2000-10-10T12:00', '2000-10-10T15:00', 'RG100')));
    const zone = recife.event_details.start_timezone as string;
    expect(recife.event_details.start_utc).toBe(oracleInstants([{ zone, wall: '2000-10-10T12:00:00' }])[0]);
    const monrovia = structured(await server.call('add_flight', { ...flight('ROB', 'DKR', '1971-06-01T09:00', '1971-06-01T12:00', 'RK10'), trip_id: recife.trip_id }));
    const robZone = monrovia.event_details.start_timezone as string;
    expect(monrovia.event_details.start_utc).toBe(oracleInstants([{ zone: robZone, wall: '1971-06-01T09:00:00' }])[0]);
    const local = oracleLocal([{ zone: robZone, utc: monrovia.event_details.start_utc }])[0]!;
    expect(local.offset).toBe('-004430');
    const { events, problems, text } = await exported(recife.trip_id);
    expect(problems).toEqual([]);
    expect(text).toMatch(/TZOFFSETFROM:-004430/);
    expect(events.find((e) => e.key === `${monrovia.item_id}:flight`)!.start.utc).toBe(monrovia.event_details.start_utc);
    expect(events.find((e) => e.key === `${recife.item_id}:flight`)!.start.utc).toBe(recife.event_details.start_utc);
  });
});

describe('zone names', () => {
  test('a zone typed as asia/tokyo is stored and written as Asia/Tokyo; Asia/Calcutta as Asia/Kolkata', async () => {
    const out = structured(await server.call('add_activity', { activity_details: { name: 'Tea ceremony', start_time: '2026-04-05T14:00', timezone: 'asia/tokyo' } }));
    expect(out.event_details.start_timezone).toBe('Asia/Tokyo');
    expect(out.item.details.timezone).toBe('Asia/Tokyo');
    const { text } = await exported(out.trip_id);
    expect(text).toContain('DTSTART;TZID=Asia/Tokyo:20260405T140000');
    expect(text).not.toContain('asia/tokyo');
    const kolkata = structured(await server.call('add_activity', { activity_details: { name: 'Market', start_time: '2026-04-06T10:00', timezone: 'Asia/Calcutta' } }));
    expect(kolkata.event_details.start_timezone).toBe('Asia/Kolkata');
  });

  test('messages call London in summer BST and Berlin in winter CET, and a zone without a name its offset', async () => {
    const london = structured(await server.call('add_flight', flight('LHR', 'FRA', '2026-07-01T09:00', '2026-07-01T11:45', 'LH901')));
    expect(london.message).toContain('Wed 1 Jul 2026 09:00 BST');
    expect(london.message).toContain('11:45 CEST');
    const berlin = structured(await server.call('add_flight', flight('FRA', 'KTM', '2026-01-12T21:00', '2026-01-13T09:15', 'QR70')));
    expect(berlin.message).toContain('Mon 12 Jan 2026 21:00 CET');
    expect(berlin.message).toContain('09:15 UTC+05:45');
  });
});

describe('the same times in a real CalDAV server', () => {
  let radicale: Radicale;
  let caldav: Connected;
  beforeAll(async () => {
    radicale = await startRadicale();
    const dir = tempDir();
    caldav = await connect({ dataDir: dir, args: ['--config', caldavConfig(dir, radicale)], env: { TEST_CALDAV_PASSWORD: radicale.password } });
  });
  afterAll(async () => {
    await caldav?.close();
    await radicale?.stop();
  });

  test('NRT → LAX and the second 01:30 in New York, as Radicale stores them, read back right', async () => {
    const pacific = structured(await caldav.call('add_flight', flight('NRT', 'LAX', '2026-07-01T17:00', '2026-07-01T10:30', 'NH6')));
    const repeated = structured(await caldav.call('add_flight', flight('JFK', 'BOS', '2026-11-01T01:30:00-05:00', '2026-11-01T02:45', 'B6300')));
    expect(pacific.sync.status).toBe('synced');
    expect(repeated.sync.status).toBe('synced');
    const stored = await listStored(radicale, `/${radicale.username}/trips/`);
    const byKey = new Map(stored.map((s) => [s.key, readWithOracle(s.data).events[0]!]));
    expect(byKey.get(`${pacific.item_id}:flight`)!.start.utc).toBe(pacific.event_details.start_utc);
    expect(byKey.get(`${pacific.item_id}:flight`)!.end!.utc).toBe(pacific.event_details.end_utc);
    expect(byKey.get(`${repeated.item_id}:flight`)!.start.utc).toBe('2026-11-01T06:30:00Z');
    // Read back by tripcal itself, the events are what it wrote: nothing to do, no conflict.
    const again = structured(await caldav.call('sync_now', {}));
    expect(again.accounts[0]).toMatchObject({ status: 'ok', counts: { created: 0, updated: 0 } });
  });
});
