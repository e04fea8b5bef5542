// VTIMEZONE blocks from the same time zone database that computed our instants (Node's ICU via
// luxon), so a DTSTART;TZID=… wall time and our UTC instant can never disagree. ical-generator
// has no VTIMEZONE generator of its own and would otherwise write the host's wall time.
import { DateTime, IANAZone } from 'luxon';

const DAY_MS = 86_400_000;
const cache = new Map<string, string>();

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/** Local wall time, as a VTIMEZONE DTSTART, of the instant `ms` seen at UTC offset `offset` minutes. */
function wallTime(ms: number, offset: number): string {
  return DateTime.fromMillis(ms + offset * 60_000, { zone: 'UTC' }).toFormat("yyyyLLdd'T'HHmmss");
}

/** The first millisecond in (lo, hi] at which the zone's offset differs from its offset at lo. */
function transitionBetween(zone: IANAZone, lo: number, hi: number): number {
  const before = zone.offset(lo);
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000;
    if (zone.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

function component(zone: IANAZone, ms: number, from: number, to: number, standardOffset: number): string {
  const kind = to > standardOffset ? 'DAYLIGHT' : 'STANDARD';
  const name = zone.offsetName(ms, { format: 'short', locale: 'en-US' }) ?? offsetText(to);
  return [
    `BEGIN:${kind}`,
    `DTSTART:${wallTime(ms, from)}`,
    `TZOFFSETFROM:${offsetText(from)}`,
    `TZOFFSETTO:${offsetText(to)}`,
    `TZNAME:${name}`,
    `END:${kind}`,
  ].join('\r\n');
}

/**
 * A VTIMEZONE for `zoneName` listing every offset change between the start of `fromYear` and the
 * end of `toYear`, each as its own dated sub-component (valid RFC 5545, no RRULE guessing).
 */
export function vtimezone(zoneName: string, fromYear: number, toYear: number): string {
  const cacheKey = `${zoneName}:${fromYear}:${toYear}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const zone = new IANAZone(zoneName);
  const start = Date.UTC(fromYear, 0, 1);
  const end = Date.UTC(toYear + 1, 0, 1);
  const parts: string[] = [];
  let offset = zone.offset(start);
  const standardOffsetIn = (ms: number) => {
    const year = new Date(ms).getUTCFullYear();
    return Math.min(zone.offset(Date.UTC(year, 0, 1)), zone.offset(Date.UTC(year, 6, 1)));
  };
  parts.push(component(zone, start, offset, offset, standardOffsetIn(start)));
  for (let day = start; day < end; day += DAY_MS) {
    const next = Math.min(day + DAY_MS, end);
    if (zone.offset(next) === offset) continue;
    const at = transitionBetween(zone, day, next);
    const to = zone.offset(at);
    parts.push(component(zone, at, offset, to, standardOffsetIn(at)));
    offset = to;
  }
  const text = ['BEGIN:VTIMEZONE', `TZID:${zone.name}`, ...parts, 'END:VTIMEZONE'].join('\r\n');
  cache.set(cacheKey, text);
  return text;
}
