// Trip checks on real items (made through the trips service, so times resolve as in use): each
// check fires on a broken trip and stays quiet on a sound one, around DST, the date line and
// overnight connections.
import { afterEach, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { checkTrip } from '../../src/trips/checks.js';
import { testApp } from '../support/app.js';
import { flight } from '../support/items.js';

let app: App;
afterEach(async () => {
  await app?.close();
});

async function trip(...items: Parameters<App['trips']['addItem']>[1][]) {
  app = await testApp();
  const t = await app.trips.createTrip(undefined, { title: 'Test' });
  for (const i of items) await app.trips.addItem(undefined, i, { tripId: t.id, path: 'x' });
  return (await app.trips.getTrip(undefined, t.id)).items;
}
const stay = (name: string, check_in: string, check_out: string) => ({ kind: 'stay' as const, details: { name, check_in, check_out } });
const activity = (name: string, start_time: string, end_time?: string, timezone?: string) => ({ kind: 'activity' as const, details: { name, start_time, end_time, timezone } });
const codes = (items: Awaited<ReturnType<typeof trip>>) => checkTrip(items).map((w) => w.code);

test('a sound trip has no warnings: connection long enough, every night covered, activities on the ground', async () => {
  const items = await trip(
    flight('Lufthansa', 'LH400', 'FRA', 'JFK', '2025-06-15T10:00', '2025-06-15T12:45'),
    stay('The Plaza', '2025-06-15', '2025-06-18'),
    activity('MoMA', '2025-06-16T10:00', '2025-06-16T13:00', 'America/New_York'),
    flight('Delta', 'DL1', 'JFK', 'LAX', '2025-06-18T09:00', '2025-06-18T12:10'),
    flight('Delta', 'DL2', 'LAX', 'SFO', '2025-06-18T14:00', '2025-06-18T15:30'),
  );
  expect(checkTrip(items)).toEqual([]);
});

test('a short connection: 60 min within a country, 90 min across a border; each names items and local times', async () => {
  const domestic = await trip(flight('Delta', 'DL1', 'JFK', 'ATL', '2025-06-18T09:00', '2025-06-18T11:30'), flight('Delta', 'DL2', 'ATL', 'MCO', '2025-06-18T12:15', '2025-06-18T13:45'));
  const [w] = checkTrip(domestic);
  expect(w).toMatchObject({ code: 'short_connection', item_ids: domestic.map((i) => i.id) });
  expect(w!.message).toMatch(/only 45 min .* landing at ATL \(Wed 18 Jun 2025 11:30 EDT\) .* leaving ATL \(Wed 18 Jun 2025 12:15 EDT\); allow at least 60 min$/);
  // 75 min is fine at home, short across a border (Frankfurt → New York with a change in Frankfurt).
  const abroad = await trip(flight('Lufthansa', 'LH1', 'MUC', 'FRA', '2025-06-18T08:00', '2025-06-18T09:00'), flight('Lufthansa', 'LH400', 'FRA', 'JFK', '2025-06-18T10:15', '2025-06-18T12:45'));
  expect(checkTrip(abroad).map((x) => x.message)).toEqual([expect.stringMatching(/only 75 min .* allow at least 90 min for a connection across a border/)]);
  const home = await trip(flight('Delta', 'DL1', 'JFK', 'ATL', '2025-06-18T09:00', '2025-06-18T11:30'), flight('Delta', 'DL2', 'ATL', 'MCO', '2025-06-18T12:45', '2025-06-18T14:15'));
  expect(checkTrip(home)).toEqual([]);
  expect(checkTrip(home, { minConnectionMinutes: 90, minConnectionMinutesInternational: 120 }).map((x) => x.code)).toEqual(['short_connection']);
});

test('an overnight connection across the date line is counted in real time, not wall-clock time', async () => {
  // Lands in Auckland Tuesday 05:00 after leaving LAX Sunday 21:30 (a day lost); the next leg leaves 06:10.
  const items = await trip(flight('Air NZ', 'NZ5', 'LAX', 'AKL', '2025-06-15T21:30', '2025-06-17T05:00'), flight('Air NZ', 'NZ101', 'AKL', 'SYD', '2025-06-17T06:10', '2025-06-17T08:10'));
  expect(codes(items)).toEqual(['short_connection']);
  expect(checkTrip(items)[0]!.message).toMatch(/^only 70 min .*landing at AKL \(Tue 17 Jun 2025 05:00 (?:NZST|GMT\+12)\).*allow at least 90 min for a connection across a border$/);
  // The same wall times a day apart are a stopover with a night to cover, not a connection.
  const stopover = await trip(flight('Air NZ', 'NZ5', 'LAX', 'AKL', '2025-06-15T21:30', '2025-06-17T05:00'), flight('Air NZ', 'NZ101', 'AKL', 'SYD', '2025-06-18T06:10', '2025-06-18T08:10'));
  expect(codes(stopover)).toEqual(['no_accommodation']);
});

test('across a DST change the connection is the real elapsed time', async () => {
  // Sunday 30 March 2025, Germany springs forward at 02:00 local: landing 01:30 CET and leaving
  // 03:15 CEST look 105 minutes apart on the clock, but only 45 pass.
  const items = await trip(flight('Lufthansa', 'LH1', 'FRA', 'MUC', '2025-03-30T00:30', '2025-03-30T01:30'), flight('Lufthansa', 'LH2', 'MUC', 'HAM', '2025-03-30T03:15', '2025-03-30T04:30'));
  const w = checkTrip(items);
  expect(w.map((x) => x.code)).toEqual(['short_connection']);
  expect(w[0]!.message).toMatch(/^only 45 min .*\(Sun 30 Mar 2025 01:30 CET\).*\(Sun 30 Mar 2025 03:15 CEST\); allow at least 60 min$/);
});

test('overlapping flights, a different airport, nights without a stay, overlapping stays, an early check-in, an activity in the air', async () => {
  const items = await trip(
    flight('Lufthansa', 'LH400', 'FRA', 'JFK', '2025-06-15T10:00', '2025-06-15T12:45'),
    flight('United', 'UA960', 'FRA', 'EWR', '2025-06-15T11:00', '2025-06-15T13:30'),
    stay('The Plaza', '2025-06-14', '2025-06-16'),
    stay('Pod Hotel', '2025-06-15', '2025-06-17'),
    activity('Brunch', '2025-06-15T11:00', '2025-06-15T12:00', 'Europe/Berlin'),
    flight('Delta', 'DL1', 'LGA', 'ATL', '2025-06-20T09:00', '2025-06-20T11:30'),
  );
  const found = new Set(codes(items));
  expect([...found].sort()).toEqual(['activity_during_flight', 'airport_mismatch', 'checkin_before_arrival', 'no_accommodation', 'overlapping_flights', 'overlapping_stays']);
  const nights = checkTrip(items).find((w) => w.code === 'no_accommodation')!;
  expect(nights.message).toMatch(/nights of 2025-06-17, 2025-06-18, 2025-06-19 /);
  const early = checkTrip(items).find((w) => w.code === 'checkin_before_arrival')!;
  expect(early.message).toMatch(/^stay item_\S+ starts Sat 14 Jun 2025.*before flight item_\S+ lands \(Sun 15 Jun 2025 12:45 EDT\)/);
  // Titles (which may come from an imported booking) are in items, not in the message.
  expect(early.items.map((i) => [i.kind, i.summary])).toEqual([['stay', expect.stringContaining('The Plaza')], ['flight', expect.stringContaining('LH400')]]);
  expect(checkTrip(items).filter((w) => /Plaza|Lufthansa|LH400|Brunch/.test(w.message))).toEqual([]);
});

test('landing after the usual check-in hour on the day of check-in is normal; a day trip by air during a stay is not "before arrival"', async () => {
  const items = await trip(
    flight('Delta', 'DL1', 'ATL', 'JFK', '2025-06-15T19:00', '2025-06-15T21:15'),
    stay('The Plaza', '2025-06-15', '2025-06-18'),
    flight('Delta', 'DL2', 'JFK', 'BOS', '2025-06-16T08:00', '2025-06-16T09:15'),
    flight('Delta', 'DL3', 'BOS', 'JFK', '2025-06-16T18:00', '2025-06-16T19:15'),
  );
  expect(codes(items)).toEqual([]);
});
