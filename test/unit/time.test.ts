import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseDate, parseDateTime, showTime, toUtcIso } from '../../src/model/time.js';

const utc = (value: string, zone: string) => toUtcIso(parseDateTime(value, zone, 'when'));

describe('reading times', () => {
  test('a time with Z or an offset is an instant, whatever the zone', () => {
    expect(utc('2025-06-15T08:00:00Z', 'America/Los_Angeles')).toBe('2025-06-15T08:00:00Z');
    expect(utc('2025-06-15T10:00:00+02:00', 'Asia/Tokyo')).toBe('2025-06-15T08:00:00Z');
    expect(utc('2025-06-15T10:00+0200', 'UTC')).toBe('2025-06-15T08:00:00Z');
  });

  test('a time without an offset is wall time in the given zone', () => {
    expect(utc('2025-06-15T08:00', 'America/Los_Angeles')).toBe('2025-06-15T15:00:00Z');
    expect(utc('2025-01-15 08:00:00', 'America/Los_Angeles')).toBe('2025-01-15T16:00:00Z');
    // Chatham: +13:45 in January (daylight time), +12:45 in July.
    expect(utc('2025-01-15T12:00', 'Pacific/Chatham')).toBe('2025-01-14T22:15:00Z');
    expect(utc('2025-07-15T12:00', 'Pacific/Chatham')).toBe('2025-07-14T23:15:00Z');
  });

  test('a wall time skipped by a DST change is refused, naming the field', () => {
    expect(() => parseDateTime('2025-03-30T02:30', 'Europe/Berlin', 'flight_details.departure_time')).toThrow(
      /flight_details\.departure_time: .*does not exist in Europe\/Berlin/,
    );
  });

  test('an ambiguous wall time (clocks go back) is read as the first occurrence', () => {
    expect(utc('2025-10-26T02:30', 'Europe/Berlin')).toBe('2025-10-26T00:30:00Z');
  });

  test.each([
    ['2025-02-30T10:00', /not a real calendar date/],
    ['2025-13-01T10:00', /not a real calendar date/],
    ['2025-06-15T24:30', /impossible time of day/],
    ['15/06/2025 10:00', /not an ISO 8601 date-time/],
    ['tomorrow', /not an ISO 8601 date-time/],
    ['', /not an ISO 8601 date-time/],
    ['2025-06-15T10:00+25:00', /invalid UTC offset/],
  ])('%s is refused', (value, message) => {
    const attempt = () => parseDateTime(value, 'UTC', 'when');
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(message);
  });

  test('dates are checked to exist', () => {
    expect(parseDate('2024-02-29', 'd')).toBe('2024-02-29');
    expect(() => parseDate('2025-02-29', 'start_date')).toThrow(/start_date: .*not a real calendar date/);
  });

  test('shown times carry the instant, the local time with offset, and the zone', () => {
    expect(showTime('2025-06-15T08:00:00Z', 'America/Los_Angeles')).toEqual({
      utc: '2025-06-15T08:00:00Z',
      local: '2025-06-15T01:00:00-07:00',
      timezone: 'America/Los_Angeles',
    });
  });
});
