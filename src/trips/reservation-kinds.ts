// How each schema.org reservation type becomes tripcal items (flights, stays, activities): the
// fields each one needs, and what a partly filled one is missing. What is read is data from a
// stranger: it only ever fills item fields, which the schemas clean and cap. Finding the
// reservations in a file is reservations.ts.
import type { ItemDetails } from '../model/types.js';

export type Node = Record<string, unknown>;

export const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
export const typeOf = (n: Node): string => {
  const t = Array.isArray(n['@type']) ? n['@type'][0] : n['@type'];
  return typeof t === 'string' ? t.replace(/^https?:\/\/schema\.org\//, '') : '';
};
export const str = (v: unknown): string | undefined => {
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (typeof v === 'number') return String(v);
  // KDE's extractor writes a time it knows the zone of as {"@type": "QDateTime", "@value", "timezone"}.
  if (isNode(v) && typeOf(v) === 'QDateTime') return str(v['@value']);
  return undefined;
};
/** The IANA zone a time carries (KDE's QDateTime), as the booking says it; checked where it is used. */
const zoneOf = (v: unknown): string | undefined => (isNode(v) && typeOf(v) === 'QDateTime' ? str(v.timezone) : undefined);
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

/** Where a place is, when the booking says it (KDE's extractor does for stations and airports). */
export interface Geo { latitude: number; longitude: number }

/**
 * Items of one reservation, each with what the booking says of its place's zone (for stays and
 * activities): the country, the coordinates, and the zone its start time carries.
 */
export type Mapped = Array<{ part: string; item: ItemDetails; country?: string; geo?: Geo; zone?: string }> | string;

function geoOf(place: unknown): Geo | undefined {
  const g = obj(obj(place).geo);
  const latitude = Number(g.latitude);
  const longitude = Number(g.longitude);
  return typeof g.latitude !== 'undefined' && typeof g.longitude !== 'undefined' && Number.isFinite(latitude) && Number.isFinite(longitude) ? { latitude, longitude } : undefined;
}

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
  const day = str(f.departureDay);
  if (lacking && day && number && str(from.iataCode) && str(to.iataCode)) {
    // What a boarding pass's barcode holds: the flight and its date, never its times.
    return `${lacking}: the document names ${carrier}${number} ${str(from.iataCode)}→${str(to.iataCode)} on ${day} but not its departure and arrival times`
      + ' (a boarding-pass barcode holds only the date); import the booking confirmation, or add the flight with its times';
  }
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
    geo: geoOf(place),
    zone: zoneOf(r.checkinTime),
  }];
}

function activity(name: string | undefined, start: unknown, end: unknown, location: string | undefined, code: string | undefined, part: string,
  description: string | undefined, place: unknown) {
  return {
    part,
    country: countryOf(place),
    geo: geoOf(place),
    zone: zoneOf(start),
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

/** Per kind of ground or sea trip: the schema.org name of its stops, of its number, and what the item calls it. */
const GROUND = {
  Train: { stop: 'Station', number: 'trainNumber', label: 'Train' },
  Bus: { stop: 'BusStop', number: 'busNumber', label: 'Bus' },
  Boat: { stop: 'BoatTerminal', number: undefined, label: 'Ferry' },
} as const;

function ground(r: Node, code: string | undefined, kind: keyof typeof GROUND): Mapped {
  const trip = obj(r.reservationFor);
  const { stop, number: numberKey, label: word } = GROUND[kind];
  const from = obj(trip[`departure${stop}`]);
  const to = obj(trip[`arrival${stop}`]);
  const lacking = missing({
    'reservationFor.departureTime': str(trip.departureTime), [`reservationFor.departure${stop}.name`]: nameOf(from), [`reservationFor.arrival${stop}.name`]: nameOf(to),
  });
  if (lacking) return lacking;
  const number = numberKey ? str(trip[numberKey]) : undefined;
  const label = [word, number].filter(Boolean).join(' ');
  const seat = obj(obj(r.reservedTicket).ticketedSeat);
  const seatText = [str(seat.seatSection) && `coach ${str(seat.seatSection)}`, str(seat.seatNumber) && `seat ${str(seat.seatNumber)}`].filter(Boolean).join(', ');
  return [activity(`${label} ${nameOf(from)} → ${nameOf(to)}`, trip.departureTime, trip.arrivalTime, placeOf(from), code,
    `${label}:${nameOf(from)}`, seatText ? `Seat: ${seatText}` : undefined, from)];
}

/** The mapper of each reservation type tripcal imports: its items, or why the reservation cannot be one. */
export const MAPPERS: Record<string, (r: Node, code: string | undefined) => Mapped> = {
  FlightReservation: flight,
  LodgingReservation: lodging,
  EventReservation: event,
  FoodEstablishmentReservation: restaurant,
  RentalCarReservation: rentalCar,
  TrainReservation: (r, c) => ground(r, c, 'Train'),
  BusReservation: (r, c) => ground(r, c, 'Bus'),
  BoatReservation: (r, c) => ground(r, c, 'Boat'),
};
