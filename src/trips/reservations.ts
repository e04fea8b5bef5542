// schema.org reservations (https://schema.org/Reservation), the JSON-LD airlines, hotels and
// booking sites put in confirmation e-mails and that KDE Itinerary's extractor writes: found in
// plain JSON, in HTML `<script type="application/ld+json">` blocks, or in an e-mail (MIME parts
// in base64 or quoted-printable), then mapped to tripcal items. Everything read here is data
// from a stranger: it only ever fills item fields, which the schemas clean and cap.
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import type { Item, ItemDetails } from '../model/types.js';
import { findJsonLd, MAX_JSON_DEPTH, MAX_RESERVATION_CHARS, tooDeep } from './booking-text.js';
import { placeZone } from './place-zone.js';
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
}

export interface SkippedReservation {
  type: string;
  reservation_number: string | null;
  reason: string;
}

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeOf = (n: Node): string => {
  const t = Array.isArray(n['@type']) ? n['@type'][0] : n['@type'];
  return typeof t === 'string' ? t.replace(/^https?:\/\/schema\.org\//, '') : '';
};
const str = (v: unknown): string | undefined => {
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
};
const obj = (v: unknown): Node => (Array.isArray(v) ? (v.find(isNode) ?? {}) : isNode(v) ? v : {});
const nameOf = (v: unknown): string | undefined => (typeof v === 'string' ? str(v) : str(obj(v).name));
/** addressCountry of a PostalAddress ("DE", "Germany" or a Country node), or of a place's address. */
const countryOf = (place: unknown): string | undefined => {
  const p = obj(place);
  return nameOf(obj(isNode(p.address) || Array.isArray(p.address) ? p.address : p).addressCountry);
};

/** A PostalAddress (or a plain string) as one line. */
function addressOf(v: unknown): string | undefined {
  if (typeof v === 'string') return str(v);
  const a = obj(v);
  const country = nameOf(a.addressCountry);
  const parts = [a.streetAddress, a.postalCode, a.addressLocality, a.addressRegion].map(str).filter(Boolean);
  if (country) parts.push(country);
  return parts.length ? parts.join(', ') : undefined;
}

/** A place (Place, Airport, LodgingBusiness…) as "Name, address". */
function placeOf(v: unknown): string | undefined {
  if (typeof v === 'string') return str(v);
  const p = obj(v);
  const parts = [str(p.name), addressOf(p.address)].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
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

// ---- mapping ---------------------------------------------------------------------------------

/** Items of one reservation, each with the country of its place when the booking names one (for its zone). */
type Mapped = Array<{ part: string; item: ItemDetails; country?: string }> | string;

/** "missing a, b" for the fields (path → value read) that are empty, or null when all are there. */
function missing(fields: Record<string, unknown>): string | null {
  const absent = Object.entries(fields).filter(([, v]) => !v).map(([path]) => path);
  return absent.length ? `missing ${absent.join(', ')}` : null;
}

function flight(r: Node, code: string | undefined): Mapped {
  const f = obj(r.reservationFor);
  const airline = obj(f.airline);
  const carrier = str(airline.iataCode) ?? '';
  const number = str(f.flightNumber);
  const from = obj(f.departureAirport);
  const to = obj(f.arrivalAirport);
  const lacking = missing({
    'reservationFor.flightNumber': number, 'reservationFor.departureAirport.iataCode': str(from.iataCode),
    'reservationFor.arrivalAirport.iataCode': str(to.iataCode), 'reservationFor.departureTime': str(f.departureTime),
    'reservationFor.arrivalTime': str(f.arrivalTime),
  });
  if (lacking) return lacking;
  const ticket = obj(r.reservedTicket);
  const seat = str(obj(ticket.ticketedSeat).seatNumber) ?? str(r.airplaneSeat);
  return [{
    part: `${carrier}${number}:${str(from.iataCode)}`,
    item: {
      kind: 'flight',
      details: {
        airline: nameOf(f.airline) ?? (carrier || 'Airline'),
        flight_number: !carrier || number!.toUpperCase().startsWith(carrier.toUpperCase()) ? number! : `${carrier}${number}`,
        departure_airport: str(from.iataCode)!, arrival_airport: str(to.iataCode)!,
        departure_time: str(f.departureTime)!, arrival_time: str(f.arrivalTime)!,
        confirmation_code: code, seat, terminal: str(f.departureTerminal),
      },
    },
  }];
}

function lodging(r: Node, code: string | undefined): Mapped {
  const place = obj(r.reservationFor);
  const lacking = missing({ 'reservationFor.name': nameOf(r.reservationFor), checkinTime: str(r.checkinTime), checkoutTime: str(r.checkoutTime) });
  if (lacking) return lacking;
  return [{
    part: 'stay',
    item: {
      kind: 'stay',
      details: {
        name: nameOf(r.reservationFor)!, address: addressOf(place.address), check_in: str(r.checkinTime)!, check_out: str(r.checkoutTime)!,
        confirmation_code: code, phone: str(place.telephone),
      },
    },
    country: countryOf(place),
  }];
}

function activity(name: string | undefined, start: unknown, end: unknown, location: string | undefined, code: string | undefined, part: string,
  description: string | undefined, place: unknown) {
  return {
    part,
    country: countryOf(place),
    item: { kind: 'activity' as const, details: { name: name!, start_time: str(start)!, end_time: str(end), location, confirmation_code: code, description } },
  };
}

function event(r: Node, code: string | undefined): Mapped {
  const e = obj(r.reservationFor);
  const lacking = missing({ 'reservationFor.name': str(e.name), 'reservationFor.startDate': str(e.startDate) });
  if (lacking) return lacking;
  return [activity(str(e.name), e.startDate, e.endDate, placeOf(e.location), code, 'event', undefined, e.location)];
}

function restaurant(r: Node, code: string | undefined): Mapped {
  const place = obj(r.reservationFor);
  const lacking = missing({ 'reservationFor.name': nameOf(r.reservationFor), startTime: str(r.startTime) });
  if (lacking) return lacking;
  const party = str(r.partySize);
  return [activity(`Table at ${nameOf(r.reservationFor)}`, r.startTime, r.endTime, addressOf(place.address) ?? nameOf(place),
    code, 'table', party ? `Party of ${party}` : undefined, place)];
}

function rentalCar(r: Node, code: string | undefined): Mapped {
  const car = obj(r.reservationFor);
  const company = nameOf(car.rentalCompany) ?? nameOf(r.provider) ?? nameOf(car.brand) ?? 'rental car';
  const lacking = missing({ pickupTime: str(r.pickupTime), dropoffTime: str(r.dropoffTime) });
  if (lacking) return lacking;
  const model = nameOf(car) ? ` (${nameOf(car)})` : '';
  // A timed pick-up or return lasts the default hour; a date alone stays one all-day event.
  const endOf = (t: unknown) => (/T\d\d:\d\d/.test(str(t)!) ? undefined : str(t));
  // Two short events, not one that marks the whole rental as busy. Only the pick-up carries the
  // confirmation code, so the return is not taken for a duplicate of it.
  return [
    activity(`Pick up car: ${company}${model}`, r.pickupTime, endOf(r.pickupTime), placeOf(r.pickupLocation), code, 'pickup', undefined, r.pickupLocation),
    activity(`Return car: ${company}`, r.dropoffTime, endOf(r.dropoffTime), placeOf(r.dropoffLocation), undefined, 'dropoff',
      code ? `Reservation ${code}` : undefined, r.dropoffLocation),
  ];
}

function ground(r: Node, code: string | undefined, kind: 'Train' | 'Bus'): Mapped {
  const trip = obj(r.reservationFor);
  const from = obj(kind === 'Train' ? trip.departureStation : trip.departureBusStop);
  const to = obj(kind === 'Train' ? trip.arrivalStation : trip.arrivalBusStop);
  const stop = kind === 'Train' ? 'Station' : 'BusStop';
  const lacking = missing({
    'reservationFor.departureTime': str(trip.departureTime), [`reservationFor.departure${stop}.name`]: nameOf(from), [`reservationFor.arrival${stop}.name`]: nameOf(to),
  });
  if (lacking) return lacking;
  const number = str(kind === 'Train' ? trip.trainNumber : trip.busNumber);
  const label = [kind, number].filter(Boolean).join(' ');
  const seat = obj(obj(r.reservedTicket).ticketedSeat);
  const seatText = [str(seat.seatSection) && `coach ${str(seat.seatSection)}`, str(seat.seatNumber) && `seat ${str(seat.seatNumber)}`].filter(Boolean).join(', ');
  return [activity(`${label} ${nameOf(from)} → ${nameOf(to)}`, trip.departureTime, trip.arrivalTime, placeOf(from), code,
    `${label}:${nameOf(from)}`, seatText ? `Seat: ${seatText}` : undefined, from)];
}

const MAPPERS: Record<string, (r: Node, code: string | undefined) => Mapped> = {
  FlightReservation: flight,
  LodgingReservation: lodging,
  EventReservation: event,
  FoodEstablishmentReservation: restaurant,
  RentalCarReservation: rentalCar,
  TrainReservation: (r, c) => ground(r, c, 'Train'),
  BusReservation: (r, c) => ground(r, c, 'Bus'),
};

const CANCELLED = /ReservationCancelled$/;

/**
 * Stays and activities the booking gives no zone for get the zone of their place (see
 * place-zone.ts): without one, a hotel's 15:00 check-in would be read in the trip's zone, which
 * is the first flight's destination and not always where the hotel is.
 */
function placeZones(found: FoundReservation[]): void {
  const landings = found.flatMap(({ item }) => (item.kind === 'flight' ? [{ airport: item.details.arrival_airport, time: item.details.arrival_time }] : []));
  for (const f of found) {
    if (f.item.kind === 'flight') continue;
    const start = f.item.kind === 'stay' ? f.item.details.check_in : f.item.details.start_time;
    const zone = placeZone(f.country, start, landings, { sameDay: f.item.kind === 'stay' });
    if (zone) f.item = { ...f.item, details: { ...f.item.details, timezone: zone } } as ItemDetails;
  }
}

/** The reservations in a file, mapped to items, and what was left out and why. */
export function readReservations(text: string): { found: FoundReservation[]; skipped: SkippedReservation[] } {
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
      skip(`${type} is not a kind tripcal imports (flights, lodging, events, restaurants, rental cars, trains, buses)`);
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
    const identity = code ?? createHash('sha256').update(JSON.stringify(node)).digest('hex').slice(0, 16);
    for (const { part, item, country } of mapped) {
      found.push({ type, reservationNumber: code ?? null, sourceUid: `schema.org:${type}:${identity}:${part}`, item, country });
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
export function importReservations(trips: Trips, userId: string | undefined, text: string, tripId?: string): ReservationImport {
  const { found, skipped } = readReservations(text);
  const result = trips.importItems(userId, found.map(({ item, sourceUid }) => ({ item, sourceUid })), tripId, false);
  for (const { index, reason } of result.failed) {
    const f = found[index]!;
    skipped.push({ type: f.type, reservation_number: f.reservationNumber, reason: reason.replace(/^events\[\d+\]\./, '') });
  }
  return { created: result.created, updated: result.updated, unchanged: result.unchanged, skipped };
}
