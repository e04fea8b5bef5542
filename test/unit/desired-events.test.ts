// Model -> desired events, as plain values, across the zone cases travellers actually hit.
import { describe, expect, test } from 'vitest';
import { desiredEventsForItem } from '../../src/events/desired.js';
import { showTime } from '../../src/model/time.js';
import { flight, makeItem } from '../support/items.js';

const local = (t: { utc: string; zone: string }) => showTime(t.utc, t.zone).local;

describe('flights', () => {
  test('the specification example: LAX 01:00 PDT -> JFK 12:30 EDT, email 48 h and popup 2 h before', () => {
    const item = makeItem(flight('United Airlines', 'UA123', 'LAX', 'JFK', '2025-06-15T08:00:00Z', '2025-06-15T16:30:00Z',
      { confirmation_code: 'ABC123', seat: '12A' }), { remind: 48 });
    const [event] = desiredEventsForItem(item);
    expect(event).toMatchObject({
      key: `${item.id}:flight`,
      summary: 'Flight: United Airlines UA123',
      start: { utc: '2025-06-15T08:00:00Z', zone: 'America/Los_Angeles' },
      end: { utc: '2025-06-15T16:30:00Z', zone: 'America/New_York' },
      reminders: [{ method: 'email', minutesBefore: 2880 }, { method: 'popup', minutesBefore: 120 }],
    });
    expect(local(event!.start)).toBe('2025-06-15T01:00:00-07:00');
    expect(local(event!.end)).toBe('2025-06-15T12:30:00-04:00');
    expect(event!.description).toContain('Confirmation: ABC123');
    expect(event!.description).toContain('Seat: 12A');
  });

  test('local times are read at each airport: an overnight transatlantic flight', () => {
    const item = makeItem(flight('Lufthansa', 'LH 431', 'ORD', 'FRA', '2025-10-25T17:35', '2025-10-26T09:10'));
    const [event] = desiredEventsForItem(item);
    // Chicago is on CDT (-5); Frankfurt left CEST for CET (+1) at 03:00 that night.
    expect(event!.start.utc).toBe('2025-10-25T22:35:00Z');
    expect(event!.end.utc).toBe('2025-10-26T08:10:00Z');
    expect(local(event!.end)).toBe('2025-10-26T09:10:00+01:00');
  });

  test('crossing the date line eastbound: arrive the day before you leave', () => {
    const item = makeItem(flight('Air New Zealand', 'NZ2', 'AKL', 'LAX', '2025-06-20T19:30', '2025-06-20T11:00'));
    const [event] = desiredEventsForItem(item);
    expect(event!.start.utc).toBe('2025-06-20T07:30:00Z');
    expect(event!.end.utc).toBe('2025-06-20T18:00:00Z');
    expect(local(event!.start)).toBe('2025-06-20T19:30:00+12:00');
    expect(local(event!.end)).toBe('2025-06-20T11:00:00-07:00');
  });

  test('crossing the date line westbound: lose a day', () => {
    const item = makeItem(flight('Qantas', 'QF12', 'LAX', 'SYD', '2025-03-01T22:30', '2025-03-03T08:00'));
    const [event] = desiredEventsForItem(item);
    expect(event!.end.zone).toBe('Australia/Sydney');
    expect(local(event!.end)).toBe('2025-03-03T08:00:00+11:00');
  });

  test('a flight on the night US clocks spring forward', () => {
    const item = makeItem(flight('Delta', 'DL1', 'JFK', 'LAX', '2025-03-09T01:00', '2025-03-09T05:30'));
    const [event] = desiredEventsForItem(item);
    expect(event!.start.utc).toBe('2025-03-09T06:00:00Z'); // still EST
    expect(event!.end.utc).toBe('2025-03-09T12:30:00Z'); // LAX already on PDT
  });

  test('arriving before departing is refused, naming the field', () => {
    expect(() => makeItem(flight('Delta', 'DL1', 'JFK', 'LAX', '2025-03-09T10:00', '2025-03-09T06:00')))
      .toThrow(/details\.arrival_time: the arrival .* must be after the start/);
  });

  test('unknown airports are refused, naming the field', () => {
    expect(() => makeItem(flight('Delta', 'DL1', 'QQQ', 'LAX', '2025-03-09T10:00', '2025-03-09T12:00')))
      .toThrow(/details\.departure_airport: unknown airport code "QQQ"/);
    expect(() => makeItem(flight('Delta', 'DL1', 'JFK', 'LA', '2025-03-09T10:00', '2025-03-09T12:00')))
      .toThrow(/details\.arrival_airport: "LA" is not a 3-letter IATA airport code/);
  });

  test('a flight of several days is refused as a likely typo', () => {
    expect(() => makeItem(flight('Delta', 'DL1', 'JFK', 'LAX', '2025-03-09T10:00', '2025-03-12T12:00'))).toThrow(/would last \d+ hours/);
  });

  test('a changed flight changes the hash; the same flight hashes the same', () => {
    const a = desiredEventsForItem(makeItem(flight('Delta', 'DL1', 'JFK', 'LAX', '2025-03-10T10:00', '2025-03-10T13:00'), { id: 'item_x' }))[0]!;
    const b = desiredEventsForItem(makeItem(flight('Delta', 'DL1', 'JFK', 'LAX', '2025-03-10T10:00', '2025-03-10T13:00'), { id: 'item_x' }))[0]!;
    const c = desiredEventsForItem(makeItem(flight('Delta', 'DL1', 'JFK', 'LAX', '2025-03-10T10:05', '2025-03-10T13:00'), { id: 'item_x' }))[0]!;
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
    expect(a.uid).toBe('item_x-flight@tripcal');
  });
});

describe('stays', () => {
  test('check-in and check-out events at the default hours, read in the stay\'s zone', () => {
    const item = makeItem({ kind: 'stay', details: { name: 'Hotel Adlon', check_in: '2025-06-15', check_out: '2025-06-18', timezone: 'Europe/Berlin' } });
    const [checkIn, checkOut] = desiredEventsForItem(item);
    expect(checkIn).toMatchObject({ key: `${item.id}:check-in`, summary: 'Check-in: Hotel Adlon', transparent: true });
    expect(local(checkIn!.start)).toBe('2025-06-15T15:00:00+02:00');
    expect(checkOut).toMatchObject({ key: `${item.id}:check-out`, summary: 'Check-out: Hotel Adlon', reminders: [] });
    expect(local(checkOut!.end)).toBe('2025-06-18T11:00:00+02:00');
  });

  test('a stay across a DST change keeps its local check-out time', () => {
    const item = makeItem({ kind: 'stay', details: { name: 'Hotel', check_in: '2025-10-24T16:00', check_out: '2025-10-28T10:00', timezone: 'Europe/Paris' } });
    expect(item.startUtc).toBe('2025-10-24T14:00:00Z'); // CEST +2
    expect(item.endUtc).toBe('2025-10-28T09:00:00Z'); // CET +1
    const [, checkOut] = desiredEventsForItem(item);
    expect(local(checkOut!.end)).toBe('2025-10-28T10:00:00+01:00');
  });

  test('a stay without a zone uses the context zone', () => {
    const item = makeItem({ kind: 'stay', details: { name: 'Ryokan', check_in: '2025-04-01', check_out: '2025-04-03' } }, { zone: 'Asia/Tokyo' });
    expect(item.startUtc).toBe('2025-04-01T06:00:00Z');
  });

  test('check-out before check-in, or a bad zone, is refused naming the field', () => {
    expect(() => makeItem({ kind: 'stay', details: { name: 'H', check_in: '2025-04-03', check_out: '2025-04-01' } }))
      .toThrow(/details\.check_out/);
    expect(() => makeItem({ kind: 'stay', details: { name: 'H', check_in: '2025-04-01', check_out: '2025-04-03', timezone: 'Mars/Olympus' } }))
      .toThrow(/details\.timezone: "Mars\/Olympus" is not an IANA time zone/);
  });
});

describe('activities', () => {
  test('a date alone makes an all-day event; the end date is inclusive', () => {
    const item = makeItem({ kind: 'activity', details: { name: 'Museums', start_time: '2025-06-16', end_time: '2025-06-17' } }, { zone: 'America/New_York' });
    const [event] = desiredEventsForItem(item);
    expect(event!.allDay).toBe(true);
    expect(local(event!.start)).toBe('2025-06-16T00:00:00-04:00');
    expect(local(event!.end)).toBe('2025-06-18T00:00:00-04:00');
  });

  test('without an end an activity lasts an hour, with a reminder of remind_before hours', () => {
    const item = makeItem({ kind: 'activity', details: { name: 'Tour', start_time: '2025-06-16T10:00', location: 'Central Park' } }, { zone: 'America/New_York', remind: 1 });
    const [event] = desiredEventsForItem(item);
    expect(event).toMatchObject({ location: 'Central Park', reminders: [{ method: 'popup', minutesBefore: 60 }] });
    expect(event!.end.utc).toBe('2025-06-16T15:00:00Z');
  });

  test('remind_before 0 means no reminder', () => {
    const item = makeItem({ kind: 'activity', details: { name: 'Tour', start_time: '2025-06-16T10:00' } }, { remind: 0 });
    expect(desiredEventsForItem(item)[0]!.reminders).toEqual([]);
  });
});
