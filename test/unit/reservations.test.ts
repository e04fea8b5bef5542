// schema.org reservation import (fixtures in test/fixtures/reservations, written from the
// schema.org and Gmail markup examples): JSON, @graph, HTML script blocks, a MIME e-mail with
// quoted-printable and base64 parts; times with and without offsets; re-import without duplicates.
import { readFileSync } from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { checkTrip } from '../../src/trips/checks.js';
import { importReservations, readReservations } from '../../src/trips/reservations.js';
import { testApp } from '../support/app.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/reservations/${name}`, import.meta.url), 'utf8');
let app: App;
afterEach(async () => {
  await app?.close();
});

test('a FlightReservation with offsets becomes a flight at the airports\' local times, with number, seat and terminal', async () => {
  app = await testApp();
  const { created, skipped } = await importReservations(app.trips, undefined, fixture('flight.json'));
  expect(skipped).toEqual([]);
  expect(created).toHaveLength(1);
  const [flight] = created;
  expect(flight).toMatchObject({ kind: 'flight', startUtc: '2027-03-05T04:15:00Z', endUtc: '2027-03-05T11:30:00Z', startTz: 'America/Los_Angeles', endTz: 'America/New_York', confirmationCode: 'RXJ34P' });
  expect(flight!.details).toMatchObject({ airline: 'United', flight_number: 'UA110', departure_airport: 'SFO', arrival_airport: 'JFK', seat: '9A', terminal: '3' });
});

test('@graph with a stay (times without offset, the hotel\'s local time) and a restaurant table', async () => {
  app = await testApp();
  const { created, skipped } = await importReservations(app.trips, undefined, fixture('flight.json'));
  const second = await importReservations(app.trips, undefined, fixture('stay-and-dinner.json'));
  expect(skipped).toEqual([]);
  expect(second.skipped).toEqual([]);
  const [stay, table] = second.created;
  // Placed in the trip of the flight that lands in New York; no zone given, so the trip's zone.
  expect(stay).toMatchObject({ kind: 'stay', tripId: created[0]!.tripId, confirmationCode: 'abc456' });
  expect(stay!.details).toMatchObject({ name: 'Hilton San Francisco Union Square', address: '333 O\'Farrell St, 94102, San Francisco, CA, US', phone: '415-771-1400', check_in: '2027-03-05T15:00:00', check_out: '2027-03-08T11:00:00' });
  expect(table).toMatchObject({ kind: 'activity', startUtc: '2027-04-10T18:30:00Z', confirmationCode: 'OT12345' });
  expect(table!.details).toMatchObject({ name: 'Table at Wagamama', description: 'Party of 2', location: '1 Tavistock Street, WC2E 7PG, London, United Kingdom' });
});

test('HTML with several ld+json blocks: a round trip sharing one booking code, a rental car (pick-up and return), a concert', async () => {
  app = await testApp();
  const { created, skipped } = await importReservations(app.trips, undefined, fixture('confirmation.html'));
  expect(skipped).toEqual([]);
  expect(created.map((i) => [i.kind, i.details.kind === undefined ? null : null, 'name' in i.details ? i.details.name : i.details.flight_number])).toEqual([
    ['flight', null, 'KL1234'], ['flight', null, 'KL1009'],
    ['activity', null, 'Pick up car: Hertz (Volkswagen Golf)'], ['activity', null, 'Return car: Hertz'],
    ['activity', null, 'Foo Fighters Concert'],
  ]);
  expect(created[0]).toMatchObject({ startUtc: '2027-06-01T07:05:00Z', endUtc: '2027-06-01T08:25:00Z', startTz: 'Europe/Amsterdam', endTz: 'Europe/London' });
  expect(created[0]!.details).toMatchObject({ seat: '14C', confirmation_code: 'KLM7QX' });
  expect(created[1]!.details).toMatchObject({ confirmation_code: 'KLM7QX' });
  expect(created[2]).toMatchObject({ startUtc: '2027-06-01T09:30:00Z', endUtc: '2027-06-01T10:30:00Z', confirmationCode: 'HZ-55821' });
  expect(created[3]).toMatchObject({ startUtc: '2027-06-05T15:00:00Z', confirmationCode: null });
  expect(created[3]!.details).toMatchObject({ description: 'Reservation HZ-55821', location: 'Hertz Heathrow Terminal 5' });
  expect(created[4]).toMatchObject({ startUtc: '2027-06-03T18:30:00Z', endUtc: '2027-06-03T22:00:00Z' });
  expect(created[4]!.details).toMatchObject({ location: 'AccorHotels Arena, 8 Boulevard de Bercy, 75012, Paris, FR' });
});

test('an e-mail: quoted-printable and base64 parts are decoded; the unusable ones are listed with the reason', async () => {
  app = await testApp();
  const { created, skipped } = await importReservations(app.trips, undefined, fixture('booking.eml'));
  expect(created.map((i) => 'name' in i.details && i.details.name)).toEqual(['Train ICE 597 Berlin Hbf → München Hbf', 'Bus N 1440 München ZOB → Salzburg Süd']);
  expect(created[0]).toMatchObject({ startUtc: '2027-03-10T07:34:00Z', endUtc: '2027-03-10T11:36:00Z', confirmationCode: 'DB-9XK2' });
  expect(created[0]!.details).toMatchObject({ description: 'Seat: coach 12, seat 61', location: 'Berlin Hbf' });
  expect(skipped).toEqual([
    { type: 'FlightReservation', reservation_number: 'PART1', reason: 'missing reservationFor.arrivalTime' },
    { type: 'EventReservation', reservation_number: 'GONE-1', reason: 'the reservation is cancelled' },
    { type: 'TaxiReservation', reservation_number: 'TX-1', reason: expect.stringMatching(/^TaxiReservation is not a kind tripcal imports/) },
  ]);
});

test('the same reservations imported twice: nothing new; a changed time updates the item', async () => {
  app = await testApp();
  const first = await importReservations(app.trips, undefined, fixture('confirmation.html'));
  const again = await importReservations(app.trips, undefined, fixture('confirmation.html'));
  expect(again.created).toEqual([]);
  expect(again.unchanged.map((i) => i.id)).toEqual(first.created.map((i) => i.id));
  const moved = await importReservations(app.trips, undefined, fixture('confirmation.html').replace('2027-06-03T19:30:00+01:00', '2027-06-03T20:00:00+01:00'));
  expect(moved.updated.map((i) => i.id)).toEqual([first.created[4]!.id]);
  expect(moved.updated[0]!.startUtc).toBe('2027-06-03T19:00:00Z');
  const total = (await app.trips.listTrips(undefined)).reduce((n, t) => n + t.items.length, 0);
  expect(total).toBe(5);
});

test('a flight added by hand is found, not added again (same number and day)', async () => {
  app = await testApp();
  const hand = await app.trips.addItem(undefined, { kind: 'flight', details: {
    airline: 'United', flight_number: 'UA 110', departure_airport: 'SFO', arrival_airport: 'JFK', departure_time: '2027-03-04T20:15', arrival_time: '2027-03-05T06:30',
  } }, { path: 'flight_details' });
  const { created, unchanged } = await importReservations(app.trips, undefined, fixture('flight.json'));
  expect(created).toEqual([]);
  expect(unchanged.map((i) => i.id)).toEqual([hand.item.id]);
});

test('bad input changes nothing and says why: no JSON-LD, broken JSON, a date that is not one', async () => {
  app = await testApp();
  expect(readReservations('<html><p>hello</p></html>').skipped).toEqual([{ type: 'JSON-LD', reservation_number: null, reason: expect.stringMatching(/^no JSON-LD found/) }]);
  expect(readReservations('{"@type": "FlightReservation", ').skipped[0]!.reason).toMatch(/^the file is not valid JSON/);
  expect(readReservations('{"@type": "Person", "name": "x"}').skipped[0]!.reason).toBe('no schema.org Reservation in the JSON-LD');
  const bad = await importReservations(app.trips, undefined, fixture('flight.json').replace('2027-03-04T20:15:00-08:00', 'next tuesday'));
  expect(bad.created).toEqual([]);
  expect(bad.skipped).toEqual([{ type: 'FlightReservation', reservation_number: 'RXJ34P', reason: expect.stringContaining('departure_time') }]);
  expect(await app.trips.listTrips(undefined)).toEqual([]);
});

test('imported items take part in the trip checks (a stay checked in before the flight lands)', async () => {
  app = await testApp();
  const { created } = await importReservations(app.trips, undefined, fixture('flight.json'));
  await importReservations(app.trips, undefined, fixture('stay-and-dinner.json').replace('2027-03-05T15:00:00', '2027-03-03T15:00:00'));
  const items = (await app.trips.getTrip(undefined, created[0]!.tripId)).items;
  expect(checkTrip(items).map((w) => w.code)).toContain('checkin_before_arrival');
});

test('a place without a zone takes the zone of the flight that lands there last, else of its country; an offset is never contradicted', async () => {
  const { placeZone, countryCode } = await import('../../src/trips/place-zone.js');
  // Frankfurt → New York → San Francisco, then a hotel in the US without an offset: Pacific time, not the first destination's.
  const landings = [{ airport: 'JFK', time: '2027-03-05T14:00' }, { airport: 'SFO', time: '2027-03-05T21:30:00-08:00' }];
  expect(placeZone('US', '2027-03-05T23:00', landings)).toBe('America/Los_Angeles');
  expect(placeZone('US', '2027-03-05T16:00', landings)).toBe('America/New_York'); // before the second flight lands
  expect(placeZone('US', '2027-03-05T16:00', [])).toBeUndefined(); // many zones, nothing flown there
  expect(placeZone('Germany', '2027-03-05T15:00', landings)).toBe('Europe/Berlin'); // landings elsewhere do not count
  expect(placeZone(undefined, '2027-03-06T15:00', landings)).toBe('America/Los_Angeles');
  expect(placeZone('NZ', '2027-03-06T15:00', [{ airport: 'CHT', time: '2027-03-06T11:00' }])).toBe('Pacific/Chatham'); // not Auckland
  expect(placeZone('NZ', '2027-03-06T15:00', [])).toBe('Pacific/Auckland');
  // A time with an offset keeps its instant: only a zone showing that offset then is taken.
  expect(placeZone('DE', '2027-03-05T15:00:00+01:00', [])).toBe('Europe/Berlin');
  expect(placeZone('DE', '2027-03-05T15:00:00-05:00', [])).toBeUndefined();
  expect(placeZone('US', '2027-03-06T15:00:00-05:00', landings)).toBe('America/New_York'); // SFO shows -08:00, JFK -05:00
  expect(placeZone('US', '2027-03-06T15:00:00+09:00', landings)).toBeUndefined();
  // A stay's check-in is the earliest time: landing later that day still counts.
  expect(placeZone('US', '2027-03-05T15:00', landings)).toBe('America/New_York');
  expect(placeZone('US', '2027-03-05T15:00', landings, { sameDay: true })).toBe('America/Los_Angeles');
  expect([countryCode('United Kingdom'), countryCode('usa'), countryCode('de'), countryCode('Atlantis'), countryCode('ZZ')]).toEqual(['GB', 'US', 'DE', undefined, undefined]);
});

test('imported: a hotel in San Francisco after a connection in New York checks in at 15:00 Pacific time', async () => {
  app = await testApp();
  const leg = (number: string, from: string, to: string, departs: string, lands: string) => ({
    '@type': 'FlightReservation', reservationNumber: 'CONN1',
    reservationFor: { '@type': 'Flight', flightNumber: number, airline: { '@type': 'Airline', iataCode: 'LH' }, departureAirport: { iataCode: from }, arrivalAirport: { iataCode: to }, departureTime: departs, arrivalTime: lands },
  });
  const stay = JSON.parse(fixture('stay-and-dinner.json'))['@graph'][0]; // no offset, address in the US
  const { created, skipped } = await importReservations(app.trips, undefined, JSON.stringify([
    leg('400', 'FRA', 'JFK', '2027-03-05T10:00', '2027-03-05T12:45'), leg('7000', 'JFK', 'SFO', '2027-03-05T15:00', '2027-03-05T18:30'), stay,
  ]));
  expect(skipped).toEqual([]);
  const hotel = created.find((i) => i.kind === 'stay')!;
  expect(hotel).toMatchObject({ startTz: 'America/Los_Angeles', startUtc: '2027-03-05T23:00:00Z', endUtc: '2027-03-08T19:00:00Z' });
  expect(checkTrip(created)).toEqual([]);
});
