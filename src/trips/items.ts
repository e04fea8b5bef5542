// Pure helpers for items: normalising what users typed, merging changes, naming new trips.
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { ActivityDetailsSchema, FlightDetailsSchema, StayDetailsSchema } from '../model/schemas.js';
import { confirmationOf } from '../model/resolve.js';
import { localDate } from '../model/time.js';
import type { Item, ItemDetails, ItemKind, ItemTimes } from '../model/types.js';
import { canonicalZone } from '../../core/tz/names.js';

const DETAILS_SCHEMA: Record<ItemKind, z.ZodObject> = {
  flight: FlightDetailsSchema,
  stay: StayDetailsSchema,
  activity: ActivityDetailsSchema,
};

/** The item's details with `changes` applied (null removes a field), checked against its kind's schema. */
export function mergeChanges(old: Item, changes: Record<string, string | null>): ItemDetails {
  const merged: Record<string, unknown> = { ...old.details };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const parsed = DETAILS_SCHEMA[old.kind].strict().safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
    throw new InputError(`changes.${key}`, issue.code === 'unrecognized_keys' ? `not a field of a ${old.kind}` : issue.message);
  }
  return { kind: old.kind, details: parsed.data } as unknown as ItemDetails;
}

export function overlaps(a: { startUtc: string | null; endUtc: string | null }, b: { startUtc: string; endUtc: string }, marginMs: number): boolean {
  if (!a.startUtc || !a.endUtc) return false;
  return Date.parse(a.startUtc) - marginMs <= Date.parse(b.endUtc) && Date.parse(a.endUtc) + marginMs >= Date.parse(b.startUtc);
}

export function autoTitle(item: ItemDetails): string {
  switch (item.kind) {
    case 'flight':
      return `Trip to ${item.details.arrival_airport.toUpperCase()}`;
    case 'stay':
      return `Stay at ${item.details.name}`;
    case 'activity':
      return item.details.name;
  }
}

/** An item as stored: airport codes and flight numbers in capitals, a zone under its modern IANA name. */
export function normalizeItem(item: ItemDetails): ItemDetails {
  if (item.kind !== 'flight') {
    const zone = item.details.timezone && canonicalZone(item.details.timezone);
    return zone ? { ...item, details: { ...item.details, timezone: zone } } as ItemDetails : item;
  }
  const d = item.details;
  return {
    kind: 'flight',
    details: {
      ...d,
      departure_airport: d.departure_airport.toUpperCase(),
      arrival_airport: d.arrival_airport.toUpperCase(),
      flight_number: d.flight_number.replace(/\s+/g, '').toUpperCase(),
    },
  };
}

const flightKey = (number: string) => number.replace(/\s+/g, '').toUpperCase();

/**
 * The item a new one repeats, if any: a flight with the same number on the same local day, or a
 * stay or activity with the same kind and confirmation code. (A confirmation code alone does not
 * name a flight: every flight of a booking shares it.)
 */
export function sameAs(existing: Item, item: ItemDetails, times: ItemTimes): boolean {
  if (existing.kind !== item.kind) return false;
  if (item.kind === 'flight') {
    return existing.kind === 'flight' && flightKey(existing.details.flight_number) === flightKey(item.details.flight_number)
      && localDate(existing.startUtc, existing.startTz) === localDate(times.startUtc, times.startTz);
  }
  const code = confirmationOf(item);
  return code !== null && existing.confirmationCode?.toUpperCase() === code.toUpperCase();
}
