// Trip checks: the mistakes travellers make, found in a trip's items. Each warning names the
// items involved and shows the times in their own local zones. Pure: items in, warnings out.
// A message names items by kind and id only: their titles may come from an imported booking, so
// they go in the warning's `items`, never into the message text.
//
//   overlapping_flights     two flights in the air at once
//   short_connection        less time between landing and the next departure than the minimum
//                           (longer when the journey crosses a border: passport and customs)
//   airport_mismatch        landing at one airport and leaving from another
//   no_accommodation        a night between landing and the next departure without a stay
//   overlapping_stays       two stays that share a night
//   checkin_before_arrival  a stay that starts a day (or more) before the flight that brings you there lands
//   activity_during_flight  an activity while you are in the air
import { airportByCode } from '../model/airports.js';
import { humanTime, localDate } from '../model/time.js';
import type { FlightDetails, Item } from '../model/types.js';
import { itemSummary } from '../events/desired.js';
import { itemRef } from './views.js';

export interface CheckOptions {
  /** The shortest connection, in minutes, within one country. */
  minConnectionMinutes: number;
  /** …and when the journey crosses a border. */
  minConnectionMinutesInternational: number;
}

export const DEFAULT_CHECKS: CheckOptions = { minConnectionMinutes: 60, minConnectionMinutesInternational: 90 };

export type WarningCode =
  | 'overlapping_flights' | 'short_connection' | 'airport_mismatch' | 'no_accommodation'
  | 'overlapping_stays' | 'checkin_before_arrival' | 'activity_during_flight';

export interface TripWarning {
  code: WarningCode;
  message: string;
  item_ids: string[];
  items: Array<{ id: string; kind: Item['kind']; summary: string }>;
}

type Flight = Item & { kind: 'flight'; details: FlightDetails };

const DAY_MS = 86_400_000;
/** Flights further apart than this are separate journeys, not a connection. */
const CONNECTION_MAX_MS = 24 * 3_600_000;

const ms = (iso: string) => Date.parse(iso);
const at = (item: Item, end = false) => humanTime(end ? item.endUtc : item.startUtc, end ? item.endTz : item.startTz);
/** An airport code as the message shows it: codes are short letters, anything else is not repeated. */
const airport = (code: string) => (/^[A-Z0-9]{3,4}$/.test(code) ? code : 'an airport not in the list');
const overlaps = (a: Item, b: Item) => ms(a.startUtc) < ms(b.endUtc) && ms(b.startUtc) < ms(a.endUtc);

function country(code: string): string | null {
  try {
    return airportByCode(code, 'airport').countryCode;
  } catch {
    return null;
  }
}

/** The local dates of the nights from `fromUtc` to `toUtc`, as the zone of arrival counts them. */
function nights(fromUtc: string, toUtc: string, zone: string): string[] {
  const out: string[] = [];
  const last = localDate(toUtc, zone);
  for (let d = localDate(fromUtc, zone); d < last; d = new Date(ms(`${d}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)) out.push(d);
  return out;
}

export function checkTrip(items: readonly Item[], options: CheckOptions = DEFAULT_CHECKS): TripWarning[] {
  const sorted = [...items].sort((a, b) => a.startUtc.localeCompare(b.startUtc) || a.id.localeCompare(b.id));
  const flights = sorted.filter((i): i is Flight => i.kind === 'flight');
  const stays = sorted.filter((i) => i.kind === 'stay');
  const activities = sorted.filter((i) => i.kind === 'activity' && !i.allDay);
  const warnings: TripWarning[] = [];
  const warn = (code: WarningCode, message: string, ...involved: Item[]) => warnings.push({
    code, message, item_ids: involved.map((i) => i.id), items: involved.map((i) => ({ id: i.id, kind: i.kind, summary: itemSummary(i) })),
  });

  for (let i = 0; i < flights.length; i++) {
    for (let j = i + 1; j < flights.length && ms(flights[j]!.startUtc) < ms(flights[i]!.endUtc); j++) {
      warn('overlapping_flights', `${itemRef(flights[i]!)} (${at(flights[i]!)} – ${at(flights[i]!, true)}) and ${itemRef(flights[j]!)} `
        + `(${at(flights[j]!)} – ${at(flights[j]!, true)}) are in the air at the same time`, flights[i]!, flights[j]!);
    }
  }

  for (let i = 0; i + 1 < flights.length; i++) {
    const [a, b] = [flights[i]!, flights[i + 1]!];
    const gap = ms(b.startUtc) - ms(a.endUtc);
    if (gap < 0) continue; // overlapping: said above
    const landed = a.details.arrival_airport.toUpperCase();
    const leaves = b.details.departure_airport.toUpperCase();
    const [landedAt, leavesFrom] = [airport(landed), airport(leaves)];
    if (landed !== leaves) {
      warn('airport_mismatch', `${itemRef(a)} lands at ${landedAt} (${at(a, true)}) but ${itemRef(b)} leaves from ${leavesFrom} (${at(b)}): `
        + 'check the airports, or plan the transfer between them', a, b);
    }
    if (gap <= CONNECTION_MAX_MS) {
      const countries = new Set([a.details.departure_airport, landed, leaves, b.details.arrival_airport].map(country));
      const international = countries.size > 1;
      const minimum = international ? options.minConnectionMinutesInternational : options.minConnectionMinutes;
      if (gap < minimum * 60_000) {
        warn('short_connection', `only ${Math.round(gap / 60_000)} min between ${itemRef(a)} landing at ${landedAt} (${at(a, true)}) and ${itemRef(b)} `
          + `leaving ${leavesFrom} (${at(b)}); allow at least ${minimum} min${international ? ' for a connection across a border' : ''}`, a, b);
      }
    }
    // Nights on the ground between the two flights, each needing a stay.
    const uncovered = nights(a.endUtc, b.startUtc, a.endTz).filter((night) => !stays.some((s) => {
      const from = localDate(s.startUtc, s.startTz);
      const to = localDate(s.endUtc, s.endTz);
      return from <= night && night < to;
    }));
    if (uncovered.length > 0 && gap > 6 * 3_600_000) {
      warn('no_accommodation', `no stay for the night${uncovered.length > 1 ? 's' : ''} of ${uncovered.join(', ')} between ${itemRef(a)} `
        + `landing (${at(a, true)}) and ${itemRef(b)} leaving (${at(b)})`, a, b);
    }
  }

  for (let i = 0; i < stays.length; i++) {
    for (let j = i + 1; j < stays.length; j++) {
      const [a, b] = [stays[i]!, stays[j]!];
      if (overlaps(a, b)) {
        warn('overlapping_stays', `${itemRef(a)} (${at(a)} – ${at(a, true)}) and ${itemRef(b)} (${at(b)} – ${at(b, true)}) overlap: `
          + 'two places booked for the same night', a, b);
      }
    }
  }

  for (const stay of stays) {
    // The first flight landing in the stay's zone after its check-in, with no departure before it.
    const arriving = flights.find((f) => ms(f.endUtc) > ms(stay.startUtc) && ms(f.endUtc) < ms(stay.endUtc) && f.endTz === stay.startTz);
    const leftBefore = arriving && flights.some((f) => f !== arriving && ms(f.startUtc) >= ms(stay.startUtc) && ms(f.startUtc) < ms(arriving.startUtc));
    // Landing after the usual check-in hour on the same day is normal; a whole day earlier is not.
    if (arriving && !leftBefore && localDate(stay.startUtc, stay.startTz) < localDate(arriving.endUtc, stay.startTz)) {
      warn('checkin_before_arrival', `${itemRef(stay)} starts ${at(stay)}, before ${itemRef(arriving)} lands (${at(arriving, true)}): `
        + 'a night paid for but not used, or the wrong dates', stay, arriving);
    }
  }

  for (const activity of activities) {
    for (const flight of flights) {
      if (overlaps(activity, flight)) {
        warn('activity_during_flight', `${itemRef(activity)} (${at(activity)}) is while ${itemRef(flight)} is in the air (${at(flight)} – ${at(flight, true)})`,
          activity, flight);
      }
    }
  }
  return warnings;
}
