// Free/busy pieces for the Google provider: the windows one freeBusy query may cover (Google
// refuses spans of more than about 90 days, "timeRangeTooLong": reference §8, and third-party
// reports such as cal.com's), and busy time from a calendar's own events.
import { offsetAt } from '../../core/tz/zones.js';
import type { BusyInterval } from '../types.js';
import { keyOf, utcOf, type Event } from './events.js';

export const MAX_FREEBUSY_DAYS = 90;
/** Calendars per freeBusy query (reference §8: calendarExpansionMax ≤ 50). */
export const MAX_FREEBUSY_CALENDARS = 50;

/** [from, to) cut into consecutive windows of at most MAX_FREEBUSY_DAYS. */
export function freeBusyWindows(from: string, to: string): Array<[string, string]> {
  const windows: Array<[string, string]> = [];
  const step = MAX_FREEBUSY_DAYS * 86_400_000;
  for (let start = Date.parse(from); start < Date.parse(to); start += step) {
    windows.push([utcOf(new Date(start).toISOString()), utcOf(new Date(Math.min(start + step, Date.parse(to))).toISOString())]);
  }
  return windows;
}

export function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Midnight of a date in a zone, as an instant (all-day events block the day where the calendar is). */
function midnight(date: string, zone: string): string {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  const guess = utcMidnight - offsetAt(zone, utcMidnight) * 60_000;
  return utcOf(new Date(utcMidnight - offsetAt(zone, guess) * 60_000).toISOString());
}

/**
 * Busy time in [from, to) from a calendar's events that are not ours, the way Google's own
 * free/busy counts it: not cancelled, not transparent, not declined by the user.
 */
export function busyFromEvents(events: readonly Event[], zone: string, from: string, to: string, calendar: string): BusyInterval[] {
  const busy: BusyInterval[] = [];
  for (const event of events) {
    if (event.status === 'cancelled' || event.transparency === 'transparent' || keyOf(event)) continue;
    if (event.attendees?.some((a) => a.self && a.responseStatus === 'declined')) continue;
    const at = (t: Event['start']) => (t?.date ? midnight(t.date, zone) : utcOf(t?.dateTime ?? from));
    const start = at(event.start) < from ? from : at(event.start);
    const end = at(event.end) > to ? to : at(event.end);
    if (start < end) busy.push({ start, end, calendar });
  }
  return busy;
}
