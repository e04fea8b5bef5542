// The time zone of a booked place (a hotel, a restaurant, a concert hall) when the booking does
// not say it: from the flight of the same booking that lands last before it starts (in the
// address's country, when it has one), else from the country when it keeps one zone. A time
// given with an offset only takes a zone that shows that offset at that instant, so a guess never
// moves the instant or shows it at a wrong local time.
import { DateTime } from 'luxon';
import { airportByCode, countryCodes, countryZone } from '../model/airports.js';
import { hasUtcOffset, isDateOnly, parseDateTime } from '../model/time.js';

export interface Landing {
  /** IATA code of the arrival airport. */
  airport: string;
  /** As the booking gives it: with an offset, or local at the airport. */
  time: string;
}

let countryByName: Map<string, string> | undefined;

/** An ISO 3166 code from "DE", "de", "Germany" or "United States" (English names), or undefined. */
export function countryCode(country: string | undefined): string | undefined {
  if (!country) return undefined;
  const text = country.trim();
  if (/^[A-Za-z]{2}$/.test(text)) return countryZone(text) !== undefined ? text.toUpperCase() : undefined;
  if (!countryByName) {
    countryByName = new Map();
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of countryCodes()) countryByName.set(names.of(code)!.toLowerCase(), code);
    for (const [alias, code] of [['usa', 'US'], ['united states of america', 'US'], ['uk', 'GB'], ['great britain', 'GB'], ['england', 'GB']] as const) countryByName.set(alias, code);
  }
  return countryByName.get(text.toLowerCase());
}

/** `time` read as item times are (an instant with an offset, else a wall time in `zone`; a date is its midnight), or null. */
function instant(time: string, zone: string): DateTime | null {
  try {
    return parseDateTime(isDateOnly(time) ? `${time.trim()}T00:00` : time, zone, 'time');
  } catch {
    return null;
  }
}

/** Whether `zone` shows `time` (which carries an offset) at that same offset. */
export function showsOffset(zone: string, time: string): boolean {
  const at = DateTime.fromISO(time.trim(), { setZone: true });
  return at.isValid && at.setZone(zone).offset === at.offset;
}

/**
 * The zone for a place starting at `start` (local there, or with an offset), or undefined when
 * nothing says it: where the last flight before it lands (in that country, when the country is
 * known), else the country's only zone. `sameDay` (stays): a flight landing later on the day of
 * the start counts too.
 */
export function placeZone(country: string | undefined, start: string, landings: readonly Landing[], options: { sameDay?: boolean } = {}): string | undefined {
  const code = countryCode(country);
  const landed = landings
    .map((l) => {
      let airport;
      try {
        airport = airportByCode(l.airport, 'airport');
      } catch {
        return undefined;
      }
      const at = instant(l.time, airport.timezone);
      return at ? { airport, at } : undefined;
    })
    .filter((l): l is NonNullable<typeof l> => l !== undefined && (!code || l.airport.countryCode === code))
    .filter((l) => {
      // Both in the airport's zone, so the dates compared are its local dates.
      const begins = instant(start, l.airport.timezone);
      // A check-in time is the earliest one: landing later that day still sleeps there.
      return begins !== null && (options.sameDay ? l.at.toISODate()! <= begins.toISODate()! : l.at <= begins);
    })
    .sort((a, b) => b.at.toMillis() - a.at.toMillis());
  // The airport flown to says more than the country (Chatham Islands, not Auckland).
  const candidates = landed.map((l) => l.airport.timezone);
  const zone = code ? countryZone(code) : undefined;
  if (zone) candidates.push(zone);
  return hasUtcOffset(start) ? candidates.find((zone) => showsOffset(zone, start)) : candidates[0];
}
