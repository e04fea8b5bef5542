// Trip checks through the real MCP client over stdio: a deliberately broken trip gets warnings
// from check_trip and get_trip; fixing it with update_item makes them go away.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, structured, tempDir, type Connected } from '../support/mcp.js';

let server: Connected;
beforeAll(async () => {
  server = await connect({ dataDir: tempDir() });
});
afterAll(async () => {
  await server?.close();
});

test('a broken trip is flagged by check_trip and get_trip; update_item fixes it and the warnings go', async () => {
  const first = structured(await server.call('add_flight', { flight_details: {
    airline: 'Delta', flight_number: 'DL1', departure_airport: 'JFK', arrival_airport: 'ATL', departure_time: '2025-06-18T09:00', arrival_time: '2025-06-18T11:30',
  } }));
  const tripId = first.trip_id;
  const second = structured(await server.call('add_flight', { trip_id: tripId, flight_details: {
    airline: 'Delta', flight_number: 'DL2', departure_airport: 'ATL', arrival_airport: 'MCO', departure_time: '2025-06-18T12:00', arrival_time: '2025-06-18T13:30',
  } }));
  const checked = structured(await server.call('check_trip', { trip_id: tripId }));
  expect(checked.warnings).toEqual([{
    code: 'short_connection', item_ids: [first.item_id, second.item_id], message: expect.stringMatching(/^only 30 min .*allow at least 60 min$/),
    items: [{ id: first.item_id, kind: 'flight', summary: first.item.summary }, { id: second.item_id, kind: 'flight', summary: second.item.summary }],
  }]);
  expect(structured(await server.call('get_trip', { trip_id: tripId })).warnings).toEqual(checked.warnings);
  const bad = await server.call('check_trip', { trip_id: 'trip_nope' });
  expect(bad.isError).toBe(true);

  await server.call('update_item', { item_id: second.item_id, changes: { departure_time: '2025-06-18T13:00', arrival_time: '2025-06-18T14:30' } });
  const fixed = structured(await server.call('check_trip', { trip_id: tripId }));
  expect(fixed).toMatchObject({ warnings: [], message: expect.stringMatching(/^No problems found/) });
});

test('adding the same flight (number and day) or the same booking again returns the existing item, unless allow_duplicate', async () => {
  const flight = { airline: 'Air France', flight_number: 'AF 22', departure_airport: 'CDG', arrival_airport: 'JFK', departure_time: '2025-09-01T10:30', arrival_time: '2025-09-01T12:45' };
  const first = structured(await server.call('add_flight', { flight_details: flight }));
  expect(first.duplicate).toBe(false);
  // The same flight written differently (no space, later time on the same day after a schedule change).
  const again = structured(await server.call('add_flight', { flight_details: { ...flight, flight_number: 'af22', departure_time: '2025-09-01T11:00', arrival_time: '2025-09-01T13:15' } }));
  expect(again).toMatchObject({ duplicate: true, item_id: first.item_id, trip_id: first.trip_id });
  expect(again.message).toMatch(/^Already there: .*allow_duplicate/);
  const nextDay = structured(await server.call('add_flight', { trip_id: first.trip_id, flight_details: { ...flight, departure_time: '2025-09-02T10:30', arrival_time: '2025-09-02T12:45' } }));
  expect(nextDay.duplicate).toBe(false);
  const forced = structured(await server.call('add_flight', { flight_details: flight, allow_duplicate: true }));
  expect(forced.duplicate).toBe(false);
  expect(forced.item_id).not.toBe(first.item_id);

  const hotel = { name: 'Hotel Lutetia', check_in: '2025-09-01', check_out: '2025-09-04', confirmation_code: 'LUT-123' };
  const stay = structured(await server.call('add_accommodation', { accommodation_details: hotel }));
  const stayAgain = structured(await server.call('add_accommodation', { accommodation_details: { ...hotel, name: 'Lutetia Paris', confirmation_code: 'lut-123' } }));
  expect(stayAgain).toMatchObject({ duplicate: true, item_id: stay.item_id });
  const items = structured(await server.call('get_trip', { trip_id: first.trip_id })).items;
  expect(items.filter((i: { kind: string }) => i.kind === 'flight')).toHaveLength(3);
});

test('text cannot inject iCalendar properties: newlines, END:VEVENT and ATTENDEE in a description stay text (python3-icalendar agrees)', async () => {
  const { parseWithPython } = await import('../support/parsers.js');
  const evil = 'Bring passport\r\nATTENDEE;CN=Mallory:mailto:mallory@example.com\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:Injected\nUID:evil@x';
  const added = structured(await server.call('add_activity', { activity_details: {
    name: 'Louvre;\nDTSTART:19990101T000000Z', start_time: '2025-10-05T10:00', timezone: 'Europe/Paris', description: evil, location: 'Rue de Rivoli,\nATTENDEE:x',
  } }));
  const exported = structured(await server.call('export_trip', { trip_id: added.trip_id }));
  expect(exported.ics).not.toMatch(/^ATTENDEE/m);
  expect(exported.ics).not.toMatch(/^SUMMARY:Injected/m);
  expect(exported.ics).not.toMatch(/^DTSTART:1999/m);
  const parsed = parseWithPython(exported.ics);
  expect(parsed.events).toHaveLength(1);
  expect(parsed.events[0]!.summary).toContain('Louvre;');
  expect(parsed.events[0]!.description).toContain('END:VEVENT');
  expect(parsed.events[0]!.description).toContain('ATTENDEE;CN=Mallory');
  expect(parsed.events[0]!.location).toContain('ATTENDEE:x');
  expect(parsed.events[0]!.dtstart!.value).toMatch(/^2025-10-05T10:00/);
});

test('shift_trip moves a whole trip a week later in local time, across a DST change; bad durations change nothing', async () => {
  // Europe leaves summer time on Sunday 26 October 2025: a 10:00 flight on the 20th is 08:00Z,
  // a week later the same 10:00 local is 09:00Z.
  const f = structured(await server.call('add_flight', { flight_details: {
    airline: 'Lufthansa', flight_number: 'LH1', departure_airport: 'FRA', arrival_airport: 'LHR', departure_time: '2025-10-20T10:00', arrival_time: '2025-10-20T10:45',
  } }));
  const tripId = f.trip_id;
  await server.call('add_accommodation', { trip_id: tripId, accommodation_details: { name: 'The Savoy', check_in: '2025-10-20', check_out: '2025-10-23' } });
  await server.call('add_activity', { trip_id: tripId, activity_details: { name: 'Frieze', start_time: '2025-10-21', timezone: 'Europe/London' } });
  const before = structured(await server.call('get_trip', { trip_id: tripId })).items;
  for (const by of ['P1M', 'banana', 'PT0S']) {
    const bad = await server.call('shift_trip', { trip_id: tripId, by });
    expect(bad.isError).toBe(true);
    expect((bad.content as Array<{ text: string }>)[0]!.text).toMatch(/^by: /);
  }
  const halfDay = await server.call('shift_trip', { trip_id: tripId, by: 'PT12H' });
  expect((halfDay.content as Array<{ text: string }>)[0]!.text).toMatch(/whole days/);
  expect(structured(await server.call('get_trip', { trip_id: tripId })).items).toEqual(before);

  const moved = structured(await server.call('shift_trip', { trip_id: tripId, by: 'P7D' }));
  const flight = moved.items.find((i: { kind: string }) => i.kind === 'flight');
  expect(flight.start).toMatchObject({ utc: '2025-10-27T09:00:00Z', local: '2025-10-27T10:00:00+01:00', timezone: 'Europe/Berlin' });
  expect(flight.end.local).toBe('2025-10-27T10:45:00+00:00');
  const stay = moved.items.find((i: { kind: string }) => i.kind === 'stay');
  expect(stay.details).toMatchObject({ check_in: '2025-10-27', check_out: '2025-10-30' });
  const fair = moved.items.find((i: { summary: string }) => i.summary.includes('Frieze'));
  expect(fair).toMatchObject({ all_day: true, details: { start_time: '2025-10-28' } });
  expect(moved.items).toHaveLength(3);
  expect(moved.message).toMatch(/^Moved the 3 item\(s\)/);
});

test('get_trip gives the trip day by day in local times; the itinerary resource serves it as Markdown', async () => {
  const f = structured(await server.call('add_flight', { flight_details: {
    airline: 'Qantas', flight_number: 'QF12', departure_airport: 'LAX', arrival_airport: 'SYD', departure_time: '2026-02-10T23:30', arrival_time: '2026-02-12T09:05',
  } }));
  await server.call('add_accommodation', { trip_id: f.trip_id, accommodation_details: { name: 'Park Hyatt', check_in: '2026-02-12', check_out: '2026-02-14', address: 'Hickson Rd' } });
  const trip = structured(await server.call('get_trip', { trip_id: f.trip_id }));
  expect(trip.itinerary.map((d: { date: string; entries: Array<{ time: string; summary: string }> }) => [d.date, d.entries.map((e) => `${e.time} ${e.summary.split(' ').slice(0, 3).join(' ')}`)])).toEqual([
    ['2026-02-10', [expect.stringMatching(/^23:30 PST Flight/)]],
    ['2026-02-12', [expect.stringMatching(/^15:00 (AEDT|GMT\+11) Check-in/)]],
    ['2026-02-14', [expect.stringMatching(/^10:30 (AEDT|GMT\+11) Check-out/)]],
  ]);
  expect(trip.itinerary[0].entries[0].until).toMatch(/^until Thu 12 Feb 2026 09:05 (AEDT|GMT\+11)$/);
  const resource = await server.client.readResource({ uri: `tripcal://trips/${f.trip_id}/itinerary` });
  const text = (resource.contents[0] as { text: string }).text;
  expect(text).toMatch(/^# /);
  expect(text).toMatch(/## Tue 10 Feb 2026\n\n- \*\*23:30 PST\*\* .*QF12/);
  expect(text).toMatch(/## Thu 12 Feb 2026\n\n- \*\*15:00 (AEDT|GMT\+11)\*\* Check-in/);
});
