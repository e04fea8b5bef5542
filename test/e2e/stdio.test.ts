// The built server driven over stdio by the MCP SDK's own Client, as Claude Desktop would.
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dumpDatabase } from '../support/app.js';
import { connect, SPEC_FLIGHT, structured, type Connected } from '../support/mcp.js';
import { parseWithIcalJs, parseWithPython } from '../support/parsers.js';

let server: Connected;
beforeAll(async () => {
  server = await connect();
});
afterAll(async () => {
  await server?.close();
});

const EXPECTED_TOOLS = [
  'add_flight', 'add_accommodation', 'add_activity', 'create_itinerary', 'export_trip', 'delete_event',
  'create_trip', 'list_trips', 'get_trip', 'check_trip', 'shift_trip', 'update_item', 'delete_trip', 'import_ics', 'import_reservations',
  'sync_now', 'sync_status', 'list_calendars', 'check_availability', 'authorize_calendar', 'handle_auth_callback',
];

describe('answers an assistant can trust', () => {
  test('check_availability without any calendar account is an error that says it is not "free"', async () => {
    const result = await server.call('check_availability', { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' });
    expect(result.isError).toBe(true);
    expect((result.content as Array<{ text: string }>)[0]!.text).toContain('cannot tell when you are busy');
  });
});

describe('the tools', () => {
  test('every tool of the specification is listed with an input schema, an output schema and annotations', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...EXPECTED_TOOLS].sort());
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.inputSchema.type, tool.name).toBe('object');
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(tool.annotations, tool.name).toMatchObject({
        readOnlyHint: expect.any(Boolean), destructiveHint: expect.any(Boolean), idempotentHint: expect.any(Boolean),
      });
    }
    const addFlight = tools.find((t) => t.name === 'add_flight')!;
    expect(Object.keys(addFlight.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['user_id', 'flight_details', 'remind_before']));
    expect((addFlight.inputSchema.properties as any).remind_before.default).toBe(24);
  });

  test('the specification\'s example: LAX -> JFK lands at 01:00 Los Angeles and 12:30 New York with a 48 h alarm', async () => {
    const out = structured(await server.call('add_flight', SPEC_FLIGHT));
    expect(out).toMatchObject({
      success: true,
      event_id: expect.stringMatching(/^item_/),
      trip_id: expect.stringMatching(/^trip_/),
      event_details: {
        summary: 'Flight: United Airlines UA123',
        start: '2025-06-15T01:00:00-07:00',
        end: '2025-06-15T12:30:00-04:00',
        start_timezone: 'America/Los_Angeles',
        end_timezone: 'America/New_York',
        start_utc: '2025-06-15T08:00:00Z',
        end_utc: '2025-06-15T16:30:00Z',
        calendar_link: expect.stringMatching(/^file:\/\/.*test_user\.ics$/),
      },
      // Kind, id and local times: a title may come from an imported file and is never quoted in a message.
      message: expect.stringMatching(/^Added flight item_\S+, Sun 15 Jun 2025 01:00 PDT → Sun 15 Jun 2025 12:30 EDT to a new trip trip_\S+\. Calendar: /),
      untrusted: { fields: expect.arrayContaining(['item.summary', 'event_details.summary']), note: expect.any(String) },
    });
    const exported = structured(await server.call('export_trip', { user_id: 'test_user', trip_id: out.trip_id }));
    expect(exported).toMatchObject({ success: true, event_count: 1, content_type: 'text/calendar; charset=utf-8' });
    const [event] = parseWithIcalJs(exported.ics);
    expect(event).toMatchObject({
      summary: 'Flight: United Airlines UA123',
      startTzid: 'America/Los_Angeles', startWall: '2025-06-15T01:00:00',
      endTzid: 'America/New_York', endWall: '2025-06-15T12:30:00',
      alarms: expect.arrayContaining(['-P2D']),
    });
    const [py] = parseWithPython(exported.ics).events;
    expect(py!.description).toMatch(/Confirmation: ABC123[\s\S]*Seat: 12A/);
    expect(py!.location).toBe('LAX → JFK');
    // Exporting again gives the same UIDs.
    const again = structured(await server.call('export_trip', { user_id: 'test_user', trip_id: out.trip_id }));
    expect(parseWithIcalJs(again.ics).map((e) => e.uid)).toEqual([event!.uid]);
  });

  test('a whole itinerary in one call, then get, update, delete, list', async () => {
    const created = structured(await server.call('create_itinerary', {
      trip_name: 'Lisbon', timezone: 'Europe/Lisbon',
      flights: [{ airline: 'TAP', flight_number: 'TP 201', departure_airport: 'ewr', arrival_airport: 'LIS', departure_time: '2025-05-01T21:40', arrival_time: '2025-05-02T09:35' }],
      accommodations: [{ name: 'Casa', check_in: '2025-05-02', check_out: '2025-05-05' }],
      activities: [{ name: 'Tram 28', start_time: '2025-05-03T10:00' }],
    }));
    expect(created.trip).toMatchObject({ title: 'Lisbon', start_date: '2025-05-01', end_date: '2025-05-05', item_count: 3 });
    expect(created.events[0].item ?? created.events[0]).toMatchObject({ summary: 'Flight: TAP TP201', start: { local: '2025-05-01T21:40:00-04:00' } });
    const tram = created.events[2];
    expect(tram.start.local).toBe('2025-05-03T10:00:00+01:00');

    const updated = structured(await server.call('update_item', { item_id: tram.id, changes: { start_time: '2025-05-03T11:00' }, expected_version: 1 }));
    expect(updated.item).toMatchObject({ version: 2, start: { utc: '2025-05-03T10:00:00Z' } });
    const stale = await server.call('update_item', { item_id: tram.id, changes: { name: 'x' }, expected_version: 1 });
    expect(stale.isError).toBe(true);
    expect((stale.content as Array<{ text: string }>)[0]!.text).toMatch(/^expected_version: item is at version 2/);

    const got = structured(await server.call('get_trip', { trip_id: created.trip_id }));
    expect(got.items.map((i: any) => i.kind)).toEqual(['flight', 'stay', 'activity']);

    const deleted = structured(await server.call('delete_event', { event_id: `${tram.id}:activity` }));
    expect(deleted).toMatchObject({ success: true, item_id: tram.id, sync: { status: 'not_connected' } });
    const trips = structured(await server.call('list_trips', {}));
    expect(trips.trips.find((t: any) => t.id === created.trip_id).item_count).toBe(2);
    expect(structured(await server.call('delete_trip', { trip_id: created.trip_id }))).toMatchObject({ deleted_items: 2 });
    expect((await server.call('get_trip', { trip_id: created.trip_id })).isError).toBe(true);
  });

  test('import_ics through the client, twice, without duplicates', async () => {
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', 'UID:dinner-1@example.com', 'DTSTAMP:20250101T000000Z',
      'DTSTART;TZID=Europe/Rome:20250710T200000', 'DTEND;TZID=Europe/Rome:20250710T220000', 'SUMMARY:Dinner at Roscioli', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n');
    const first = structured(await server.call('import_ics', { ics }));
    expect(first.created).toHaveLength(1);
    expect(first.created[0].start).toEqual({ utc: '2025-07-10T18:00:00Z', local: '2025-07-10T20:00:00+02:00', timezone: 'Europe/Rome' });
    const second = structured(await server.call('import_ics', { ics }));
    expect(second).toMatchObject({ created: [], unchanged: 1 });
  });

  test('resources serve a trip as JSON and as .ics', async () => {
    const out = structured(await server.call('add_activity', { activity_details: { name: 'Opera', start_time: '2025-12-01T19:00', timezone: 'Europe/Vienna' } }));
    const json = await server.client.readResource({ uri: `tripcal://trips/${out.trip_id}` });
    expect(JSON.parse((json.contents[0] as { text: string }).text).items[0].summary).toBe('Opera');
    const ics = await server.client.readResource({ uri: `tripcal://trips/${out.trip_id}.ics` });
    expect(parseWithIcalJs((ics.contents[0] as { text: string }).text)[0]).toMatchObject({ summary: 'Opera', startTzid: 'Europe/Vienna' });
    const listed = await server.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain(`tripcal://trips/${out.trip_id}`);
  });

  test('the user\'s feed file follows every change', async () => {
    const out = structured(await server.call('add_activity', { user_id: 'feeder', activity_details: { name: 'Concert', start_time: '2025-08-01T20:00' } }));
    const feed = join(server.dataDir, 'feeds', 'feeder.ics');
    await expect.poll(() => existsSync(feed) && readFileSync(feed, 'utf8').includes(out.event_id), { timeout: 3000 }).toBe(true);
    expect(parseWithIcalJs(readFileSync(feed, 'utf8'))).toHaveLength(1);
  });
});

describe('bad input', () => {
  test.each([
    ['add_flight', 'flight_details.departure_airport', { flight_details: { ...SPEC_FLIGHT.flight_details, departure_airport: 'QQQ' } }],
    ['add_flight', 'flight_details.arrival_time', { flight_details: { ...SPEC_FLIGHT.flight_details, arrival_time: '2025-06-15T07:00:00Z' } }],
    ['add_flight', 'flight_details.departure_time', { flight_details: { ...SPEC_FLIGHT.flight_details, departure_time: '2025-02-30T08:00' } }],
    ['add_flight', 'flight_details.airline', { flight_details: { ...SPEC_FLIGHT.flight_details, airline: 42 } }],
    ['add_flight', 'flight_details.seat', { flight_details: { ...SPEC_FLIGHT.flight_details, seat: 'x'.repeat(100_000) } }],
    ['add_flight', 'remind_before', { flight_details: SPEC_FLIGHT.flight_details, remind_before: -1 }],
    ['add_flight', 'trip_id', { flight_details: SPEC_FLIGHT.flight_details, trip_id: "trip_x'; DROP TABLE items; --" }],
    ['add_accommodation', 'accommodation_details.check_out', { accommodation_details: { name: 'H', check_in: '2025-06-15', check_out: '2025-06-14' } }],
    ['add_accommodation', 'accommodation_details.timezone', { accommodation_details: { name: 'H', check_in: '2025-06-15', check_out: '2025-06-16', timezone: 'Moon/Base' } }],
    ['add_activity', 'activity_details.start_time', { activity_details: { name: 'A', start_time: '2025-03-30T02:30', timezone: 'Europe/Berlin' } }],
    ['add_activity', 'user_id', { user_id: '../../etc/passwd', activity_details: { name: 'A', start_time: '2025-06-01T10:00' } }],
    ['get_trip', 'trip_id', { trip_id: 'trip_doesnotexist' }],
    ['delete_event', 'event_id', { event_id: 'not-ours' }],
    ['delete_event', 'event_id', { event_id: 'item_doesnotexist' }],
    ['update_item', 'item_id', { item_id: 'item_doesnotexist', changes: {} }],
    ['create_trip', 'end_date', { title: 'T', start_date: '2025-06-10', end_date: '2025-06-01' }],
    ['import_ics', 'ics', { ics: 'BEGIN:VCALENDAR\r\nthis is not a calendar' }],
    ['export_trip', 'trip_id', { trip_id: 'trip_nope' }],
    ['create_itinerary', 'flights', { trip_name: 'X', flights: [SPEC_FLIGHT.flight_details, { ...SPEC_FLIGHT.flight_details, arrival_airport: 'ZZZ9' }] }],
  ])('%s with a bad %s is refused, naming it, and changes nothing', async (tool, field, args) => {
    const db = new Database(join(server.dataDir, 'tripcal.db'), { readonly: true });
    try {
      const before = dumpDatabase(db);
      const result = await server.call(tool, args);
      expect(result.isError).toBe(true);
      const text = (result.content as Array<{ text: string }>)[0]!.text;
      expect(text).toContain(field.split('.').pop());
      expect(dumpDatabase(db)).toBe(before);
    } finally {
      db.close();
    }
  });
});

describe('two servers on one data directory', () => {
  test('two `serve` processes adding at once lose nothing and corrupt nothing', async () => {
    const { connect: open, tempDir } = await import('../support/mcp.js');
    const dataDir = tempDir();
    const [a, b] = await Promise.all([open({ dataDir }), open({ dataDir })]);
    try {
      const add = (s: typeof a, who: string, i: number) => s.call('add_activity', {
        activity_details: { name: `${who} ${i}`, start_time: `2025-08-${String(1 + (i % 20)).padStart(2, '0')}T10:00`, timezone: 'Europe/Rome' },
      });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => add(i % 2 ? a : b, i % 2 ? 'a' : 'b', i)));
      expect(results.filter((r) => r.isError)).toEqual([]);
      const trips = structured(await a.call('list_trips', {})).trips as Array<{ item_count: number }>;
      expect(trips.reduce((n, t) => n + t.item_count, 0)).toBe(40);
      const db = new Database(join(dataDir, 'tripcal.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
