// JSON-LD as KDE's itinerary extractor writes it (the shapes of its output, written here by hand):
// local times without an offset at stations and terminals that carry coordinates and a country,
// times as {"@type": "QDateTime"} with their zone, ferries, rental cars; and the checks a
// document passes before the extractor sees it. The zone each place gets is checked against
// where the place is, never against tripcal's own zone table.
import { describe, expect, test } from 'vitest';
import { coordinateZone } from '../../src/trips/coordinate-zone.js';
import { contextDate } from '../../src/trips/documents.js';
import { readReservations } from '../../src/trips/reservations.js';
import { checkZip } from '../../src/trips/zip-check.js';
import { manyEntries, zip, zipBomb } from '../support/documents.js';

const place = (type: string, name: string, latitude: number, longitude: number, country: string) =>
  ({ '@type': type, name, geo: { '@type': 'GeoCoordinates', latitude, longitude }, address: { '@type': 'PostalAddress', addressCountry: country } });

const read = (reservations: unknown[]) => readReservations(JSON.stringify(reservations), { volatileKeys: ['modifiedTime'] });

describe('what the extractor writes becomes items in the place\'s zone', () => {
  test('a train between stations of a country of several zones, its local times read where it leaves', () => {
    const { found, skipped } = read([{
      '@type': 'TrainReservation', reservationNumber: 'VIA123',
      reservationFor: {
        '@type': 'TrainTrip', trainNumber: '1', departureTime: '2026-11-22T20:30:00', arrivalTime: '2026-11-26T09:00:00',
        departureStation: place('TrainStation', 'Toronto Union', 43.6453, -79.3806, 'CA'),
        arrivalStation: place('TrainStation', 'Vancouver Pacific Central', 49.2737, -123.0979, 'CA'),
      },
    }]);
    expect(skipped).toEqual([]);
    expect(found.map((f) => f.item)).toEqual([{
      kind: 'activity',
      details: expect.objectContaining({ name: 'Train 1 Toronto Union → Vancouver Pacific Central', start_time: '2026-11-22T20:30:00', timezone: 'America/Toronto' }),
    }]);
  });

  test('a ferry (BoatReservation) and a bus in Australia\'s west, a time with its QDateTime zone', () => {
    const { found, skipped } = read([
      {
        '@type': 'BoatReservation', reservationNumber: 'RTX9',
        reservationFor: {
          '@type': 'BoatTrip', departureTime: '2026-12-01T07:30:00', arrivalTime: '2026-12-01T08:15:00',
          departureBoatTerminal: place('BoatTerminal', 'Fremantle', -32.0569, 115.7439, 'AU'),
          arrivalBoatTerminal: place('BoatTerminal', 'Rottnest Island', -31.9966, 115.5406, 'AU'),
        },
      },
      {
        '@type': 'BusReservation', reservationNumber: 'BUS7',
        reservationFor: {
          '@type': 'BusTrip', busNumber: 'X1',
          departureTime: { '@type': 'QDateTime', '@value': '2026-12-02T10:00:00+08:00', timezone: 'Australia/Perth' },
          departureBusStop: { '@type': 'BusStation', name: 'Perth Busport' }, arrivalBusStop: { '@type': 'BusStation', name: 'Mandurah' },
        },
      },
    ]);
    expect(skipped).toEqual([]);
    expect(found.map((f) => [f.type, f.item.details])).toEqual([
      ['BoatReservation', expect.objectContaining({ name: 'Ferry Fremantle → Rottnest Island', start_time: '2026-12-01T07:30:00', timezone: 'Australia/Perth' })],
      ['BusReservation', expect.objectContaining({ name: 'Bus X1 Perth Busport → Mandurah', start_time: '2026-12-02T10:00:00+08:00', timezone: 'Australia/Perth' })],
    ]);
  });

  test('a zone a time carries that does not show its offset is not taken; a rental car\'s pick-up in Denver by its coordinates', () => {
    const { found } = read([{
      '@type': 'RentalCarReservation', reservationNumber: 'CAR5',
      reservationFor: { '@type': 'RentalCar', name: 'Compact', rentalCompany: { '@type': 'Organization', name: 'Test Rentals' } },
      // A wrong zone for this offset: the coordinates' zone (Mountain, -07:00 in January) is used instead.
      pickupTime: { '@type': 'QDateTime', '@value': '2027-01-10T09:00:00-07:00', timezone: 'Europe/Paris' },
      dropoffTime: '2027-01-14T09:00:00',
      pickupLocation: place('Place', 'Downtown', 39.7392, -104.9903, 'US'),
      dropoffLocation: place('Place', 'Airport', 39.8561, -104.6737, 'US'),
    }]);
    expect(found.map((f) => f.item.details)).toEqual([
      expect.objectContaining({ name: 'Pick up car: Test Rentals (Compact)', timezone: 'America/Denver' }),
      expect.objectContaining({ name: 'Return car: Test Rentals', timezone: 'America/Denver' }),
    ]);
  });

  test('the same ticket read another day (modifiedTime is the context date) keeps its identity', () => {
    const event = (modified: string) => ({
      '@type': 'EventReservation', modifiedTime: modified,
      reservationFor: { '@type': 'Event', name: 'Concert', startDate: '2027-01-14T19:30:00', location: place('Place', 'Hall', 52.52, 13.405, 'DE') },
    });
    expect(read([event('2026-12-01T00:00:00')]).found[0]!.sourceUid).toBe(read([event('2026-12-24T00:00:00')]).found[0]!.sourceUid);
  });
});

test('coordinates to a zone: the nearest airport in the country, nothing far from every airport', () => {
  expect(coordinateZone(49.2827, -123.1207, 'CA')).toBe('America/Vancouver');
  expect(coordinateZone(45.5019, -73.5674, 'CA')).toMatch(/^America\/(Toronto|Montreal)$/);
  expect(coordinateZone(-31.9523, 115.8613)).toBe('Australia/Perth');
  expect(coordinateZone(0, -140)).toBeUndefined(); // the middle of the Pacific
  expect(coordinateZone(Number.NaN, 0)).toBeUndefined();
});

test('a document\'s date: the e-mail\'s Date header, else the file\'s time, else now', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const mail = Buffer.from('From: a@example.com\r\nDate: Sun, 01 Mar 2026 09:00:00 +0100\r\n\r\nDate: Mon, 02 Mar 2020 00:00:00 +0000\r\n');
  expect(contextDate({ bytes: mail, field: 'content' }, now).toISOString()).toBe('2026-03-01T08:00:00.000Z');
  expect(contextDate({ bytes: Buffer.from('%PDF-1.4'), field: 'FILE', modified: new Date('2025-01-02T03:04:05Z') }, now).toISOString()).toBe('2025-01-02T03:04:05.000Z');
  expect(contextDate({ bytes: Buffer.from('Date: nonsense\n\n'), field: 'content' }, now)).toBe(now);
});

test('zips are inflated with a ceiling before the extractor sees them: bombs and archives of thousands of files are refused', () => {
  expect(() => checkZip(zip([{ name: 'pass.json', data: Buffer.from('{"formatVersion":1}') }]), 'content_base64')).not.toThrow();
  expect(() => checkZip(zipBomb(64), 'content_base64')).toThrow(/^content_base64: the zip inflates to more than 20,000,000 bytes \(a zip bomb\)/);
  expect(() => checkZip(manyEntries(201), 'FILE')).toThrow(/^FILE: more than 200 files in the zip/);
  expect(() => checkZip(Buffer.from('PK\x03\x04 and nothing else'), 'FILE')).toThrow(/not a readable zip/);
});
