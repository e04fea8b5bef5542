// Pure helpers for items: normalising what users typed, merging changes, naming new trips.
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { ActivityDetailsSchema, FlightDetailsSchema, StayDetailsSchema } from '../model/schemas.js';
import type { Item, ItemDetails, ItemKind } from '../model/types.js';

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

export function normalizeFlight(item: ItemDetails): ItemDetails {
  if (item.kind !== 'flight') return item;
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

