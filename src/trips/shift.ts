// Moving a whole trip in time (shift_trip): every item's times move by the same duration in
// local wall-clock time, in the zone each time is in, so a flight at 10:00 stays at 10:00 a week
// later even across a DST change. Dates alone (all-day items, stays given by date) move by whole
// days. A time moved onto one the clocks skip (02:40 on the night clocks go forward) is refused,
// naming the item and field, as add_flight refuses it: never silently moved by the gap. Pure:
// an item in, the detail changes out.
import { DateTime, Duration } from 'luxon';
import { InputError } from '../errors.js';
import { isDateOnly } from '../model/time.js';
import type { Item } from '../model/types.js';
import { instantsOfWall, wallClock } from '../../core/tz/zones.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** The wall clock of `utc` in `zone`, moved by `shift` as a clock face moves (days of 24 hours). */
function movedWallTime(utc: string, zone: string, shift: Duration): { text: string; asUtc: number } {
  const w = wallClock(Date.parse(utc), zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) + shift.as('milliseconds');
  const d = new Date(asUtc);
  const text = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
    + (d.getUTCSeconds() ? `:${pad(d.getUTCSeconds())}` : '');
  return { text, asUtc };
}

/** `P7D`, `PT3H`, `-P1D`, `P1DT2H30M`: an ISO 8601 duration (days, hours, minutes; a leading minus moves back). */
export function parseShift(text: string, field: string): Duration {
  const negative = text.trim().startsWith('-');
  const duration = Duration.fromISO(text.trim().replace(/^-/, ''));
  if (!duration.isValid || duration.years || duration.months || duration.weeks && duration.days) {
    throw new InputError(field, `"${text}" is not a duration such as P7D (a week later), -P1D (a day earlier) or PT2H30M`);
  }
  const shift = negative ? duration.negate() : duration;
  if (shift.as('minutes') === 0) throw new InputError(field, 'a duration of zero moves nothing');
  if (Math.abs(shift.as('days')) > 3660) throw new InputError(field, 'at most ten years');
  return shift;
}

const FIELDS = { flight: ['departure_time', 'arrival_time'], stay: ['check_in', 'check_out'], activity: ['start_time', 'end_time'] } as const;

/** The changes that move one item: each time field it has, moved in its own zone. */
export function shiftedChanges(item: Item, shift: Duration, field: string): Record<string, string> {
  const [startField, endField] = FIELDS[item.kind];
  const changes: Record<string, string> = {};
  const details = item.details as unknown as Record<string, string | undefined>;
  const move = (name: string, utc: string, zone: string) => {
    const given = details[name];
    if (given === undefined) return;
    if (isDateOnly(given)) {
      if (shift.as('minutes') % 1440 !== 0) throw new InputError(field, `${item.id} has dates without times; move it by whole days (e.g. P1D)`);
      changes[name] = DateTime.fromISO(given, { zone: 'utc' }).plus({ days: shift.as('days') }).toISODate()!;
      return;
    }
    const moved = movedWallTime(utc, zone, shift);
    if (instantsOfWall(moved.asUtc, zone).length === 0) {
      throw new InputError(field, `${item.kind} ${item.id} ${name} would be ${moved.text} in ${zone}, a time the clocks skip at a daylight-saving `
        + 'change; nothing was moved. Shift the trip by another amount, or move that item with update_item first');
    }
    changes[name] = moved.text;
  };
  move(startField, item.startUtc, item.startTz);
  // An activity's end_time as given, an all-day one's end date (inclusive) or a stay's check-out.
  move(endField, item.endUtc, item.endTz);
  return changes;
}
