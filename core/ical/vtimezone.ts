// VTIMEZONE blocks from the same transition table that computed our instants (model/zones.ts,
// Node's ICU data), so a DTSTART;TZID=… wall time and our UTC instant can never disagree.
// ical-generator has no VTIMEZONE generator of its own.
import { formatOffset, offsetAt, zoneAbbreviation, zoneYear } from '../tz/zones.js';

const cache = new Map<string, string>();

/** Local wall time, as a VTIMEZONE DTSTART, of the instant `ms` seen at UTC offset `offset`. */
function wallTime(ms: number, offset: number): string {
  return new Date(ms + offset * 60_000).toISOString().slice(0, 19).replace(/[-:]/g, '');
}

function component(zone: string, at: number, from: number, to: number): string {
  const year = new Date(at).getUTCFullYear();
  const standardOffset = Math.min(offsetAt(zone, Date.UTC(year, 0, 1)), offsetAt(zone, Date.UTC(year, 6, 1)));
  const kind = to > standardOffset ? 'DAYLIGHT' : 'STANDARD';
  return [
    `BEGIN:${kind}`,
    `DTSTART:${wallTime(at, from)}`,
    `TZOFFSETFROM:${formatOffset(from, '')}`,
    `TZOFFSETTO:${formatOffset(to, '')}`,
    `TZNAME:${zoneAbbreviation(zone, at)}`,
    `END:${kind}`,
  ].join('\r\n');
}

/**
 * A VTIMEZONE for `zone` listing every offset change from 1 January `fromYear` to the end of
 * `toYear` (UTC), each as its own dated sub-component: valid RFC 5545, no RRULE guessing.
 */
export function vtimezone(zone: string, fromYear: number, toYear: number): string {
  const cacheKey = `${zone}|${fromYear}|${toYear}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const start = Date.UTC(fromYear, 0, 1);
  const first = zoneYear(zone, fromYear).startOffset;
  const parts = [component(zone, start, first, first)];
  for (let year = fromYear; year <= toYear; year++) {
    for (const t of zoneYear(zone, year).transitions) parts.push(component(zone, t.at, t.from, t.to));
  }
  const text = ['BEGIN:VTIMEZONE', `TZID:${zone}`, ...parts, 'END:VTIMEZONE'].join('\r\n');
  cache.set(cacheKey, text);
  return text;
}
