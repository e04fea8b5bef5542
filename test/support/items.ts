// Builds model items as plain values for the pure tests (events, export), the way Trips would.
import { resolveTimes } from '../../src/model/resolve.js';
import type { Item, ItemDetails } from '../../src/model/types.js';

let counter = 0;

export function makeItem(spec: ItemDetails, options: { zone?: string; remind?: number; tripId?: string; id?: string } = {}): Item {
  counter += 1;
  const times = resolveTimes(spec, options.zone ?? 'UTC', 'details');
  return {
    ...spec,
    ...times,
    id: options.id ?? `item_test${String(counter).padStart(4, '0')}`,
    tripId: options.tripId ?? 'trip_test',
    userId: 'me',
    remindBeforeHours: options.remind ?? 24,
    confirmationCode: spec.details.confirmation_code ?? null,
    sourceUid: null,
    version: 1,
    createdAt: '2025-01-01T00:00:00Z',
    updatedAt: '2025-01-01T00:00:00Z',
  } as Item;
}

export function flight(airline: string, number: string, from: string, to: string, departs: string, arrives: string, extra: Record<string, string> = {}): ItemDetails {
  return {
    kind: 'flight',
    details: { airline, flight_number: number, departure_airport: from, arrival_airport: to, departure_time: departs, arrival_time: arrives, ...extra },
  };
}
