// Fast, host-independent time zone arithmetic. Offsets come from Node's ICU (through luxon's
// IANAZone) but are asked for only to find each zone-year's transitions once; after that an
// offset, a wall clock or a zone abbreviation is a table lookup. Exports and feeds of thousands
// of events depend on this: a direct ICU call per conversion costs tens of microseconds.
import { IANAZone } from 'luxon';

/** Sampling step for finding transitions: the closest two offset changes of any zone are Morocco's
 * around Ramadan, about five weeks apart, so a two-week step never misses a pair. */
const STEP_MS = 14 * 86_400_000;
const MINUTE_MS = 60_000;

export interface Transition {
  /** The first millisecond of the new offset. */
  at: number;
  from: number;
  to: number;
}

interface ZoneYear {
  startOffset: number;
  transitions: Transition[];
}

const years = new Map<string, Map<number, ZoneYear>>();
const zones = new Map<string, IANAZone>();

function zoneOf(name: string): IANAZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new IANAZone(name);
    zones.set(name, zone);
  }
  return zone;
}

function firstChange(zone: IANAZone, lo: number, hi: number): number {
  const before = zone.offset(lo);
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
    if (zone.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The offset changes of `zoneName` during UTC year `year`: sampled every two weeks and pinned
 * to the minute by bisection.
 */
export function zoneYear(zoneName: string, year: number): ZoneYear {
  let byYear = years.get(zoneName);
  if (!byYear) {
    byYear = new Map();
    years.set(zoneName, byYear);
  }
  const cached = byYear.get(year);
  if (cached) return cached;
  const zone = zoneOf(zoneName);
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const startOffset = zone.offset(start);
  const transitions: Transition[] = [];
  let offset = startOffset;
  for (let t = start; t < end; t += STEP_MS) {
    const next = Math.min(t + STEP_MS, end);
    const nextOffset = zone.offset(next);
    if (nextOffset === offset) continue;
    let lo = t;
    // Bisect change by change, in case one step holds more than one.
    while (zone.offset(lo) !== nextOffset) {
      const at = firstChange(zone, lo, next);
      transitions.push({ at, from: zone.offset(at - MINUTE_MS), to: zone.offset(at) });
      lo = at;
    }
    offset = nextOffset;
  }
  const result = { startOffset, transitions };
  byYear.set(year, result);
  return result;
}

/** UTC offset in minutes of `zoneName` at instant `ms`. */
export function offsetAt(zoneName: string, ms: number): number {
  const { startOffset, transitions } = zoneYear(zoneName, civil(Math.floor(ms / 86_400_000)).year);
  let offset = startOffset;
  for (const t of transitions) {
    if (ms >= t.at) offset = t.to;
    else break;
  }
  return offset;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
  offset: number;
}

/** Year, month, day of a count of days since 1970-01-01 (H. Hinnant's civil_from_days): no Date allocation. */
function civil(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

/** The wall clock in `zoneName` at instant `ms`. */
export function wallClock(ms: number, zoneName: string): WallClock {
  const offset = offsetAt(zoneName, ms);
  const local = ms + offset * MINUTE_MS;
  const days = Math.floor(local / 86_400_000);
  const secondOfDay = Math.floor((local - days * 86_400_000) / 1000);
  return {
    ...civil(days),
    hour: Math.floor(secondOfDay / 3600), minute: Math.floor((secondOfDay % 3600) / 60), second: secondOfDay % 60,
    weekday: (((days + 4) % 7) + 7) % 7, offset,
  };
}

const abbreviations = new Map<string, string>();

/** The zone's short name at `ms` (PDT, CET; `GMT+12:45` where the zone has none), cached per offset. */
export function zoneAbbreviation(zoneName: string, ms: number): string {
  const offset = offsetAt(zoneName, ms);
  const cacheKey = `${zoneName}|${offset}`;
  let name = abbreviations.get(cacheKey);
  if (!name) {
    name = zoneOf(zoneName).offsetName(ms, { format: 'short', locale: 'en-US' }) ?? formatOffset(offset, ':');
    abbreviations.set(cacheKey, name);
  }
  return name;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `+05:45` (separator ':') or `+0545` (separator ''). */
export function formatOffset(minutes: number, separator: ':' | ''): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${separator}${pad(abs % 60)}`;
}

/** `2025-06-15T01:00:00-07:00`: local wall time with its offset. */
export function localIso(ms: number, zoneName: string): string {
  const w = wallClock(ms, zoneName);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${formatOffset(w.offset, ':')}`;
}

/** `20250615T010000`: the wall time as iCalendar writes it under a TZID. */
export function icsWallTime(ms: number, zoneName: string): string {
  const w = wallClock(ms, zoneName);
  return `${pad(w.year, 4)}${pad(w.month)}${pad(w.day)}T${pad(w.hour)}${pad(w.minute)}${pad(w.second)}`;
}

export function localDateOf(ms: number, zoneName: string): string {
  const w = wallClock(ms, zoneName);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sun 15 Jun 2025 01:00 PDT`. */
export function humanWallTime(ms: number, zoneName: string): string {
  const w = wallClock(ms, zoneName);
  return `${WEEKDAYS[w.weekday]} ${w.day} ${MONTHS[w.month - 1]} ${w.year} ${pad(w.hour)}:${pad(w.minute)} ${zoneAbbreviation(zoneName, ms)}`;
}
