// A trip's zone and span: the dates the user set, widened to cover every item. Pure; the store
// computes a trip's extent in one query, so adding to a long trip does not read all its items.
import { DateTime } from 'luxon';
import { dayStart, localDate, nextDate, toUtcIso } from '../model/time.js';
import type { Item, Trip } from '../model/types.js';

/** What the zone and span of a trip depend on, from its items. */
export interface TripExtent {
  /** Arrival zone of the trip's first flight. */
  firstFlightEndTz: string | null;
  /** Start zone of the trip's first item. */
  firstItemStartTz: string | null;
  startUtc: string | null;
  endUtc: string | null;
}

/** The extent of items already in memory (items in time order). */
export function extentOf(items: readonly Item[]): TripExtent {
  return {
    firstFlightEndTz: items.find((i) => i.kind === 'flight')?.endTz ?? null,
    firstItemStartTz: items[0]?.startTz ?? null,
    startUtc: items.length ? items.map((i) => i.startUtc).reduce((a, b) => (a < b ? a : b)) : null,
    endUtc: items.length ? items.map((i) => i.endUtc).reduce((a, b) => (a > b ? a : b)) : null,
  };
}

/** The zone in which a trip's own dates and context-free stays/activities are read. */
export function tripZone(trip: Pick<Trip, 'timezone'>, extent: TripExtent, userZone: string): string {
  return trip.timezone ?? extent.firstFlightEndTz ?? extent.firstItemStartTz ?? userZone;
}

export interface Span {
  startUtc: string | null;
  endUtc: string | null;
}

export function tripSpan(trip: Pick<Trip, 'startDate' | 'endDate'>, extent: TripExtent, zone: string): Span {
  const starts = extent.startUtc ? [extent.startUtc] : [];
  const ends = extent.endUtc ? [extent.endUtc] : [];
  if (trip.startDate) starts.push(toUtcIso(dayStart(trip.startDate, zone)));
  if (trip.endDate) ends.push(toUtcIso(dayStart(nextDate(trip.endDate), zone)));
  if (trip.startDate && !trip.endDate) ends.push(toUtcIso(dayStart(nextDate(trip.startDate), zone)));
  if (trip.endDate && !trip.startDate) starts.push(toUtcIso(dayStart(trip.endDate, zone)));
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

export const EMPTY_EXTENT: TripExtent = { firstFlightEndTz: null, firstItemStartTz: null, startUtc: null, endUtc: null };
