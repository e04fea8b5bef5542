// schema.org reservations (https://schema.org/Reservation), the JSON-LD airlines, hotels and
// booking sites put in confirmation e-mails and that KDE Itinerary's extractor writes: found in
// plain JSON, in HTML `<script type="application/ld+json">` blocks, or in an e-mail (MIME parts
// in base64 or quoted-printable), then mapped to tripcal items. Everything read here is data
// from a stranger: it only ever fills item fields, which the schemas clean and cap. What each
// reservation type becomes is reservation-kinds.ts.
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { hasUtcOffset } from '../model/time.js';
import type { Item, ItemDetails } from '../model/types.js';
import { findJsonLd, MAX_JSON_DEPTH, MAX_RESERVATION_CHARS, tooDeep } from './booking-text.js';
import { canonicalZone } from '../../core/tz/names.js';
import { coordinateZone } from './coordinate-zone.js';
import { countryCode, placeZone, showsOffset } from './place-zone.js';
import { isNode, MAPPERS, str, typeOf, type Geo, type Node } from './reservation-kinds.js';
import type { Trips } from './service.js';

export interface FoundReservation {
  /** The schema.org type, e.g. FlightReservation. */
  type: string;
  reservationNumber: string | null;
  /** Stable per reservation and part: the same booking imported again finds its item. */
  sourceUid: string;
  item: ItemDetails;
  /** The country of the place, as the booking names it. */
  country?: string;
  /** The place's coordinates, when the booking gives them. */
  geo?: Geo;
  /** The zone the booking gives the start time in (KDE's extractor does). */
  zone?: string;
}

export interface SkippedReservation {
  type: string;
  reservation_number: string | null;
  reason: string;
}

// ---- finding the JSON-LD ---------------------------------------------------------------------

/**
 * Reservations read from one file at most; a file with more is refused whole, never cut short.
 * 1,000 import in under a second; a file of that many is already a whole agency's bookings.
 */
export const MAX_RESERVATIONS = 1_000;

/**
 * Every node whose type ends in Reservation, from arrays, @graph and nesting, in document order.
 * An explicit stack, not recursion: JSON nested thousands deep is refused with a message, never
 * a stack overflow. A file with more reservations than tripcal imports at once is refused whole.
 */
function reservationNodes(values: unknown[]): Node[] {
  const found: Node[] = [];
  const stack: Array<[value: unknown, depth: number, inside: boolean]> = [];
  for (let i = values.length - 1; i >= 0; i--) stack.push([values[i], 1, false]);
  while (stack.length > 0) {
    const [v, depth, inside] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) {
      throw tooDeep();
    }
    let children: unknown[];
    let below = inside;
    if (Array.isArray(v)) children = v;
    else if (isNode(v)) {
      if (!inside && typeOf(v).endsWith('Reservation')) {
        found.push(v);
        if (found.length > MAX_RESERVATIONS) {
          throw new InputError('content', `more than ${MAX_RESERVATIONS} reservations in one file; tripcal imports at most ${MAX_RESERVATIONS} at once, split the file (nothing was imported)`);
        }
        // What a reservation holds is read by its mapper, not searched for more reservations;
        // it is still walked, so its depth is checked before JSON.stringify sees it.
        below = true;
      }
      children = Object.values(v);
    } else continue;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1, below]);
    }
  }
  return found;
}

// ---- mapping (what each type becomes: reservation-kinds.ts) ----------------------------------

const CANCELLED = /ReservationCancelled$/;

/**
 * The zone the booking itself says for a place: the one its start time carries, else the one at
 * its coordinates (a station's, a terminal's); a start given with an offset only takes a zone
 * that shows that offset, so the instant never moves.
 */
function bookedZone(f: FoundReservation, start: string): string | undefined {
  const given = f.zone ? canonicalZone(f.zone) ?? undefined : undefined;
  const located = f.geo ? coordinateZone(f.geo.latitude, f.geo.longitude, countryCode(f.country)) : undefined;
  return [given, located].find((zone) => zone !== undefined && (!hasUtcOffset(start) || showsOffset(zone, start)));
}

/**
 * Stays and activities the booking gives no zone for get the zone of their place: the booking's
 * own (bookedZone), else what place-zone.ts infers. Without one, a hotel's 15:00 check-in would
 * be read in the trip's zone, which is the first flight's destination and not always where the
 * hotel is.
 */
function placeZones(found: FoundReservation[]): void {
  const landings = found.flatMap(({ item }) => (item.kind === 'flight' ? [{ airport: item.details.arrival_airport, time: item.details.arrival_time }] : []));
  for (const f of found) {
    if (f.item.kind === 'flight') continue;
    const start = f.item.kind === 'stay' ? f.item.details.check_in : f.item.details.start_time;
    const zone = bookedZone(f, start) ?? placeZone(f.country, start, landings, { sameDay: f.item.kind === 'stay' });
    if (zone) f.item = { ...f.item, details: { ...f.item.details, timezone: zone } } as ItemDetails;
  }
}

export interface ReadOptions {
  /**
   * Keys left out of the identity of a reservation without a number: KDE's extractor writes the
   * date it was told the document arrived as modifiedTime, which must not make the same ticket
   * imported another day a new item.
   */
  volatileKeys?: readonly string[];
}

/** The reservations in a file, mapped to items, and what was left out and why. */
export function readReservations(text: string, options: ReadOptions = {}): { found: FoundReservation[]; skipped: SkippedReservation[] } {
  if (text.length > MAX_RESERVATION_CHARS) {
    throw new InputError('content', `${text.length.toLocaleString('en-US')} characters; a booking document may be at most ${MAX_RESERVATION_CHARS.toLocaleString('en-US')} (5 MB), nothing was imported`);
  }
  const { values, errors } = findJsonLd(text);
  const skipped: SkippedReservation[] = errors.map((reason) => ({ type: 'JSON-LD', reservation_number: null, reason }));
  const found: FoundReservation[] = [];
  const nodes = reservationNodes(values);
  if (nodes.length === 0 && errors.length === 0) {
    skipped.push({ type: 'JSON-LD', reservation_number: null, reason: values.length ? 'no schema.org Reservation in the JSON-LD' : 'no JSON-LD found (expected JSON, or HTML / an e-mail with <script type="application/ld+json">)' });
  }
  for (const node of nodes) {
    const type = typeOf(node);
    const code = str(node.reservationNumber) ?? str(node.confirmationNumber);
    const skip = (reason: string) => skipped.push({ type, reservation_number: code ?? null, reason });
    const mapper = MAPPERS[type];
    if (!mapper) {
      skip(`${type} is not a kind tripcal imports (flights, lodging, events, restaurants, rental cars, trains, buses, ferries)`);
      continue;
    }
    if (CANCELLED.test(str(node.reservationStatus) ?? '')) {
      skip('the reservation is cancelled');
      continue;
    }
    const mapped = mapper(node, code);
    if (typeof mapped === 'string') {
      skip(mapped);
      continue;
    }
    const stable = options.volatileKeys?.length ? JSON.stringify(node, (key, value) => (options.volatileKeys!.includes(key) ? undefined : value)) : JSON.stringify(node);
    const identity = code ?? createHash('sha256').update(stable).digest('hex').slice(0, 16);
    for (const { part, item, country, geo, zone } of mapped) {
      found.push({ type, reservationNumber: code ?? null, sourceUid: `schema.org:${type}:${identity}:${part}`, item, country, geo, zone });
    }
  }
  placeZones(found);
  return { found, skipped };
}

export interface ReservationImport {
  created: Item[];
  updated: Item[];
  unchanged: Item[];
  skipped: SkippedReservation[];
}

/** Adds the file's reservations as items; a reservation imported again updates its item instead. */
export async function importReservations(trips: Trips, userId: string | undefined, text: string, tripId?: string): Promise<ReservationImport> {
  return importFound(trips, userId, readReservations(text), tripId);
}

/** Adds reservations already read; what the store refuses joins `skipped` with its reason. */
export async function importFound(trips: Trips, userId: string | undefined, { found, skipped }: ReturnType<typeof readReservations>, tripId?: string): Promise<ReservationImport> {
  const result = await trips.importItems(userId, found.map(({ item, sourceUid }) => ({ item, sourceUid })), tripId, false);
  for (const { index, reason } of result.failed) {
    const f = found[index]!;
    skipped.push({ type: f.type, reservation_number: f.reservationNumber, reason: reason.replace(/^events\[\d+\]\./, '') });
  }
  return { created: result.created, updated: result.updated, unchanged: result.unchanged, skipped };
}
