// Reading and showing times. An ISO time with `Z` or an offset is an instant; one without is a
// wall-clock time in a given IANA zone. Nothing here reads the host's time zone.
import { DateTime } from 'luxon';
import { InputError } from '../errors.js';
import { canonicalZone } from '../../core/tz/names.js';
import { humanWallTime, instantsOfWall, localDateOf, localIso, startOfLocalDay } from '../../core/tz/zones.js';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isValidZone(zone: string): boolean {
  return canonicalZone(zone) !== null;
}

/** The zone's modern IANA name (`asia/tokyo` → Asia/Tokyo, Asia/Calcutta → Asia/Kolkata), or an InputError naming `field`. */
export function requireZone(zone: string, field: string): string {
  const canonical = canonicalZone(zone);
  if (!canonical) throw new InputError(field, `"${zone}" is not an IANA time zone (e.g. Europe/Berlin)`);
  return canonical;
}

function checkCalendarDate(year: number, month: number, day: number, value: string, field: string): void {
  const date = DateTime.fromObject({ year, month, day }, { zone: 'UTC' });
  if (!date.isValid || date.month !== month || date.day !== day) {
    throw new InputError(field, `"${value}" is not a real calendar date`);
  }
  if (year < 1970 || year > 2200) throw new InputError(field, `"${value}" is outside the years 1970-2200`);
}

/** Whether an ISO 8601 date-time carries `Z` or a UTC offset (an instant), not a wall time. */
export function hasUtcOffset(value: string): boolean {
  return DATE_TIME.exec(value.trim())?.[8] !== undefined;
}

export function isDateOnly(value: string): boolean {
  return DATE_ONLY.test(value.trim());
}

/** A `YYYY-MM-DD` calendar date, checked to exist. */
export function parseDate(value: string, field: string): string {
  const m = DATE_ONLY.exec(value.trim());
  if (!m) throw new InputError(field, `"${value}" is not a date in the form YYYY-MM-DD`);
  checkCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]), value, field);
  return value.trim();
}

/**
 * Reads an ISO 8601 date-time. With `Z` or an offset it is that instant; without, it is the wall
 * time in `zone`. A wall time that does not exist in the zone (skipped by a DST change) is refused
 * rather than silently moved.
 */
export function parseDateTime(value: string, zone: string, field: string): DateTime {
  const text = value.trim();
  const m = DATE_TIME.exec(text);
  if (!m) {
    throw new InputError(field, `"${value}" is not an ISO 8601 date-time (e.g. 2025-06-15T08:00 or 2025-06-15T08:00:00Z)`);
  }
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number, number, number, number, number, number,
  ];
  checkCalendarDate(year, month, day, value, field);
  if (hour > 23 || minute > 59 || second > 59) throw new InputError(field, `"${value}" has an impossible time of day`);
  const offset = m[8];
  if (offset) {
    const offsetHours = offset.toUpperCase() === 'Z' ? 0 : Number(offset.slice(1, 3));
    const instant = DateTime.fromISO(text.replace(' ', 'T'), { setZone: true });
    if (!instant.isValid || offsetHours > 14) throw new InputError(field, `"${value}" has an invalid UTC offset`);
    return instant.setZone(zone);
  }
  return wallTimeIn({ year, month, day, hour, minute, second }, zone, value, field);
}

/**
 * The instant a wall time names in `zone`. When the clocks go back and the wall time happens
 * twice, it is the first occurrence (RFC 5545 §3.3.5 reads a TZID time the same way, so calendars
 * agree with us); a wall time the clocks skip is refused.
 */
function wallTimeIn(wall: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  zone: string, value: string, field: string): DateTime {
  const instants = instantsOfWall(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second), zone);
  if (instants.length === 0) {
    throw new InputError(field, `"${value}" does not exist in ${zone} (the clocks skip it at a daylight-saving change)`);
  }
  return DateTime.fromMillis(instants[0]!, { zone });
}

/** How every output shows a moment: the instant, the local wall time with offset, and the zone. */
export interface ShownTime {
  utc: string;
  local: string;
  timezone: string;
}

export function showTime(utcIso: string, zone: string): ShownTime {
  return { utc: utcIso, local: localIso(Date.parse(utcIso), zone), timezone: zone };
}

/** The one stored form of an instant, `YYYY-MM-DDTHH:MM:SSZ`: text order is time order. */
export function toUtcIso(dt: DateTime): string {
  return utcIsoOf(dt.toMillis());
}

export function utcIsoOf(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `Sun 15 Jun 2025 01:00 PDT`, the human form used in descriptions and messages. */
export function humanTime(utcIso: string, zone: string): string {
  return humanWallTime(Date.parse(utcIso), zone);
}

export function localDate(utcIso: string, zone: string): string {
  return localDateOf(Date.parse(utcIso), zone);
}

/** The first instant of a local date in `zone` (its midnight, or the jump where midnight is skipped). */
export function dayStart(date: string, zone: string): DateTime {
  return DateTime.fromMillis(startOfLocalDay(date, zone), { zone });
}

/** The local date after `date` (YYYY-MM-DD), by the calendar. */
export function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
