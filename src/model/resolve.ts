// Turns what a user typed for an item into its times: which zone each end is in and the instant
// it happens. Pure; every error names the input field (with the caller's path prefix).
import { DateTime } from 'luxon';
import { InputError } from '../errors.js';
import { airportByCode } from './airports.js';
import { dayStart, isDateOnly, nextDate, parseDate, parseDateTime, requireZone, toUtcIso } from './time.js';
import type { ActivityDetails, FlightDetails, ItemDetails, ItemTimes, StayDetails } from './types.js';

/** Longest plausible single flight leg; anything longer is almost surely a mistyped date. */
const MAX_FLIGHT_HOURS = 30;
const DEFAULT_CHECK_IN = { hour: 15, minute: 0 };
const DEFAULT_CHECK_OUT = { hour: 11, minute: 0 };
const DEFAULT_ACTIVITY_MINUTES = 60;

function field(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function requireAfter(start: DateTime, end: DateTime, endField: string, what: string): void {
  if (end.toMillis() <= start.toMillis()) {
    throw new InputError(endField, `${what} (${end.toISO()}) must be after the start (${start.toISO()})`);
  }
}

export function resolveFlight(d: FlightDetails, path: string): ItemTimes {
  const from = airportByCode(d.departure_airport, field(path, 'departure_airport'));
  const to = airportByCode(d.arrival_airport, field(path, 'arrival_airport'));
  const start = parseDateTime(d.departure_time, from.timezone, field(path, 'departure_time'));
  const end = parseDateTime(d.arrival_time, to.timezone, field(path, 'arrival_time'));
  requireAfter(start, end, field(path, 'arrival_time'), 'the arrival');
  const hours = end.diff(start, 'hours').hours;
  if (hours > MAX_FLIGHT_HOURS) {
    throw new InputError(field(path, 'arrival_time'), `the flight would last ${Math.round(hours)} hours; check the dates`);
  }
  return { startUtc: toUtcIso(start), endUtc: toUtcIso(end), startTz: from.timezone, endTz: to.timezone, allDay: false };
}

function localDateTimeOrDefault(value: string, zone: string, fieldName: string, fallback: { hour: number; minute: number }): DateTime {
  if (isDateOnly(value)) {
    const wall = `${parseDate(value, fieldName)}T${String(fallback.hour).padStart(2, '0')}:${String(fallback.minute).padStart(2, '0')}`;
    return parseDateTime(wall, zone, fieldName);
  }
  return parseDateTime(value, zone, fieldName);
}

export function resolveStay(d: StayDetails, fallbackZone: string, path: string): ItemTimes {
  const zone = d.timezone ? requireZone(d.timezone, field(path, 'timezone')) : fallbackZone;
  const start = localDateTimeOrDefault(d.check_in, zone, field(path, 'check_in'), DEFAULT_CHECK_IN);
  const end = localDateTimeOrDefault(d.check_out, zone, field(path, 'check_out'), DEFAULT_CHECK_OUT);
  requireAfter(start, end, field(path, 'check_out'), 'the check-out');
  return { startUtc: toUtcIso(start), endUtc: toUtcIso(end), startTz: zone, endTz: zone, allDay: false };
}

export function resolveActivity(d: ActivityDetails, fallbackZone: string, path: string): ItemTimes {
  const zone = d.timezone ? requireZone(d.timezone, field(path, 'timezone')) : fallbackZone;
  const startField = field(path, 'start_time');
  const endField = field(path, 'end_time');
  if (isDateOnly(d.start_time)) {
    // An all-day activity: the end date is the last day it covers (inclusive), as people write it.
    // Each end is the first instant of its local day, so a day whose midnight the clocks skip
    // (America/Santiago, 7 September 2025) still starts and ends where that zone's day does.
    const first = parseDate(d.start_time, startField);
    const last = d.end_time ? parseDate(d.end_time, endField) : first;
    if (last < first) throw new InputError(endField, `the last day (${d.end_time}) is before the first (${d.start_time})`);
    return { startUtc: toUtcIso(dayStart(first, zone)), endUtc: toUtcIso(dayStart(nextDate(last), zone)), startTz: zone, endTz: zone, allDay: true };
  }
  const start = parseDateTime(d.start_time, zone, startField);
  const end = d.end_time ? parseDateTime(d.end_time, zone, endField) : start.plus({ minutes: DEFAULT_ACTIVITY_MINUTES });
  requireAfter(start, end, endField, 'the end');
  return { startUtc: toUtcIso(start), endUtc: toUtcIso(end), startTz: zone, endTz: zone, allDay: false };
}

/** Whether the item's local times depend on a zone chosen by context (trip or user). */
export function needsContextZone(item: ItemDetails): boolean {
  return item.kind !== 'flight' && !item.details.timezone;
}

export function resolveTimes(item: ItemDetails, fallbackZone: string, path: string): ItemTimes {
  switch (item.kind) {
    case 'flight':
      return resolveFlight(item.details, path);
    case 'stay':
      return resolveStay(item.details, fallbackZone, path);
    case 'activity':
      return resolveActivity(item.details, fallbackZone, path);
  }
}

export function confirmationOf(item: ItemDetails): string | null {
  return item.details.confirmation_code?.trim() || null;
}
