// Fast, host-independent time zone arithmetic. Offsets come from Node's ICU (through luxon's
// IANAZone) but are asked for only to find each zone-year's transitions once; after that an
// offset, a wall clock or a zone abbreviation is a table lookup. Exports and feeds of thousands
// of events depend on this: a direct ICU call per conversion costs tens of microseconds.
import { IANAZone } from 'luxon';

/**
 * Sampling step for finding transitions. Two offset changes of one zone can be as close as about
 * a week (America/Cambridge_Bay, October 2000: 6.9 days; Recife, Noronha and Boa Vista the same
 * month: 7.0 days, read from the tz database), so a daily sample cannot miss a pair that cancels
 * out. Each zone-year costs about 370 ICU calls once; every later lookup is a table read.
 */
const STEP_MS = 86_400_000;
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

/** The first second of a new offset in (lo, hi]: to the second, as some historical offsets change mid-minute. */
function firstChange(zone: IANAZone, lo: number, hi: number): number {
  const before = zone.offset(lo);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2 / 1000) * 1000;
    if (zone.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The offset changes of `zoneName` during UTC year `year`: sampled daily and pinned to the
 * second by bisection (offsets may hold seconds, e.g. Africa/Monrovia's -00:44:30 until 1972).
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
      transitions.push({ at, from: zone.offset(at - 1000), to: zone.offset(at) });
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
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Locales asked, in turn, for a zone's short name. ICU gives an abbreviation only where a
 * locale's people use it (en-US knows EST but says GMT+1 for Berlin; en-GB knows BST, CET and
 * GMT; en-IN knows IST; ja-JP knows JST), so the first that gives letters rather than an offset wins.
 */
const NAME_LOCALES = ['en-US', 'en-GB', 'en-CA', 'en-AU', 'en-NZ', 'en-IN', 'en-IE', 'en-ZA', 'en-SG', 'en-HK', 'en-AE', 'ja-JP'];

function shortName(locale: string, zoneName: string, ms: number): string | undefined {
  const cacheKey = `${locale}|${zoneName}`;
  let format = formatters.get(cacheKey);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeZone: zoneName, timeZoneName: 'short' });
    formatters.set(cacheKey, format);
  }
  return format.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value;
}

/**
 * The zone's short name at `ms` as people there know it (PDT, BST, CET, IST, JST, NZDT), or the
 * UTC offset where there is none (`UTC+05:45`), cached per zone and offset.
 */
export function zoneAbbreviation(zoneName: string, ms: number): string {
  const offset = offsetAt(zoneName, ms);
  const cacheKey = `${zoneName}|${offset}`;
  let name = abbreviations.get(cacheKey);
  if (!name) {
    if (offset === 0 && /^(Etc\/)?(UTC|UCT|Universal|Zulu|GMT|Greenwich)$/.test(zoneName)) name = 'UTC';
    for (const locale of NAME_LOCALES) {
      if (name) break;
      const found = shortName(locale, zoneName, ms);
      if (found && /^[A-Z]{2,5}$/.test(found) && found !== 'UTC') name = found;
    }
    name ??= `UTC${formatOffset(offset, ':')}`;
    abbreviations.set(cacheKey, name);
  }
  return name;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * `+05:45` (separator ':') or `+0545` (separator ''), with seconds only where the offset has
 * them (`-00:44:30`, `-004430`): RFC 5545's utc-offset allows ±hhmm[ss], never a fraction.
 */
export function formatOffset(minutes: number, separator: ':' | ''): string {
  const sign = minutes < 0 ? '-' : '+';
  const seconds = Math.round(Math.abs(minutes) * 60);
  const parts = [pad(Math.floor(seconds / 3600)), pad(Math.floor(seconds / 60) % 60)];
  if (seconds % 60) parts.push(pad(seconds % 60));
  return `${sign}${parts.join(separator)}`;
}

/**
 * The instants a wall-clock time names in `zoneName`, earliest first: one; two when the clocks
 * go back and it happens twice; none when the clocks skip it. `asUtc` is the wall time written
 * as if it were UTC (Date.UTC of its fields).
 */
export function instantsOfWall(asUtc: number, zoneName: string): number[] {
  const offsets = new Set([offsetAt(zoneName, asUtc - 86_400_000), offsetAt(zoneName, asUtc), offsetAt(zoneName, asUtc + 86_400_000)]);
  return [...offsets]
    .map((o) => asUtc - o * MINUTE_MS)
    .filter((ms) => offsetAt(zoneName, ms) === (asUtc - ms) / MINUTE_MS)
    .sort((a, b) => a - b);
}

/**
 * Whether `ms`, written as its wall time under a TZID, reads back as `ms`. RFC 5545 §3.3.5 reads
 * a wall time that happens twice as its first occurrence, so the second one (01:30 EST after
 * 01:30 EDT) does not, and must be written in UTC instead.
 */
export function wallTimeReadsBack(ms: number, zoneName: string): boolean {
  const w = wallClock(ms, zoneName);
  return instantsOfWall(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second), zoneName)[0] === ms - (ms % 1000);
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

/**
 * The first instant of a local date in `zoneName`: its midnight, or where the clocks skip
 * midnight (America/Santiago, 7 September 2025: 00:00 → 01:00), the moment they jump.
 */
export function startOfLocalDay(date: string, zoneName: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const midnight = Date.UTC(year, month - 1, day);
  const exact = instantsOfWall(midnight, zoneName)[0];
  if (exact !== undefined) return exact;
  // In a gap: read midnight with the offset before the jump; that instant already shows the date.
  const candidates = [offsetAt(zoneName, midnight - 86_400_000), offsetAt(zoneName, midnight + 86_400_000)]
    .map((o) => midnight - o * MINUTE_MS)
    .filter((ms) => localDateOf(ms, zoneName) === date)
    .sort((a, b) => a - b);
  return candidates[0]!;
}
