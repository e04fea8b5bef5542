// A trip's span: the dates the user set, widened to cover every item. Pure.
import { DateTime } from 'luxon';
import { localDate, toUtcIso } from '../model/time.js';
import type { Item, Trip } from '../model/types.js';

/** The zone in which a trip's own dates and context-free stays/activities are read. */
export function tripZone(trip: Pick<Trip, 'timezone'>, items: readonly Item[], userZone: string): string {
  if (trip.timezone) return trip.timezone;
  const firstFlight = items.find((i) => i.kind === 'flight');
  if (firstFlight) return firstFlight.endTz;
  return items[0]?.startTz ?? userZone;
}

export interface Span {
  startUtc: string | null;
  endUtc: string | null;
}

export function tripSpan(trip: Pick<Trip, 'startDate' | 'endDate'>, items: readonly Item[], zone: string): Span {
  const starts = items.map((i) => i.startUtc);
  const ends = items.map((i) => i.endUtc);
  if (trip.startDate) starts.push(toUtcIso(DateTime.fromISO(trip.startDate, { zone })));
  if (trip.endDate) ends.push(toUtcIso(DateTime.fromISO(trip.endDate, { zone }).plus({ days: 1 })));
  if (trip.startDate && !trip.endDate) ends.push(toUtcIso(DateTime.fromISO(trip.startDate, { zone }).plus({ days: 1 })));
  if (trip.endDate && !trip.startDate) starts.push(toUtcIso(DateTime.fromISO(trip.endDate, { zone })));
  if (starts.length === 0) return { startUtc: null, endUtc: null };
  return { startUtc: starts.reduce((a, b) => (a < b ? a : b)), endUtc: ends.reduce((a, b) => (a > b ? a : b)) };
}

/** The first and last local dates the trip covers, each end read in its own item's zone. */
export function tripDates(trip: Pick<Trip, 'startDate' | 'endDate'>, items: readonly Item[]): { start: string | null; end: string | null } {
  const starts = items.map((i) => localDate(i.startUtc, i.startTz));
  // An exclusive end at local midnight (all-day items) belongs to the day before.
  const ends = items.map((i) => localDate(toUtcIso(DateTime.fromISO(i.endUtc).minus({ seconds: 1 })), i.endTz));
  if (trip.startDate) starts.push(trip.startDate);
  if (trip.endDate) ends.push(trip.endDate);
  const start = starts.length ? starts.reduce((a, b) => (a < b ? a : b)) : null;
  const end = ends.length ? ends.reduce((a, b) => (a > b ? a : b)) : start;
  return { start, end };
}
