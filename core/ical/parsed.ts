// The shapes node-ical gives back, and the two readings of them every caller needs: a text
// property (plain, or with parameters) and an all-day date (which node-ical builds at local
// midnight of the host, so it must be read back with local getters to be host-independent), and
// the instant of a TZID time read as RFC 5545 reads it.
import { canonicalZone } from '../tz/names.js';
import { instantsOfWall, wallClock } from '../tz/zones.js';

export interface ParsedDate extends Date {
  tz?: string;
  dateOnly?: boolean;
}

export interface ParsedEvent {
  type: string;
  uid?: string;
  summary?: unknown;
  description?: unknown;
  location?: unknown;
  status?: string;
  start?: ParsedDate;
  end?: ParsedDate;
  datetype?: string;
  transparency?: string;
  rrule?: unknown;
  recurrences?: Record<string, ParsedEvent>;
  alarms?: Array<{ action?: string; trigger?: string }>;
  /** Our marker; node-ical drops the X- prefix of extension properties. */
  'TRIPCAL-KEY'?: unknown;
  /** The zones of a DTSTART / DTEND we wrote in UTC (the second pass of a repeated hour). */
  'TRIPCAL-DTSTART-TZID'?: unknown;
  'TRIPCAL-DTEND-TZID'?: unknown;
}

/** A TEXT property's value, whether node-ical gave a string or `{ params, val }`. */
export function propertyText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && 'val' in (value as object)) return String((value as { val: unknown }).val);
  return String(value);
}

/** `YYYY-MM-DD` of an all-day date from node-ical. */
export function allDayDate(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/**
 * The instant of a date-time node-ical read. node-ical takes a TZID wall time that happens twice
 * (the hour repeated when clocks go back) as its second occurrence; RFC 5545 §3.3.5 says the
 * first, as tripcal and other calendars read it. Both readings share the wall clock, so the wall
 * clock is read off node-ical's instant and turned into the first instant that shows it.
 */
export function instantOf(date: ParsedDate): number {
  const zone = date.tz && !/^(Etc\/)?(UTC|GMT)$/i.test(date.tz) ? canonicalZone(date.tz) : null;
  if (!zone) return date.getTime();
  const w = wallClock(date.getTime(), zone);
  return instantsOfWall(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second), zone)[0] ?? date.getTime();
}
