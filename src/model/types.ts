// The trip domain: a user has trips; a trip has items (flights, stays, activities). Times are
// kept as UTC instants plus the IANA zone each end happens in.

export type ItemKind = 'flight' | 'stay' | 'activity';

export interface FlightDetails {
  airline: string;
  flight_number: string;
  departure_airport: string;
  arrival_airport: string;
  departure_time: string;
  arrival_time: string;
  confirmation_code?: string;
  seat?: string;
  terminal?: string;
  notes?: string;
}

export interface StayDetails {
  name: string;
  address?: string;
  check_in: string;
  check_out: string;
  confirmation_code?: string;
  phone?: string;
  timezone?: string;
  notes?: string;
}

export interface ActivityDetails {
  name: string;
  location?: string;
  start_time: string;
  end_time?: string;
  description?: string;
  timezone?: string;
  confirmation_code?: string;
}

export type ItemDetails =
  | { kind: 'flight'; details: FlightDetails }
  | { kind: 'stay'; details: StayDetails }
  | { kind: 'activity'; details: ActivityDetails };

/** What an item's times resolve to; all-day items start and end at local midnight. */
export interface ItemTimes {
  startUtc: string;
  endUtc: string;
  startTz: string;
  endTz: string;
  allDay: boolean;
}

export type Item = ItemDetails &
  ItemTimes & {
    id: string;
    tripId: string;
    userId: string;
    remindBeforeHours: number;
    confirmationCode: string | null;
    sourceUid: string | null;
    version: number;
    createdAt: string;
    updatedAt: string;
  };

export interface Trip {
  id: string;
  userId: string;
  title: string;
  timezone: string | null;
  notes: string | null;
  /** Dates the user set; the trip's span also covers every item. */
  startDate: string | null;
  endDate: string | null;
  startUtc: string | null;
  endUtc: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface User {
  id: string;
  timezone: string;
  createdAt: string;
}
